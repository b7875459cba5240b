package clustertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerOptions configures StartProducer.
type ProducerOptions struct {
	// Name identifies the producer in the History; its values are
	// "<Name>-<seq>" (default "w").
	Name string
	// Topic is written to.
	Topic string
	// Partitions are written round-robin in send order (default {0}).
	Partitions []int32
	// Interval is the pause between sends (default 2ms).
	Interval time.Duration
	// MaxInFlight bounds the records sent and not yet acknowledged or
	// failed (default 500); the producer waits when it is reached.
	MaxInFlight int
	// Count, if positive, stops the producer after that many sends.
	Count int64
	// Opts are extra client options, applied after the defaults (an
	// idempotent acks=all franz-go producer with unlimited record retries,
	// a 5s produce timeout and metadata refreshed at most every 200ms).
	Opts []kgo.Opt
}

// Producer is a workload writing unique values and recording every
// acknowledgement and failure in a History. Its one sending goroutine is
// stopped and waited by Stop (also at the end of the test).
type Producer struct {
	h      *History
	cl     *kgo.Client
	o      ProducerOptions
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	sem    chan struct{}

	sent      atomic.Int64
	acked     atomic.Int64
	stopping  atomic.Bool
	cancelled atomic.Int64 // records failed by Stop before they were sent
	stopOnce  sync.Once
	stopErr   error
}

// StartProducer starts writing to o.Topic through seeds.
func StartProducer(t testing.TB, seeds []string, h *History, o ProducerOptions) *Producer {
	t.Helper()
	if o.Name == "" {
		o.Name = "w"
	}
	if len(o.Partitions) == 0 {
		o.Partitions = []int32{0}
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Millisecond
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 500
	}
	name := o.Name
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("chaos-" + name),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(o.Topic),
		kgo.ProducerLinger(2 * time.Millisecond),
		kgo.ProduceRequestTimeout(5 * time.Second),
		kgo.RequestTimeoutOverhead(3 * time.Second),
		kgo.MetadataMinAge(200 * time.Millisecond),
		kgo.MaxBufferedRecords(2 * o.MaxInFlight),
		kgo.ProducerOnDataLossDetected(func(topic string, p int32) {
			h.Event("producer %s: franz-go detected data loss on %s/%d", name, topic, p)
		}),
	}
	cl, err := kgo.NewClient(append(opts, o.Opts...)...)
	if err != nil {
		t.Fatalf("clustertest: producer %s: %v", name, err)
	}
	p := &Producer{h: h, cl: cl, o: o, done: make(chan struct{}), sem: make(chan struct{}, o.MaxInFlight)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.run() // owned by p; stopped by Stop (cancel); waited via p.done
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })
	return p
}

func (p *Producer) run() {
	defer close(p.done)
	tick := time.NewTicker(p.o.Interval)
	defer tick.Stop()
	for seq := int64(0); p.o.Count <= 0 || seq < p.o.Count; seq++ {
		select {
		case <-p.ctx.Done():
			return
		case p.sem <- struct{}{}:
		}
		part := p.o.Partitions[int(seq%int64(len(p.o.Partitions)))]
		value := fmt.Sprintf("%s-%d", p.o.Name, seq)
		p.h.Sent(p.o.Name, seq, value, part)
		sentAt := time.Now()
		p.sent.Add(1)
		rec := &kgo.Record{Partition: part, Value: []byte(value)}
		p.cl.Produce(context.Background(), rec, func(r *kgo.Record, err error) {
			defer func() { <-p.sem }()
			if err == nil {
				p.acked.Add(1)
				p.h.Acked(Ack{Producer: p.o.Name, Seq: seq, Value: value, Partition: r.Partition, Offset: r.Offset, SentAt: sentAt, At: time.Now()})
				return
			}
			if p.stopping.Load() && (errors.Is(err, kgo.ErrClientClosed) || errors.Is(err, context.Canceled)) {
				// Given up by Stop itself: unknown fate, but not an
				// error the workload saw while running.
				p.cancelled.Add(1)
				return
			}
			p.h.Failed(ProduceError{Producer: p.o.Name, Seq: seq, Value: value, Partition: part, Err: err, At: time.Now()})
		})
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Client is the producer's franz-go client.
func (p *Producer) Client() *kgo.Client { return p.cl }

// Wait waits until a producer with a Count has sent everything and every
// record is acknowledged or failed, or ctx ends.
func (p *Producer) Wait(ctx context.Context) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("producer %s: sent %d of %d: %w", p.o.Name, p.sent.Load(), p.o.Count, ctx.Err())
	}
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("producer %s: %d of %d acknowledged: %w", p.o.Name, p.acked.Load(), p.sent.Load(), err)
	}
	return nil
}

// Sent is the number of records handed to the client so far.
func (p *Producer) Sent() int64 { return p.sent.Load() }

// Acked is the number of acknowledged records so far.
func (p *Producer) Acked() int64 { return p.acked.Load() }

// WaitAcked waits until at least n more records than now are acknowledged,
// or ctx ends.
func (p *Producer) WaitAcked(ctx context.Context, n int64) error {
	want := p.acked.Load() + n
	for p.acked.Load() < want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("producer %s: %d of %d acknowledgements: %w", p.o.Name, p.acked.Load()-(want-n), n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Stop stops sending, waits up to timeout for the outstanding records to be
// acknowledged or failed, and closes the client. Records still outstanding
// then are given up (their fate is unknown; they are not recorded as
// errors). It returns an error if some were. Later calls return the first
// call's result.
func (p *Producer) Stop(timeout time.Duration) error {
	p.stopOnce.Do(func() {
		p.cancel()
		<-p.done
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := p.cl.Flush(ctx)
		cancel()
		p.stopping.Store(true)
		p.cl.Close()
		if err != nil {
			p.stopErr = fmt.Errorf("producer %s: %d records still unacknowledged %v after stopping: %w", p.o.Name, p.cancelled.Load(), timeout, err)
			p.h.Event("%v", p.stopErr)
		}
	})
	return p.stopErr
}

// ConsumerOptions configures StartGroupConsumer.
type ConsumerOptions struct {
	// Name is the Read.Source of what it consumes (default "group").
	Name string
	// Group and Topic are the consumer group and the topic it reads.
	Group, Topic string
	// Opts are extra client options, applied after the defaults.
	Opts []kgo.Opt
}

// Consumer is a group consumer recording every record it sees in a History.
// Its goroutine is stopped and waited by Stop (also at the end of the test).
type Consumer struct {
	cl     *kgo.Client
	h      *History
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	seen   atomic.Int64
	once   sync.Once

	mu   sync.Mutex
	errs []string
}

// StartGroupConsumer joins o.Group and consumes o.Topic from the start,
// committing offsets automatically every second.
func StartGroupConsumer(t testing.TB, seeds []string, h *History, o ConsumerOptions) *Consumer {
	t.Helper()
	if o.Name == "" {
		o.Name = "group"
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("chaos-" + o.Name),
		kgo.ConsumerGroup(o.Group),
		kgo.ConsumeTopics(o.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.AutoCommitInterval(time.Second),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.RequestTimeoutOverhead(3 * time.Second),
		kgo.MetadataMinAge(200 * time.Millisecond),
	}
	cl, err := kgo.NewClient(append(opts, o.Opts...)...)
	if err != nil {
		t.Fatalf("clustertest: consumer %s: %v", o.Name, err)
	}
	c := &Consumer{cl: cl, h: h, name: o.Name, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(ctx) // owned by c; stopped by Stop (cancel); waited via c.done
	t.Cleanup(c.Stop)
	return c
}

func (c *Consumer) run(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		fs := c.cl.PollFetches(ctx)
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return
			}
			c.mu.Lock()
			if len(c.errs) < 100 {
				c.errs = append(c.errs, fmt.Sprintf("%s %s/%d: %v", time.Now().Format("15:04:05.000"), topic, p, err))
			}
			c.mu.Unlock()
		})
		fs.EachRecord(func(r *kgo.Record) {
			c.seen.Add(1)
			c.h.Consumed(Read{Source: c.name, Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
		})
	}
}

// Client is the consumer's franz-go client.
func (c *Consumer) Client() *kgo.Client { return c.cl }

// Seen is the number of records consumed so far.
func (c *Consumer) Seen() int64 { return c.seen.Load() }

// Errors lists the fetch errors seen (at most 100).
func (c *Consumer) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}

// Stop stops consuming, commits what was consumed (best effort, 5s) and
// closes the client.
func (c *Consumer) Stop() {
	c.once.Do(func() {
		c.cancel()
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.cl.CommitUncommittedOffsets(ctx)
		cancel()
		c.cl.Close()
	})
}

// ReadAll reads every partition of topic from its start up to its end
// offset at the time of the call (the high watermark, or with committed the
// last stable offset, reading read_committed), and returns the records as
// Reads with Source "final". It waits (within ctx) until every partition
// answers ListOffsets. Read committed, a partition may end with control
// records (transaction markers) that are never returned, so the read also
// ends once nothing new arrives for 2 seconds without a fetch error.
func ReadAll(ctx context.Context, seeds []string, topic string, committed bool) ([]Read, error) {
	admCl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(200*time.Millisecond), kgo.RequestTimeoutOverhead(3*time.Second))
	if err != nil {
		return nil, err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	var ends map[int32]int64
	for {
		ends, err = endOffsets(ctx, adm, topic, committed)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read back %s: end offsets: %v (%w)", topic, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	start := map[int32]kgo.Offset{}
	next := map[int32]int64{}
	remaining := 0
	for p, end := range ends {
		start[p] = kgo.NewOffset().AtStart()
		next[p] = 0
		if end > 0 {
			remaining++
		}
	}
	if remaining == 0 {
		return nil, nil
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.MetadataMinAge(200 * time.Millisecond),
		kgo.RequestTimeoutOverhead(3 * time.Second),
	}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []Read
	var lastErr error
	lastProgress := time.Now()
	for {
		done := true
		for p, end := range ends {
			if next[p] < end {
				done = false
			}
		}
		if done || (committed && time.Since(lastProgress) > 2*time.Second && lastErr == nil) {
			return out, nil
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			var short []string
			for _, p := range slices.Sorted(maps.Keys(ends)) {
				if next[p] < ends[p] {
					short = append(short, fmt.Sprintf("p%d at %d of %d", p, next[p], ends[p]))
				}
			}
			return out, fmt.Errorf("read back %s: incomplete (%s); last error %v: %w", topic, strings.Join(short, ", "), lastErr, ctx.Err())
		}
		lastErr = nil
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				lastErr = err
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= ends[r.Partition] {
				return // written after the call
			}
			out = append(out, Read{Source: "final", Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
			lastProgress = time.Now()
		})
	}
}

// endOffsets lists every partition's end offset, failing if any partition
// has an error or the topic is unknown.
func endOffsets(ctx context.Context, adm *kadm.Client, topic string, committed bool) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var lo kadm.ListedOffsets
	var err error
	if committed {
		lo, err = adm.ListCommittedOffsets(ctx, topic)
	} else {
		lo, err = adm.ListEndOffsets(ctx, topic)
	}
	if err != nil {
		return nil, err
	}
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	td, ok := md.Topics[topic]
	if !ok {
		return nil, fmt.Errorf("metadata of %s: the topic is not in the answer", topic)
	}
	if td.Err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, td.Err)
	}
	ends := map[int32]int64{}
	for p := range td.Partitions {
		o, ok := lo.Lookup(topic, p)
		if !ok {
			return nil, fmt.Errorf("%s/%d: no end offset", topic, p)
		}
		if o.Err != nil {
			return nil, fmt.Errorf("%s/%d: %w", topic, p, o.Err)
		}
		ends[p] = o.Offset
	}
	return ends, nil
}

// WaitLeaders is check V: it waits up to within for every partition of
// topics to have a leader that is among the brokers Metadata lists, and
// otherwise returns an error naming the partitions without one.
func WaitLeaders(ctx context.Context, seeds []string, within time.Duration, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(100*time.Millisecond), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var problems []string
	for {
		problems = problems[:0]
		mctx, mcancel := context.WithTimeout(ctx, 3*time.Second)
		md, err := adm.Metadata(mctx, topics...)
		mcancel()
		if err != nil {
			problems = append(problems, fmt.Sprintf("metadata: %v", err))
		} else {
			live := map[int32]bool{}
			for _, b := range md.Brokers {
				live[b.NodeID] = true
			}
			for _, topic := range topics {
				td, ok := md.Topics[topic]
				switch {
				case !ok:
					problems = append(problems, topic+": not in metadata")
					continue
				case td.Err != nil:
					problems = append(problems, fmt.Sprintf("%s: %v", topic, td.Err))
					continue
				}
				for _, pd := range td.Partitions.Sorted() {
					switch {
					case pd.Err != nil:
						problems = append(problems, fmt.Sprintf("%s/%d: %v (leader %d, isr %v)", topic, pd.Partition, pd.Err, pd.Leader, pd.ISR))
					case pd.Leader < 0 || !live[pd.Leader]:
						problems = append(problems, fmt.Sprintf("%s/%d: no live leader (leader %d, replicas %v, isr %v)", topic, pd.Partition, pd.Leader, pd.Replicas, pd.ISR))
					}
				}
			}
		}
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("check V: partitions without a leader %v after healing: %s", within, strings.Join(problems, "; "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FailoverTime waits up to within for the first acknowledgement on
// partition after a fault injected at faultAt (a kill -9 of its leader) and
// returns how long after the fault it arrived: the time the partition was
// unavailable to an acks=all producer.
func (h *History) FailoverTime(ctx context.Context, partition int32, faultAt time.Time, within time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		if a, ok := h.FirstAckAfter(partition, faultAt); ok {
			return a.At.Sub(faultAt), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("partition %d: no write acknowledged within %v of the fault", partition, within)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
