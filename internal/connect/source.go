package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	pub "github.com/samsa-streaming/samsa/connect"
)

// sourceRun is one running source task: it polls the task, transforms
// and converts its records, produces them, and commits the source offsets
// of everything acknowledged every offset.flush.interval.ms (Java's
// WorkerSourceTask). With exactly.once.source.support=enabled and an
// offset backend that writes Kafka records, every poll's records and
// offsets are produced in one transaction.
type sourceRun struct {
	w    *worker
	tr   *taskRun
	task pub.SourceTask
	pipe *pipeline
	cl   *kgo.Client
	lg   *slog.Logger
	txn  txnOffsets // nil unless exactly-once

	mu      sync.Mutex
	prodErr error
	pending map[string]OffsetEntry // offsets of records sent since the last commit
	topics  map[string]bool
}

// txnOffsets is an offset backend that can write offsets as records in a
// producer's transaction (the distributed worker's offsets topic).
type txnOffsets interface {
	offsetBackend
	// OffsetRecords returns the records that store entries.
	OffsetRecords(connector string, entries []OffsetEntry) ([]*kgo.Record, error)
	// Committed tells the backend the records were committed.
	Committed(connector string, entries []OffsetEntry)
}

type sourceCtx struct {
	w    *worker
	name string
	lg   *slog.Logger
}

func (c *sourceCtx) Offsets() pub.OffsetReader { return offsetReader{c.w.offsets, c.name} }
func (c *sourceCtx) Logger() *slog.Logger      { return c.lg }

type offsetReader struct {
	b    offsetBackend
	name string
}

func (r offsetReader) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	return r.b.Get(r.name, p)
}

type explicitPartition struct{}

// sourcePartitioner sends records with an explicit partition there and
// the others by murmur2 of the key, as Java's producer.
type sourcePartitioner struct{ sticky kgo.Partitioner }

func (p sourcePartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return sourceTopicPartitioner{p.sticky.ForTopic(t)}
}

type sourceTopicPartitioner struct{ sticky kgo.TopicPartitioner }

func (p sourceTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Context != nil || p.sticky.RequiresConsistency(r)
}

func (p sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Context != nil {
		if v, ok := r.Context.Value(explicitPartition{}).(int32); ok && int(v) < n {
			return int(v)
		}
	}
	return p.sticky.Partition(r, n)
}

// clientOpts are the options every Kafka client of the worker starts with.
func (w *worker) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(w.cfg.Brokers...), kgo.ClientID("samsa-connect")}, w.cfg.ClientOpts...)
	return append(opts, extra...)
}

func (w *worker) runSource(ctx context.Context, tr *taskRun, task pub.SourceTask) error {
	pipe, err := w.newPipeline(tr.conn)
	if err != nil {
		return err
	}
	defer pipe.close()
	s := &sourceRun{w: w, tr: tr, task: task, pipe: pipe, lg: w.lg.With("task", tr.id.String()),
		pending: map[string]OffsetEntry{}, topics: map[string]bool{}}
	opts := []kgo.Opt{kgo.RecordPartitioner(sourcePartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.AllowAutoTopicCreation(), kgo.MaxBufferedRecords(sourceMaxBufferedRecords)}
	settings := clientSettings(w.cfg.Props, tr.conn, producerClient, tr.id)
	if t, ok := w.offsets.(txnOffsets); ok && w.cfg.ExactlyOnceSource {
		s.txn = t
		settings["enable.idempotence"], settings["acks"] = "true", "all" // as Java's exactly-once producers
		opts = append(opts, kgo.TransactionalID(w.cfg.GroupID+"-"+tr.id.String()))
	}
	conf, err := buildClient(producerClient, settings, s.lg)
	if err != nil {
		return fmt.Errorf("producer settings: %w", err)
	}
	if s.cl, err = kgo.NewClient(w.clientOpts(append(opts, conf.opts...)...)...); err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer s.cl.Close()
	sctx := &sourceCtx{w: w, name: tr.id.Connector, lg: s.lg}
	if err := safeCall("source task start", func() error { return task.Start(sctx, tr.props) }); err != nil {
		return err
	}
	defer func() {
		if err := safeCall("source task stop", task.Stop); err != nil {
			s.lg.Warn("source task stop", "err", err)
		}
	}()
	err = s.loop(ctx)
	if ferr := s.commit(); err == nil && ctx.Err() == nil {
		err = ferr
	}
	return err
}

// loop polls until ctx ends or the task fails.
func (s *sourceRun) loop(ctx context.Context) error {
	s.w.states.taskState(s.tr.id, s.stateNow(), "")
	last := time.Now()
	for ctx.Err() == nil {
		if paused, wake := s.tr.pausedNow(); paused {
			if err := s.commit(); err != nil {
				return err
			}
			s.w.states.taskState(s.tr.id, StatePaused, "")
			select {
			case <-wake:
				s.w.states.taskState(s.tr.id, s.stateNow(), "")
			case <-ctx.Done():
			}
			continue
		}
		var recs []*pub.Record
		began := time.Now()
		err := safeCall("source task poll", func() (err error) {
			recs, err = s.task.Poll(ctx)
			return err
		})
		if len(recs) == 0 && err == nil && time.Since(began) < time.Millisecond {
			idle(ctx, 50*time.Millisecond) // a task that does not block must not spin
		}
		if err != nil && !errors.Is(err, pub.ErrRetriable) {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := s.send(ctx, recs); err != nil {
			return err
		}
		if err := s.prodError(); err != nil {
			return err
		}
		if time.Since(last) >= s.w.cfg.OffsetFlushInterval {
			if err := s.commit(); err != nil {
				return err
			}
			last = time.Now()
		}
	}
	return nil
}

// idle waits d or until ctx ends.
func idle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *sourceRun) stateNow() State {
	if p, _ := s.tr.pausedNow(); p {
		return StatePaused
	}
	return StateRunning
}

// send transforms, converts and produces one poll's records.
func (s *sourceRun) send(ctx context.Context, recs []*pub.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if s.txn != nil {
		if err := s.cl.BeginTransaction(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
	}
	var sent []OffsetEntry
	tol := newTolerance(s.tr.conn)
	for _, r := range recs {
		out, err := s.convert(r)
		if err != nil {
			if !tol.all {
				return err
			}
			s.lg.Warn("source record skipped (errors.tolerance=all)", "err", err)
		}
		if r.SourcePartition != nil && r.SourceOffset != nil {
			sent = append(sent, OffsetEntry{Partition: r.SourcePartition, Offset: r.SourceOffset})
		}
		if out == nil {
			s.committed(r, nil)
			continue
		}
		s.cl.Produce(ctx, out, s.produced(r))
	}
	if s.txn != nil {
		return s.commitTxn(ctx, sent)
	}
	s.mu.Lock()
	for _, e := range sent {
		s.pending[partitionKey(e.Partition)] = e
	}
	s.mu.Unlock()
	return nil
}

// commitTxn adds the offsets to the open transaction and commits it.
func (s *sourceRun) commitTxn(ctx context.Context, sent []OffsetEntry) error {
	name := s.tr.id.Connector
	recs, err := s.txn.OffsetRecords(name, dedupe(sent))
	if err != nil {
		s.cl.EndTransaction(ctx, kgo.TryAbort)
		return err
	}
	for _, r := range recs {
		s.cl.Produce(ctx, r, nil)
	}
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := s.prodError(); err != nil {
		s.cl.EndTransaction(ctx, kgo.TryAbort)
		return err
	}
	if err := s.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	s.txn.Committed(name, dedupe(sent))
	return s.taskCommit()
}

func dedupe(es []OffsetEntry) []OffsetEntry {
	m := map[string]OffsetEntry{}
	var order []string
	for _, e := range es {
		k := partitionKey(e.Partition)
		if _, ok := m[k]; !ok {
			order = append(order, k)
		}
		m[k] = e
	}
	out := make([]OffsetEntry, 0, len(order))
	for _, k := range order {
		out = append(out, m[k])
	}
	return out
}

// produced returns the callback of a produced record. Only a task that
// wants CommitRecord keeps its record alive until the broker's answer;
// the others' records are garbage as soon as they are converted.
func (s *sourceRun) produced(r *pub.Record) func(*kgo.Record, error) {
	if _, ok := s.task.(pub.SourceCommitter); !ok {
		r = nil
	}
	return func(kr *kgo.Record, err error) {
		if err != nil {
			s.mu.Lock()
			if s.prodErr == nil {
				s.prodErr = err
			}
			s.mu.Unlock()
			return
		}
		if r != nil {
			s.committed(r, &pub.RecordMetadata{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp})
		}
	}
}

func (s *sourceRun) prodError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prodErr != nil {
		return fmt.Errorf("produce: %w", s.prodErr)
	}
	return nil
}

func (s *sourceRun) committed(r *pub.Record, md *pub.RecordMetadata) {
	if c, ok := s.task.(pub.SourceCommitter); ok {
		if err := safeCall("source task commitRecord", func() error { return c.CommitRecord(r, md) }); err != nil {
			s.lg.Warn("commitRecord", "err", err)
		}
	}
}

// convert transforms r and converts it to a Kafka record (nil when a
// transformation dropped it).
func (s *sourceRun) convert(r *pub.Record) (*kgo.Record, error) {
	r, err := s.pipe.apply(r)
	if err != nil || r == nil {
		return nil, err
	}
	kr := &kgo.Record{Topic: r.Topic, Timestamp: r.Timestamp}
	if r.Key != nil || r.KeySchema != nil {
		if kr.Key, err = s.pipe.key.FromConnect(r.Topic, r.Headers, r.KeySchema, r.Key); err != nil {
			return nil, fmt.Errorf("key converter: %w", err)
		}
	}
	if kr.Value, err = s.pipe.value.FromConnect(r.Topic, r.Headers, r.ValueSchema, r.Value); err != nil {
		return nil, fmt.Errorf("value converter: %w", err)
	}
	for _, h := range r.Headers {
		b, err := s.pipe.header.FromConnectHeader(r.Topic, h.Key, h.Schema, h.Value)
		if err != nil {
			return nil, fmt.Errorf("header converter: %w", err)
		}
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: b})
	}
	if r.Partition >= 0 {
		kr.Context = context.WithValue(context.Background(), explicitPartition{}, r.Partition)
	}
	s.mu.Lock()
	seen := s.topics[r.Topic]
	s.topics[r.Topic] = true
	s.mu.Unlock()
	if !seen {
		s.w.states.topicUsed(s.tr.id.Connector, r.Topic)
	}
	return kr, nil
}

// commit waits for every produced record and stores the offsets of what
// was sent (Java's offset flush).
func (s *sourceRun) commit() error {
	if s.txn != nil {
		return s.prodError()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.w.cfg.OffsetFlushTimeout)
	defer cancel()
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := s.prodError(); err != nil {
		return err
	}
	s.mu.Lock()
	entries := sortedEntries(s.pending)
	s.pending = map[string]OffsetEntry{}
	s.mu.Unlock()
	if len(entries) > 0 {
		if err := s.w.offsets.Put(ctx, s.tr.id.Connector, entries); err != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
	}
	return s.taskCommit()
}

func (s *sourceRun) taskCommit() error {
	if c, ok := s.task.(pub.SourceCommitter); ok {
		if err := safeCall("source task commit", c.Commit); err != nil {
			s.lg.Warn("source task commit", "err", err)
		}
	}
	return nil
}
