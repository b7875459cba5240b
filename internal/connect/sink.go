package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	pub "github.com/samsa-streaming/samsa/connect"
)

// sinkRun is one running sink task: a member of the consumer group
// connect-<connector> that converts and transforms what it consumes,
// hands it to Put (retrying retriable failures), and commits the offsets
// PreCommit returns every offset.flush.interval.ms (Java's
// WorkerSinkTask). Records that fail conversion or transformation fail
// the task, or with errors.tolerance=all are skipped and sent to the
// dead-letter queue.
type sinkRun struct {
	w    *worker
	tr   *taskRun
	task pub.SinkTask
	pipe *pipeline
	cl   *kgo.Client
	lg   *slog.Logger
	tol  tolerance
	dlq  *kgo.Client // nil without a dead-letter queue
	// maxPoll is max.poll.records, the most records one Put gets.
	maxPoll int

	taskMu   sync.Mutex // calls into task (the loop and the rebalance callbacks)
	mu       sync.Mutex
	current  map[pub.TopicPartition]int64 // next offset to commit, per owned partition
	owned    map[pub.TopicPartition]bool
	commitAt bool
	raw      []*kgo.Record // the batch being delivered, for ReportError
	failed   error
}

// sinkTopics reads topics / topics.regex.
func sinkTopics(props map[string]string) (topics []string, regex string) {
	for _, t := range strings.Split(props["topics"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	return topics, strings.TrimSpace(props["topics.regex"])
}

func (w *worker) runSink(ctx context.Context, tr *taskRun, task pub.SinkTask) error {
	pipe, err := w.newPipeline(tr.conn)
	if err != nil {
		return err
	}
	defer pipe.close()
	s := &sinkRun{w: w, tr: tr, task: task, pipe: pipe, lg: w.lg.With("task", tr.id.String()),
		tol: newTolerance(tr.conn), current: map[pub.TopicPartition]int64{}, owned: map[pub.TopicPartition]bool{}}
	opts, err := s.consumerOpts()
	if err != nil {
		return err
	}
	if s.cl, err = kgo.NewClient(w.clientOpts(opts...)...); err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	// Polling blocks rebalances until AllowRebalance; closing must allow
	// them or leaving the group (and its revoke callback) would hang.
	defer s.cl.CloseAllowingRebalance()
	if s.tol.dlqTopic != "" {
		pconf, err := buildClient(producerClient, clientSettings(w.cfg.Props, tr.conn, producerClient, tr.id), s.lg)
		if err != nil {
			return fmt.Errorf("dead-letter queue producer settings: %w", err)
		}
		if s.dlq, err = kgo.NewClient(w.clientOpts(pconf.opts...)...); err != nil {
			return fmt.Errorf("dead-letter queue producer: %w", err)
		}
		defer s.dlq.Close()
		s.createDLQ(ctx)
	}
	if err := s.call("sink task start", func() error { return task.Start(&sinkCtx{s}, tr.props) }); err != nil {
		return err
	}
	defer func() {
		if err := s.call("sink task stop", task.Stop); err != nil {
			s.lg.Warn("sink task stop", "err", err)
		}
	}()
	err = s.loop(ctx)
	if cerr := s.commit(); err == nil && ctx.Err() == nil {
		err = cerr
	}
	return err
}

// consumerOpts are the sink consumer's options: group connect-<name>,
// manual commits, the connector's topics, the worker's consumer.*
// settings and the connector's consumer.override.* (clientprops.go).
func (s *sinkRun) consumerOpts() ([]kgo.Opt, error) {
	w, tr := s.w, s.tr
	conf, err := buildClient(consumerClient, clientSettings(w.cfg.Props, tr.conn, consumerClient, tr.id), s.lg)
	if err != nil {
		return nil, fmt.Errorf("consumer settings: %w", err)
	}
	s.maxPoll = conf.maxPollRecords
	groupID := "connect-" + tr.id.Connector
	if conf.groupID != "" {
		groupID = conf.groupID
	}
	opts := []kgo.Opt{kgo.ConsumerGroup(groupID), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(s.assigned), kgo.OnPartitionsRevoked(s.revoked), kgo.OnPartitionsLost(s.lost)}
	if d := w.cfg.SinkSessionTimeout; d > 0 {
		opts = append(opts, kgo.SessionTimeout(d))
	}
	if d := w.cfg.SinkHeartbeatInterval; d > 0 {
		opts = append(opts, kgo.HeartbeatInterval(d))
	}
	opts = append(opts, conf.opts...) // the worker's consumer.* and the connector's overrides win
	if topics, regex := sinkTopics(tr.conn); regex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(regex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	return opts, nil
}

// call runs a task method with the task lock held.
func (s *sinkRun) call(what string, f func() error) error {
	s.taskMu.Lock()
	defer s.taskMu.Unlock()
	return safeCall(what, f)
}

func (s *sinkRun) loop(ctx context.Context) error {
	s.w.states.taskState(s.tr.id, StateRunning, "")
	last := time.Now()
	for ctx.Err() == nil {
		if paused, wake := s.tr.pausedNow(); paused {
			if err := s.commit(); err != nil {
				return err
			}
			s.cl.AllowRebalance()
			s.w.states.taskState(s.tr.id, StatePaused, "")
			select {
			case <-wake:
				s.w.states.taskState(s.tr.id, StateRunning, "")
			case <-ctx.Done():
			}
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := s.cl.PollRecords(pctx, s.maxPoll)
		cancel()
		if err := s.fetchError(fetches); err != nil {
			return err
		}
		if err := s.deliver(ctx, fetches.Records()); err != nil {
			return err
		}
		s.cl.AllowRebalance()
		if err := s.takeFailure(); err != nil {
			return err
		}
		s.mu.Lock()
		due := s.commitAt || time.Since(last) >= s.w.cfg.OffsetFlushInterval
		s.commitAt = false
		s.mu.Unlock()
		if due {
			if err := s.commit(); err != nil {
				return err
			}
			last = time.Now()
		}
	}
	return nil
}

func (s *sinkRun) fetchError(f kgo.Fetches) error {
	var first error
	f.EachError(func(t string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		s.lg.Warn("fetch", "topic", t, "partition", p, "err", err)
		if errors.Is(err, kgo.ErrClientClosed) && first == nil {
			first = err
		}
	})
	return first
}

func (s *sinkRun) takeFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// deliver converts, transforms and puts one batch.
func (s *sinkRun) deliver(ctx context.Context, raws []*kgo.Record) error {
	if len(raws) == 0 {
		return nil
	}
	batch := make([]*pub.Record, 0, len(raws))
	s.mu.Lock()
	s.raw = raws
	s.mu.Unlock()
	for _, kr := range raws {
		r, stage, err := s.toConnect(kr)
		if err != nil {
			if !s.tol.all {
				return fmt.Errorf("Tolerance exceeded in error handler: %s: %w", stage, err)
			}
			s.lg.Warn("sink record skipped (errors.tolerance=all)", "topic", kr.Topic, "partition", kr.Partition, "offset", kr.Offset, "stage", stage, "err", err)
			s.toDLQ(ctx, kr, stage, err)
			continue
		}
		if r != nil {
			batch = append(batch, r)
		}
	}
	if err := s.put(ctx, batch); err != nil {
		return err
	}
	s.mu.Lock()
	for _, kr := range raws {
		tp := pub.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
		if s.owned[tp] {
			s.current[tp] = kr.Offset + 1
		}
	}
	s.raw = nil
	s.mu.Unlock()
	return nil
}

// toConnect converts and transforms one consumed record; it returns the
// failing stage with an error.
func (s *sinkRun) toConnect(kr *kgo.Record) (*pub.Record, string, error) {
	r := &pub.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset, Timestamp: kr.Timestamp,
		TimestampType: pub.CreateTime, OriginalTopic: kr.Topic, OriginalPartition: kr.Partition, OriginalOffset: kr.Offset}
	if kr.Attrs.TimestampType() == 1 {
		r.TimestampType = pub.LogAppendTime
	}
	var err error
	if r.KeySchema, r.Key, err = s.pipe.key.ToConnect(kr.Topic, nil, kr.Key); err != nil {
		return nil, "KEY_CONVERTER", err
	}
	if r.ValueSchema, r.Value, err = s.pipe.value.ToConnect(kr.Topic, nil, kr.Value); err != nil {
		return nil, "VALUE_CONVERTER", err
	}
	for _, h := range kr.Headers {
		hs, hv, err := s.pipe.header.ToConnectHeader(kr.Topic, h.Key, h.Value)
		if err != nil {
			return nil, "HEADER_CONVERTER", err
		}
		r.Headers = append(r.Headers, pub.Header{Key: h.Key, Schema: hs, Value: hv})
	}
	out, err := s.pipe.apply(r)
	if err != nil {
		return nil, "TRANSFORMATION", err
	}
	return out, "", nil
}

// put hands a batch to the task, retrying retriable errors with backoff
// until errors.retry.timeout (0 or less: until stopped, as Java retries
// a sink's RetriableException).
func (s *sinkRun) put(ctx context.Context, batch []*pub.Record) error {
	start, delay := time.Now(), 100*time.Millisecond
	for {
		err := s.call("sink task put", func() error { return s.task.Put(ctx, batch) })
		if err == nil {
			return nil
		}
		if !errors.Is(err, pub.ErrRetriable) {
			return fmt.Errorf("sink task put: %w", err)
		}
		if s.tol.retryTimeout > 0 && time.Since(start) >= s.tol.retryTimeout {
			return fmt.Errorf("sink task put: retries exhausted after %s: %w", s.tol.retryTimeout, err)
		}
		s.lg.Debug("sink put retriable failure", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		if delay *= 2; delay > s.tol.retryMaxDelay && s.tol.retryMaxDelay > 0 {
			delay = s.tol.retryMaxDelay
		}
	}
}

// commit asks the task what is safe and commits it to the group.
func (s *sinkRun) commit() error {
	s.mu.Lock()
	cur := make(map[pub.TopicPartition]int64, len(s.current))
	for tp, o := range s.current {
		cur[tp] = o
	}
	s.mu.Unlock()
	if len(cur) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.w.cfg.OffsetFlushTimeout)
	defer cancel()
	var safe map[pub.TopicPartition]int64
	err := s.call("sink task preCommit", func() (err error) {
		safe, err = s.task.PreCommit(ctx, cur)
		return err
	})
	if err != nil {
		s.lg.Warn("sink preCommit failed; offsets not committed", "err", err)
		return nil
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	for tp, o := range safe {
		if offs[tp.Topic] == nil {
			offs[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		offs[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	if len(offs) == 0 {
		return nil
	}
	var cerr error
	s.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		cerr = err
		if err == nil {
			cerr = commitRespErr(resp)
		}
	})
	if cerr != nil {
		s.lg.Warn("sink offset commit failed", "err", cerr)
	}
	return nil
}

func (s *sinkRun) tps(m map[string][]int32) []pub.TopicPartition {
	var out []pub.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, pub.TopicPartition{Topic: t, Partition: p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func (s *sinkRun) assigned(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	tps := s.tps(m)
	s.mu.Lock()
	for _, tp := range tps {
		s.owned[tp] = true
		s.w.states.topicUsed(s.tr.id.Connector, tp.Topic)
	}
	s.mu.Unlock()
	if err := s.call("sink task open", func() error { return s.task.Open(ctx, tps) }); err != nil {
		s.fail(err)
	}
}

func (s *sinkRun) revoked(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	if err := s.commit(); err != nil {
		s.fail(err)
	}
	s.drop(ctx, m)
}

func (s *sinkRun) lost(ctx context.Context, _ *kgo.Client, m map[string][]int32) { s.drop(ctx, m) }

func (s *sinkRun) drop(ctx context.Context, m map[string][]int32) {
	tps := s.tps(m)
	s.mu.Lock()
	for _, tp := range tps {
		delete(s.owned, tp)
		delete(s.current, tp)
	}
	s.mu.Unlock()
	if err := s.call("sink task close", func() error { return s.task.Close(ctx, tps) }); err != nil {
		s.fail(err)
	}
}

func (s *sinkRun) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
	}
}

// createDLQ creates the dead-letter topic when missing (as Java does).
func (s *sinkRun) createDLQ(ctx context.Context) {
	adm := kadm.NewClient(s.dlq)
	rf := s.tol.dlqRF
	if md, err := adm.BrokerMetadata(ctx); err == nil && int(rf) > len(md.Brokers) {
		rf = int16(len(md.Brokers))
	}
	if _, err := adm.CreateTopic(ctx, 1, rf, nil, s.tol.dlqTopic); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		s.lg.Debug("dead-letter topic", "topic", s.tol.dlqTopic, "err", err)
	}
}

// toDLQ sends a failed record's original bytes to the dead-letter queue,
// with Java's __connect.errors.* headers when asked for.
func (s *sinkRun) toDLQ(ctx context.Context, kr *kgo.Record, stage string, cause error) {
	if s.dlq == nil {
		return
	}
	r := &kgo.Record{Topic: s.tol.dlqTopic, Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp,
		Headers: append([]kgo.RecordHeader(nil), kr.Headers...)}
	if s.tol.contextHeaders {
		h := func(k, v string) {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "__connect.errors." + k, Value: []byte(v)})
		}
		h("topic", kr.Topic)
		h("partition", strconv.Itoa(int(kr.Partition)))
		h("offset", strconv.FormatInt(kr.Offset, 10))
		h("connector.name", s.tr.id.Connector)
		h("task.id", strconv.Itoa(int(s.tr.id.Task)))
		h("stage", stage)
		h("class.name", s.tr.conn["connector.class"])
		h("exception.class.name", "org.apache.kafka.connect.errors.DataException")
		h("exception.message", cause.Error())
		h("exception.stacktrace", trace(cause))
	}
	if err := s.dlq.ProduceSync(ctx, r).FirstErr(); err != nil {
		s.lg.Warn("dead-letter queue", "topic", s.tol.dlqTopic, "err", err)
	}
}

// sinkCtx is a sink task's SinkTaskContext.
type sinkCtx struct{ s *sinkRun }

func (c *sinkCtx) Assignment() []pub.TopicPartition {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := make([]pub.TopicPartition, 0, len(c.s.owned))
	for tp := range c.s.owned {
		out = append(out, tp)
	}
	return out
}

func (c *sinkCtx) ResetOffset(tp pub.TopicPartition, offset int64) {
	c.s.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{tp.Topic: {tp.Partition: {Epoch: -1, Offset: offset}}})
}

func (c *sinkCtx) Pause(tps ...pub.TopicPartition) {
	c.s.cl.PauseFetchPartitions(group(tps))
}

func (c *sinkCtx) Resume(tps ...pub.TopicPartition) {
	c.s.cl.ResumeFetchPartitions(group(tps))
}

func group(tps []pub.TopicPartition) map[string][]int32 {
	m := map[string][]int32{}
	for _, tp := range tps {
		m[tp.Topic] = append(m[tp.Topic], tp.Partition)
	}
	return m
}

func (c *sinkCtx) RequestCommit() {
	c.s.mu.Lock()
	c.s.commitAt = true
	c.s.mu.Unlock()
}

// ReportError is the errant-record reporter: with errors.tolerance=all
// the record goes to the dead-letter queue, otherwise the task fails.
func (c *sinkCtx) ReportError(ctx context.Context, r *pub.Record, err error) error {
	s := c.s
	if !s.tol.all {
		s.fail(fmt.Errorf("Tolerance exceeded in error handler: %w", err))
		return err
	}
	var kr *kgo.Record
	s.mu.Lock()
	for _, x := range s.raw {
		if x.Topic == r.OriginalTopic && x.Partition == r.OriginalPartition && x.Offset == r.OriginalOffset {
			kr = x
			break
		}
	}
	s.mu.Unlock()
	if kr != nil {
		s.toDLQ(ctx, kr, "TASK_PUT", err)
	}
	return nil
}

func (c *sinkCtx) Logger() *slog.Logger { return c.s.lg }

func commitRespErr(resp *kmsg.OffsetCommitResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("commit %s[%d]: %w", t.Topic, p.Partition, err)
			}
		}
	}
	return nil
}
