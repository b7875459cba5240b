package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Key names a topic-partition.
type Key struct {
	Topic     string
	Partition int32
}

// Manager owns the partitions this broker hosts and keeps them in line with
// the cluster image.
type Manager struct {
	dataDir string
	nodeID  int32
	broker  *config.Broker
	fsys    fs.FS
	lg      *slog.Logger
	clock   Clock
	clean   bool

	syncMu sync.Mutex // serialises Sync
	mu     sync.Mutex // serialises changes to parts
	// parts is copy-on-write: the produce and fetch paths look partitions
	// up without taking any lock shared across partitions.
	parts atomic.Pointer[map[Key]*Partition]

	// hwLoaded is the high-watermark checkpoint read at startup; hwMu
	// also serialises writing it.
	hwMu     sync.Mutex
	hwLoaded map[Key]int64

	// cleaner compacts the logs of compacted topics; nil when
	// log.cleaner.enable is false. Run owns its goroutine.
	cleaner *log.Cleaner

	// pidExpiryMs is producer.id.expiration.ms as the image last set it
	// (a dynamic broker setting), else the static one.
	pidExpiryMs atomic.Int64

	// health is the log directory's state (manager_offline.go).
	health dirHealth
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	DataDir       string
	NodeID        int32
	Broker        *config.Broker
	FS            fs.FS
	Logger        *slog.Logger
	Clock         Clock
	CleanShutdown bool
}

// NewManager returns a Manager with no partitions; Sync opens them.
func NewManager(o ManagerOptions) (*Manager, error) {
	m := &Manager{
		dataDir: o.DataDir, nodeID: o.NodeID, broker: o.Broker,
		fsys: o.FS, lg: o.Logger, clock: o.Clock, clean: o.CleanShutdown,
	}
	m.parts.Store(&map[Key]*Partition{})
	m.pidExpiryMs.Store(o.Broker.Int("producer.id.expiration.ms", defaultProducerIDExpirationMs))
	hws, err := loadHWCheckpoint(o.FS, o.DataDir)
	if err != nil {
		o.Logger.Warn("ignoring the high watermark checkpoint", "err", err)
		hws = map[Key]int64{}
	}
	m.hwLoaded = hws
	if strings.EqualFold(o.Broker.Values["log.cleaner.enable"], "true") {
		cc := log.CleanerConfig{}.Defaults()
		num := func(name string) int64 {
			f, _ := strconv.ParseFloat(strings.TrimSpace(o.Broker.Values[name]), 64)
			return int64(f)
		}
		cc.IOMaxBytesPerSecond = num("log.cleaner.io.max.bytes.per.second")
		cc.BackoffMs = num("log.cleaner.backoff.ms")
		cc.DedupeBufferSize = num("log.cleaner.dedupe.buffer.size")
		c, err := log.NewCleaner(cc, o.Logger.With("component", "cleaner"), o.Clock)
		if err != nil {
			return nil, fmt.Errorf("log cleaner: %w", err)
		}
		m.cleaner = c
	}
	return m, nil
}

// Get returns a hosted partition.
func (m *Manager) Get(topic string, part int32) (*Partition, bool) {
	p, ok := (*m.parts.Load())[Key{topic, part}]
	return p, ok
}

// All returns every hosted partition.
func (m *Manager) All() []*Partition {
	parts := *m.parts.Load()
	out := make([]*Partition, 0, len(parts))
	for _, p := range parts {
		out = append(out, p)
	}
	return out
}

// TopicConfig resolves a topic's effective settings from the image.
func (m *Manager) TopicConfig(img *metadata.Image, t *metadata.Topic) config.Topic {
	return m.broker.ResolveTopic(DynamicSettings(img, m.nodeID), t.Configs)
}

func stateOf(mp *metadata.Partition) LeaderState {
	return LeaderState{
		Leader: mp.Leader, LeaderEpoch: mp.LeaderEpoch, PartitionEpoch: mp.PartitionEpoch,
		Replicas: mp.Replicas, ISR: mp.ISR, ELR: mp.ELR,
	}
}

func (m *Manager) hosts(p *metadata.Partition) bool {
	for _, r := range p.Replicas {
		if r == m.nodeID {
			return true
		}
	}
	return false
}

// Sync brings the hosted partitions in line with img: it opens partitions
// this broker is a replica of, applies changed topic settings and leader
// epochs, and deletes partitions whose topic is gone. On the first call it
// also removes partition directories that no topic in the image owns (a
// topic deleted while this broker was down).
func (m *Manager) Sync(ctx context.Context, img *metadata.Image, first bool) error {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.pidExpiryMs.Store(m.producerIDExpirationMs(img))
	var errs []error
	want := make(map[Key]bool)
	for _, t := range img.Topics {
		cfg := m.TopicConfig(img, t)
		for _, mp := range t.Partitions {
			if !m.hosts(mp) {
				continue
			}
			k := Key{t.Name, mp.Index}
			want[k] = true
			p, ok := (*m.parts.Load())[k]
			st := stateOf(mp)
			if ok {
				p.SetConfig(cfg)
				p.SetState(m.nodeID, st, m.clock.Now())
				continue
			}
			hw, ok := m.checkpointedHW(k)
			if !ok {
				hw = -1
			}
			p, err := Open(ctx, m.dataDir, t.Name, mp.Index, cfg, Options{
				FS: m.fsys, Logger: m.lg, Clock: m.clock, CleanShutdown: m.clean,
				Self: m.nodeID, State: &st, HighWatermark: hw,
				ProducerIDExpirationMs: m.pidExpiryMs.Load(),
				OnStorageError:         m.failLogDir,
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.update(func(parts map[Key]*Partition) { parts[k] = p })
			m.adoptOffline(p)
			if m.cleaner != nil {
				m.cleaner.Add(p.Log()) // the cleaner skips logs that are not compacted
			}
		}
	}
	var gone []*Partition
	m.update(func(parts map[Key]*Partition) {
		for k, p := range parts {
			if !want[k] {
				gone = append(gone, p)
				delete(parts, k)
			}
		}
	})
	for _, p := range gone {
		m.lg.Info("deleting partition", "topic", p.Topic, "partition", p.Index)
		if m.cleaner != nil {
			m.cleaner.Remove(p.Log())
		}
		if err := p.Delete(); err != nil {
			errs = append(errs, err)
		}
	}
	if first {
		errs = append(errs, m.removeStrays(want))
	}
	return errors.Join(errs...)
}

// removeStrays deletes partition directories that the image does not know.
func (m *Manager) removeStrays(want map[Key]bool) error {
	ents, err := m.fsys.ReadDir(m.dataDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "__cluster_metadata") {
			continue
		}
		i := strings.LastIndexByte(e.Name(), '-')
		if i <= 0 {
			continue
		}
		n, err := strconv.ParseInt(e.Name()[i+1:], 10, 32)
		if err != nil {
			continue
		}
		if want[Key{e.Name()[:i], int32(n)}] {
			continue
		}
		m.lg.Warn("removing partition directory of a deleted topic", "dir", e.Name())
		if err := m.fsys.RemoveAll(filepath.Join(m.dataDir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunRetention applies retention to every partition every interval,
// expires idle producer ids every producer.id.expiration.check.interval.ms
// (ExpireProducers), and enforces flush.ms once a second, until ctx ends. Kafka checks flush.ms only
// when log.flush.scheduler.interval.ms is set; Samsa always honours a
// topic's flush.ms, since a user who sets it expects it to apply.
//
// It also runs the log cleaner, when enabled, and waits for it to stop.
func (m *Manager) RunRetention(ctx context.Context, interval time.Duration) {
	if m.cleaner != nil {
		done := make(chan struct{})
		go func() { // owned by RunRetention, which waits for it below
			defer close(done)
			if err := m.cleaner.Run(ctx); err != nil && ctx.Err() == nil {
				m.lg.Error("log cleaner stopped", "err", err)
			}
		}()
		defer func() { <-done }()
	}
	ret := time.NewTicker(interval)
	defer ret.Stop()
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	hwEvery := time.Duration(m.broker.Int("replica.high.watermark.checkpoint.interval.ms", 5000)) * time.Millisecond
	hwTick := time.NewTicker(hwEvery)
	defer hwTick.Stop()
	pidEvery := time.Duration(m.broker.Int("producer.id.expiration.check.interval.ms", 600_000)) * time.Millisecond
	pidTick := time.NewTicker(pidEvery)
	defer pidTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-pidTick.C:
			m.ExpireProducers(m.clock.Now())
		case <-hwTick.C:
			if err := m.WriteHWCheckpoint(); err != nil {
				m.lg.Warn("high watermark checkpoint failed", "err", err)
			}
		case <-ret.C:
			now := m.clock.Now()
			for _, p := range m.All() {
				if err := p.ApplyRetention(now); err != nil && p.Offline() == nil {
					m.lg.Warn("retention failed", "topic", p.Topic, "partition", p.Index, "err", err)
				}
			}
		case <-flush.C:
			now := m.clock.Now()
			for _, p := range m.All() {
				if err := p.MaybeFlush(now); err != nil && p.Offline() == nil {
					m.lg.Warn("flush failed", "topic", p.Topic, "partition", p.Index, "err", err)
				}
			}
		}
	}
}

// ExpireProducers forgets, in every hosted partition, the producer ids idle
// for producer.id.expiration.ms (Partition.ExpireProducers). RunRetention
// calls it every producer.id.expiration.check.interval.ms.
func (m *Manager) ExpireProducers(now time.Time) int {
	ms := m.pidExpiryMs.Load()
	n := 0
	for _, p := range m.All() {
		n += p.ExpireProducers(now, ms)
	}
	return n
}

// producerIDExpirationMs resolves producer.id.expiration.ms: this broker's
// dynamic value, the cluster default, then the static setting.
func (m *Manager) producerIDExpirationMs(img *metadata.Image) int64 {
	const name = "producer.id.expiration.ms"
	dyn := DynamicSettings(img, m.nodeID)
	for _, cfg := range []map[string]string{dyn.PerBroker, dyn.ClusterDefault} {
		if v, ok := cfg[name]; ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	return m.broker.Int(name, defaultProducerIDExpirationMs)
}

// Close closes every partition.
func (m *Manager) Close() error {
	var errs []error
	if err := m.WriteHWCheckpoint(); err != nil {
		errs = append(errs, fmt.Errorf("high watermark checkpoint: %w", err))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, p := range *m.parts.Load() {
		if m.cleaner != nil {
			m.cleaner.Remove(p.Log())
		}
		if err := p.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s-%d: %w", k.Topic, k.Partition, err))
		}
	}
	m.parts.Store(&map[Key]*Partition{})
	return errors.Join(append(errs, m.LogDirOffline())...)
}

// update changes the partition map by copy-on-write under m.mu.
func (m *Manager) update(fn func(map[Key]*Partition)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := make(map[Key]*Partition, len(*m.parts.Load())+1)
	for k, p := range *m.parts.Load() {
		next[k] = p
	}
	fn(next)
	m.parts.Store(&next)
}

// DynamicSettings picks this broker's dynamic settings out of the image.
func DynamicSettings(img *metadata.Image, nodeID int32) config.Dynamic {
	return config.Dynamic{PerBroker: img.BrokerConfigs[nodeID], ClusterDefault: img.BrokerConfigs[metadata.ClusterDefault]}
}
