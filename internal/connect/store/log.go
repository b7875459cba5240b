package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicConfig names an internal topic and how to create it when missing
// (Java's *.storage.topic, *.storage.partitions,
// *.storage.replication.factor and extra topic settings).
type TopicConfig struct {
	Topic      string
	Partitions int32
	// ReplicationFactor 0 means min(3, brokers); -1 the broker default.
	ReplicationFactor int16
	Settings          map[string]string
}

// Validate checks the names and numbers.
func (c TopicConfig) Validate() error {
	if c.Topic == "" {
		return errors.New("store: topic name is required")
	}
	if c.Partitions < 1 || c.ReplicationFactor < -1 {
		return fmt.Errorf("store: topic %s: partitions must be >= 1 and replication factor >= -1", c.Topic)
	}
	return nil
}

// topicLog tails every partition of a topic from the beginning and
// produces to it (Java's KafkaBasedLog).
type topicLog struct {
	cfg   TopicConfig
	opts  []kgo.Opt
	log   *slog.Logger
	apply func(*kgo.Record) // on the tail goroutine

	prod  *kgo.Client
	adm   *kadm.Client
	cons  *kgo.Client
	parts int32

	mu      sync.Mutex
	pos     map[int32]int64 // next offset to read per partition
	changed chan struct{}   // closed and replaced when pos advances
	err     error           // sticky tail error (client closed)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newTopicLog(opts []kgo.Opt, cfg TopicConfig, logger *slog.Logger, apply func(*kgo.Record)) *topicLog {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &topicLog{cfg: cfg, opts: opts, log: logger, apply: apply, pos: map[int32]int64{}, changed: make(chan struct{})}
}

// start creates the topic if missing, starts the tail goroutine (ended
// by ctx or close) and reads to the end.
func (l *topicLog) start(ctx context.Context) error {
	prod, err := kgo.NewClient(append(append([]kgo.Opt{}, l.opts...),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return fmt.Errorf("store: client for %s: %w", l.cfg.Topic, err)
	}
	l.prod, l.adm = prod, kadm.NewClient(prod)
	if l.parts, err = l.ensureTopic(ctx); err != nil {
		prod.Close()
		return err
	}
	offsets := map[int32]kgo.Offset{}
	for p := int32(0); p < l.parts; p++ {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cons, err := kgo.NewClient(append(append([]kgo.Opt{}, l.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{l.cfg.Topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		prod.Close()
		return fmt.Errorf("store: consumer for %s: %w", l.cfg.Topic, err)
	}
	l.cons = cons
	tctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	l.wg.Add(1)
	go l.tail(tctx)
	return l.readToEnd(ctx)
}

func (l *topicLog) close() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	if l.cons != nil {
		l.cons.Close()
	}
	if l.prod != nil {
		l.prod.Close()
	}
}

// ensureTopic creates the topic (compacted) when missing and returns its
// partition count.
func (l *topicLog) ensureTopic(ctx context.Context) (int32, error) {
	rf := l.cfg.ReplicationFactor
	if rf == 0 {
		brokers, err := l.adm.ListBrokers(ctx)
		if err != nil {
			return 0, fmt.Errorf("store: list brokers: %w", err)
		}
		rf = int16(min(3, max(1, len(brokers))))
	}
	configs := map[string]*string{}
	for k, v := range l.cfg.Settings {
		configs[k] = kadm.StringPtr(v)
	}
	configs["cleanup.policy"] = kadm.StringPtr("compact")
	resp, err := l.adm.CreateTopic(ctx, l.cfg.Partitions, rf, configs, l.cfg.Topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("store: create topic %s: %w", l.cfg.Topic, err)
	}
	if err == nil && resp.Err == nil {
		l.log.Info("connect store: created topic", "topic", l.cfg.Topic, "partitions", l.cfg.Partitions, "replication_factor", rf)
	}
	td, err := l.adm.ListTopics(ctx, l.cfg.Topic)
	if err != nil {
		return 0, fmt.Errorf("store: describe topic %s: %w", l.cfg.Topic, err)
	}
	d, ok := td[l.cfg.Topic]
	if !ok || len(d.Partitions) == 0 {
		return 0, fmt.Errorf("store: topic %s not available", l.cfg.Topic)
	}
	if d.Err != nil {
		return 0, fmt.Errorf("store: topic %s not available: %w", l.cfg.Topic, d.Err)
	}
	return int32(len(d.Partitions)), nil
}

func (l *topicLog) tail(ctx context.Context) {
	defer l.wg.Done()
	for {
		fs := l.cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			l.mu.Lock()
			l.err = errors.New("store: log closed")
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			l.log.Warn("connect store: fetch failed", "topic", t, "partition", p, "err", err)
		})
		advanced := map[int32]int64{}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				l.apply(r)
			}
			advanced[r.Partition] = r.Offset + 1
		})
		if len(advanced) > 0 {
			l.mu.Lock()
			for p, o := range advanced {
				l.pos[p] = max(l.pos[p], o)
			}
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}
}

// readToEnd waits until everything committed to the topic when it was
// called has been applied.
func (l *topicLog) readToEnd(ctx context.Context) error {
	ends, err := l.adm.ListCommittedOffsets(ctx, l.cfg.Topic)
	if err != nil {
		return fmt.Errorf("store: end offsets of %s: %w", l.cfg.Topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("store: end offsets of %s: %w", l.cfg.Topic, err)
	}
	for {
		l.mu.Lock()
		done, ch, lerr := true, l.changed, l.err
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset > 0 && l.pos[o.Partition] < o.Offset {
				done = false
			}
		})
		l.mu.Unlock()
		if done {
			return nil
		}
		if lerr != nil {
			return lerr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: read %s to end: %w", l.cfg.Topic, ctx.Err())
		case <-ch:
		}
	}
}

// produce writes records and waits for their acknowledgement.
func (l *topicLog) produce(ctx context.Context, recs ...*kgo.Record) error {
	for _, r := range recs {
		r.Topic = l.cfg.Topic
	}
	if err := l.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("store: write to %s: %w", l.cfg.Topic, err)
	}
	return nil
}
