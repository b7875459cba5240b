package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	// recompress is the budget every partition's recompression reserves
	// from; the broker installs it (SetRecompressBudget).
	recompress RecompressBudget

	// The opener (opener.go). Guarded by mu: wanted holds the latest
	// state of every hosted partition not yet open nor offline; queue the
	// keys to open, toDelete the partitions to delete, in that order;
	// waiters are released when both are drained.
	wanted     map[Key]openReq
	queue      []Key
	toDelete   []*Partition
	waiters    []chan struct{}
	wake       chan struct{}
	stopOpener context.CancelFunc
	openerDone chan struct{}
	stopOnce   sync.Once
	// offline is copy-on-write like parts: partitions that failed to open.
	offline atomic.Pointer[map[Key]offlineErr]
	strays  atomic.Int64
	// onOpened is called after the opener publishes partitions.
	onOpened atomic.Pointer[func()]
	// fdLimit is RLIMIT_NOFILE; capacity the partitions that fit in it.
	fdLimit  int64
	capacity int
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
	// FDLimit overrides RLIMIT_NOFILE for the file-descriptor budget
	// (0: the process's limit).
	FDLimit int64
}

// NewManager returns a Manager with no partitions; Sync opens them.
func NewManager(o ManagerOptions) (*Manager, error) {
	m := &Manager{
		dataDir: o.DataDir, nodeID: o.NodeID, broker: o.Broker,
		fsys: o.FS, lg: o.Logger, clock: o.Clock, clean: o.CleanShutdown,
	}
	m.parts.Store(&map[Key]*Partition{})
	m.recompress.Set(nil, 0)
	m.offline.Store(&map[Key]offlineErr{})
	m.wanted, m.wake = map[Key]openReq{}, make(chan struct{}, 1)
	m.fdLimit = o.FDLimit
	if m.fdLimit <= 0 {
		m.fdLimit = nofileLimit()
	}
	m.capacity = capacityFor(m.fdLimit)
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
	m.startOpener()
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

func stateOf(img *metadata.Image, mp *metadata.Partition) LeaderState {
	inc := make(map[int32]metadata.Uuid, len(mp.Replicas))
	for _, r := range mp.Replicas {
		if b, ok := img.Brokers[r]; ok {
			inc[r] = b.IncarnationID
		}
	}
	return LeaderState{
		Leader: mp.Leader, LeaderEpoch: mp.LeaderEpoch, PartitionEpoch: mp.PartitionEpoch,
		Replicas: mp.Replicas, ISR: mp.ISR, ELR: mp.ELR, Incarnations: inc,
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

// Sync brings the hosted partitions in line with img and waits until
// every partition it asked for is open or offline (Follow, then
// WaitOpened). On the first call (start-up) it also sets aside, never
// removes, partition directories the image does not give this broker:
// they are renamed <topic>-<partition>.<uuid>-stray and counted (Kafka's
// stray logs). A partition that fails to open goes offline (Offline) and
// does not fail Sync. Handlers that need what they just created call it;
// the raft goroutine calls Follow.
func (m *Manager) Sync(ctx context.Context, img *metadata.Image, first bool) error {
	if err := m.follow(img, first); err != nil {
		return err
	}
	return m.WaitOpened(ctx)
}

// Follow brings the hosted partitions in line with img without waiting:
// it applies changed topic settings and leader epochs to open partitions
// and hands the opener (opener.go) the partitions to delete — those whose
// topic is gone or was replaced, an explicit DeleteTopics or reassignment
// recorded in the metadata log — and those to open. No file is opened,
// recovered or removed on the caller's goroutine (the raft goroutine);
// until a partition is open, Get does not find it and produce and fetch
// answer NOT_LEADER_OR_FOLLOWER, a retriable error. It costs one copy of
// the partition map at most.
func (m *Manager) Follow(img *metadata.Image) {
	_ = m.follow(img, false) // only the first pass, which scans the data dir, fails
}

func (m *Manager) follow(img *metadata.Image, first bool) error {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.pidExpiryMs.Store(m.producerIDExpirationMs(img))
	want := make(map[Key]openReq)
	for _, t := range img.Topics {
		var cfg *config.Topic
		for _, mp := range t.Partitions {
			if !m.hosts(mp) {
				continue
			}
			if cfg == nil {
				c := m.TopicConfig(img, t)
				cfg = &c
			}
			k := Key{t.Name, mp.Index}
			want[k] = openReq{key: k, id: t.ID, cfg: *cfg, state: stateOf(img, mp)}
		}
	}
	var err error
	if first {
		err = m.setAsideStrays(want)
	}
	m.reconcile(want)
	return err
}

// reconcile updates open partitions from want, takes out of the map (one
// copy) the partitions to delete, forgets wanted and offline partitions
// that are no longer wanted, and hands the deletions, then the missing
// partitions, to the opener, which runs them in that order.
func (m *Manager) reconcile(want map[Key]openReq) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := *m.parts.Load()
	var gone []*Partition
	for k, p := range cur {
		r, ok := want[k]
		if !ok || (!p.TopicID.IsZero() && p.TopicID != r.id) {
			gone = append(gone, p)
		}
	}
	if len(gone) > 0 {
		next := make(map[Key]*Partition, len(cur))
		for k, p := range cur {
			next[k] = p
		}
		for _, p := range gone {
			delete(next, Key{p.Topic, p.Index})
		}
		m.parts.Store(&next)
		cur = next
		m.toDelete = append(m.toDelete, gone...)
	}
	offline := m.pruneOffline(want)
	for k := range m.wanted {
		if _, ok := want[k]; !ok {
			delete(m.wanted, k)
		}
	}
	queued := len(gone) > 0
	for k, r := range want {
		if p, ok := cur[k]; ok {
			p.SetConfig(r.cfg)
			p.SetState(m.nodeID, r.state, now)
			continue
		}
		if _, ok := offline[k]; ok {
			continue
		}
		if _, ok := m.wanted[k]; !ok {
			m.queue = append(m.queue, k)
			queued = true
		}
		m.wanted[k] = r
	}
	if queued {
		m.wakeOpener()
	}
}

// pruneOffline forgets offline partitions that are no longer wanted (or
// wanted for another topic id) and returns the offline set. Callers hold
// m.mu.
func (m *Manager) pruneOffline(want map[Key]openReq) map[Key]offlineErr {
	offline := *m.offline.Load()
	stale := false
	for k, off := range offline {
		if r, ok := want[k]; !ok || r.id != off.id {
			stale = true
			break
		}
	}
	if !stale {
		return offline
	}
	next := make(map[Key]offlineErr, len(offline))
	for k, off := range offline {
		if r, ok := want[k]; ok && r.id == off.id {
			next[k] = off
		}
	}
	m.offline.Store(&next)
	return next
}

// setAsideStrays renames every live partition directory that want does
// not name to its stray name. Nothing is removed.
func (m *Manager) setAsideStrays(want map[Key]openReq) error {
	keys, err := ListDirs(m.fsys, m.dataDir)
	if err != nil {
		return fmt.Errorf("scan data dir for stray partitions: %w", err)
	}
	var errs []error
	for _, k := range keys {
		if _, ok := want[k]; ok {
			continue
		}
		if _, ok := m.Get(k.Topic, k.Partition); ok {
			continue
		}
		to, err := setAside(m.fsys, m.dataDir, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.strays.Add(1)
		m.lg.Warn("set aside a partition directory the metadata image does not give this broker (kept, not deleted)",
			"dir", DirName(k.Topic, k.Partition), "renamed_to", to)
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

// Close stops the opener and closes every partition.
func (m *Manager) Close() error {
	m.stopOnce.Do(func() {
		m.stopOpener()
		<-m.openerDone
	})
	var errs []error
	if err := m.WriteHWCheckpoint(); err != nil {
		errs = append(errs, fmt.Errorf("high watermark checkpoint: %w", err))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.toDelete { // deletions the opener did not reach
		errs = append(errs, p.Close())
	}
	m.toDelete = nil
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

// DynamicSettings picks this broker's dynamic settings out of the image.
func DynamicSettings(img *metadata.Image, nodeID int32) config.Dynamic {
	return config.Dynamic{PerBroker: img.BrokerConfigs[nodeID], ClusterDefault: img.BrokerConfigs[metadata.ClusterDefault]}
}

// SetRecompressBudget makes every partition's recompression (a topic
// compression.type other than the producer's codec) reserve its buffers
// from b, the broker's queued.max.request.bytes budget, waiting at most
// wait (0: 10 s). A nil b leaves recompression unbounded.
func (m *Manager) SetRecompressBudget(b MemoryBudget, wait time.Duration) {
	m.recompress.Set(b, wait)
}
