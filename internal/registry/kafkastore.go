package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaStore keeps state in step with the _schemas topic: a reader
// goroutine folds every record into state, and the leader writes through a
// transactional producer whose transactional id is the group id, so that a
// new leader's first write fences the old one (no id handed out twice).
type kafkaStore struct {
	cfg    *Config
	lg     *slog.Logger
	st     *state
	admin  *kgo.Client // metadata, topic creation, end offsets, the group
	reader *kgo.Client

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each applied batch
	readErr error

	writerMu sync.Mutex
	writer   *kgo.Client // while leader
	// writerLost is signalled (without blocking) when a failed write
	// closed the writer.
	writerLost chan struct{}
}

func newKafkaStore(cfg *Config, st *state) (*kafkaStore, error) {
	// A very short metadata age: the store topic may be created by another
	// instance (or tool) at any time, and a cached "no such topic" would
	// hide it from catchUp's ListOffsets. This client sends few requests.
	opts := append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.MetadataMinAge(10 * time.Millisecond)}, cfg.ClientOpts...)
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry: kafka client: %w", err)
	}
	return &kafkaStore{cfg: cfg, lg: cfg.Logger, st: st, admin: admin, changed: make(chan struct{}), writerLost: make(chan struct{}, 1)}, nil
}

// ensureTopic creates the store topic if it is missing: compacted, one
// partition, replication factor as configured but at most the number of
// brokers.
func (k *kafkaStore) ensureTopic(ctx context.Context) error {
	adm := kadm.NewClient(k.admin)
	md, err := adm.Metadata(ctx, k.cfg.Topic)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if t, ok := md.Topics[k.cfg.Topic]; ok && t.Err == nil {
		if n := len(t.Partitions); n != 1 {
			return fmt.Errorf("topic %s has %d partitions; the schema registry needs exactly 1", k.cfg.Topic, n)
		}
		return nil
	}
	rf := min(k.cfg.ReplicationFactor, max(1, len(md.Brokers)))
	if rf < k.cfg.ReplicationFactor {
		k.lg.Warn("registry: fewer brokers than the store's replication factor", "topic", k.cfg.Topic, "replication_factor", rf, "wanted", k.cfg.ReplicationFactor)
	}
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, 1, int16(rf), map[string]*string{"cleanup.policy": &compact}, k.cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", k.cfg.Topic, err)
	}
	return nil
}

// startReader starts the reader at the topic's beginning.
func (k *kafkaStore) startReader() error {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(k.cfg.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.cfg.Topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}, k.cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("registry: reader: %w", err)
	}
	k.reader = cl
	return nil
}

// read folds records into state until ctx ends. Owned by Registry.run.
func (k *kafkaStore) read(ctx context.Context) {
	for {
		fs := k.reader.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			k.lg.Warn("registry: reading the store", "topic", t, "partition", p, "err", err)
			k.mu.Lock()
			k.readErr = err
			k.mu.Unlock()
		})
		n := 0
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			if rec.Attrs.IsControl() {
				k.st.mu.Lock()
				k.st.applied = rec.Offset
				k.st.mu.Unlock()
				return
			}
			k.st.apply(k.lg, rec.Offset, rec.Key, rec.Value)
		})
		if n > 0 {
			k.mu.Lock()
			close(k.changed)
			k.changed = make(chan struct{})
			k.readErr = nil
			k.mu.Unlock()
		}
	}
}

// waitApplied waits until the record at offset has been applied. While
// it waits it asks the reader to refresh its metadata every half second:
// the topic may be new to the reader (another instance or tool made it),
// and a consumer of a missing topic otherwise looks again only slowly.
func (k *kafkaStore) waitApplied(ctx context.Context, offset int64) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for first := true; ; first = false {
		k.mu.Lock()
		ch := k.changed
		k.mu.Unlock()
		k.st.mu.RLock()
		done := k.st.applied >= offset
		k.st.mu.RUnlock()
		if done {
			return nil
		}
		if first && k.reader != nil {
			k.reader.ForceMetadataRefresh()
		}
		select {
		case <-ch:
		case <-tick.C:
			if k.reader != nil {
				k.reader.ForceMetadataRefresh()
			}
		case <-ctx.Done():
			return apiErr(500, codeTimeout, "timed out waiting for the store to reach offset %d", offset)
		}
	}
}

// catchUp waits until every record committed to the store when it is
// called has been applied: it asks the partition's leader for the last
// stable offset (ListOffsets, read_committed) and waits for the reader.
func (k *kafkaStore) catchUp(ctx context.Context) error {
	end, err := k.stableEnd(ctx)
	if err != nil {
		return err
	}
	if end <= 0 {
		return nil // no topic yet, or nothing in it
	}
	return k.waitApplied(ctx, end-1)
}

// stableEnd is the store's last stable offset; 0 when the topic does not
// exist.
func (k *kafkaStore) stableEnd(ctx context.Context) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.IsolationLevel = 1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = k.cfg.Topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = 0
	rp.Timestamp = -1
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, k.admin)
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return 0, nil
		}
		return 0, errStore("end offset of %s: %v", k.cfg.Topic, err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				if errors.Is(err, kerr.UnknownTopicOrPartition) {
					return 0, nil
				}
				return 0, errStore("end offset of %s: %v", k.cfg.Topic, err)
			}
			return p.Offset, nil
		}
	}
	return 0, nil
}

// becomeWriter opens the transactional writer and fences any earlier
// leader with a NOOP record, then waits until that record is applied, so
// that state holds every write any leader made.
func (k *kafkaStore) becomeWriter(ctx context.Context) error {
	k.writerMu.Lock()
	defer k.writerMu.Unlock()
	if err := k.ensureTopic(ctx); err != nil {
		return err
	}
	if k.writer == nil {
		opts := append([]kgo.Opt{
			kgo.SeedBrokers(k.cfg.Brokers...),
			kgo.TransactionalID(k.cfg.GroupID),
			kgo.TransactionTimeout(k.cfg.Timeout + 5*time.Second),
			kgo.DefaultProduceTopic(k.cfg.Topic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.ProducerLinger(0),
		}, k.cfg.ClientOpts...)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("registry: writer: %w", err)
		}
		k.writer = cl
	}
	noop := recordKey{KeyType: keyNoop, Magic: 0}
	off, err := k.writeLocked(ctx, &kgo.Record{Key: noop.encode()})
	if err != nil {
		return err
	}
	return k.waitApplied(ctx, off)
}

// stopWriter closes the writer when leadership is lost.
func (k *kafkaStore) stopWriter() {
	k.writerMu.Lock()
	defer k.writerMu.Unlock()
	if k.writer != nil {
		k.writer.Close()
		k.writer = nil
	}
}

// write appends recs in one transaction and waits until they are applied.
func (k *kafkaStore) write(ctx context.Context, recs ...*kgo.Record) error {
	k.writerMu.Lock()
	off, err := k.writeLocked(ctx, recs...)
	k.writerMu.Unlock()
	if err != nil {
		return err
	}
	return k.waitApplied(ctx, off)
}

// writeLocked produces recs in a transaction; writerMu is held.
func (k *kafkaStore) writeLocked(ctx context.Context, recs ...*kgo.Record) (int64, error) {
	if k.writer == nil {
		return 0, apiErr(500, codeUnknownLeader, "this instance is not the leader")
	}
	for _, r := range recs {
		r.Topic = k.cfg.Topic
		r.Partition = 0
	}
	if err := k.writer.BeginTransaction(); err != nil {
		k.dropWriterLocked()
		return 0, errStore("begin transaction: %v", err)
	}
	res := k.writer.ProduceSync(ctx, recs...)
	var last int64 = -1
	perr := res.FirstErr()
	for _, r := range res {
		if r.Err == nil {
			last = max(last, r.Record.Offset)
		}
	}
	commit := kgo.TryCommit
	if perr != nil {
		commit = kgo.TryAbort
	}
	eerr := k.writer.EndTransaction(ctx, commit)
	switch {
	case perr != nil:
		k.dropWriterLocked()
		return 0, k.writeErr("produce", perr)
	case eerr != nil:
		k.dropWriterLocked()
		return 0, k.writeErr("commit", eerr)
	}
	return last, nil
}

// dropWriterLocked closes the writer after a failed write: a transaction
// that could not end leaves the producer unusable, and it may have been
// fenced by a newer leader. writerLost tells the registry, which takes the
// leadership again through the election (and so fences anew) if the group
// still names it. writerMu is held.
func (k *kafkaStore) dropWriterLocked() {
	if k.writer != nil {
		k.writer.Close()
		k.writer = nil
	}
	select {
	case k.writerLost <- struct{}{}:
	default:
	}
}

// writeErr maps a failed write; a fenced producer means another instance
// leads now.
func (k *kafkaStore) writeErr(what string, err error) error {
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
		return apiErr(500, codeUnknownLeader, "this instance is no longer the leader (%s: %v)", what, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apiErr(500, codeTimeout, "store %s timed out: %v", what, err)
	}
	return errStore("%s: %v", what, err)
}

func (k *kafkaStore) close() {
	k.stopWriter()
	if k.reader != nil {
		k.reader.Close()
	}
	k.admin.Close()
}

// clusterID is the Kafka cluster's id, "" if unknown.
func (k *kafkaStore) clusterID() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	md, err := kadm.NewClient(k.admin).BrokerMetadata(ctx)
	if err != nil {
		return ""
	}
	return md.Cluster
}
