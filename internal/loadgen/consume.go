package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds the consuming side of a run: the consume workload
// and the consumers e2e shares. Each consumer is its own franz-go client
// polled by one goroutine. Without --group the partitions are dealt out
// round-robin and consumed directly from offsets listed up front; with
// --group the clients join the group (committing nothing) and the clock
// starts once every partition is assigned.

// endTracker follows, for a --from-start run, which partitions have not yet
// reached the end offsets listed at start. Its maps are fixed at
// construction; only the flags and the counter change.
type endTracker struct {
	ends      map[int32]int64
	done      map[int32]*atomic.Bool
	remaining atomic.Int64
	onDone    func() // called once, when every partition is caught up
	once      sync.Once
}

func newEndTracker(starts, ends map[int32]int64, onDone func()) *endTracker {
	t := &endTracker{ends: ends, done: make(map[int32]*atomic.Bool, len(ends)), onDone: onDone}
	for p, end := range ends {
		t.done[p] = new(atomic.Bool)
		if starts[p] >= end {
			t.done[p].Store(true)
		} else {
			t.remaining.Add(1)
		}
	}
	if t.remaining.Load() == 0 {
		t.once.Do(onDone)
	}
	return t
}

// saw notes that partition p was read up to offset.
func (t *endTracker) saw(p int32, offset int64) {
	end, ok := t.ends[p]
	if !ok || offset < end-1 {
		return
	}
	t.finish(p)
}

// startsAt notes where a group consumer starts p: at or past its end, p
// has nothing to read.
func (t *endTracker) startsAt(p int32, offset int64) {
	if end, ok := t.ends[p]; ok && offset >= end {
		t.finish(p)
	}
}

func (t *endTracker) finish(p int32) {
	if f := t.done[p]; f != nil && f.CompareAndSwap(false, true) && t.remaining.Add(-1) == 0 {
		t.once.Do(t.onDone)
	}
}

// consumeShared is what a run's consumers share.
type consumeShared struct {
	r        *run
	ends     *endTracker // --from-start only
	quota    int64       // measured records to take; 0: no limit
	taken    atomic.Int64
	finished chan struct{} // closed when caught up or the quota is taken
	once     sync.Once
}

func (sh *consumeShared) finish() { sh.once.Do(func() { close(sh.finished) }) }

// take reserves up to n records of the quota and returns how many it got.
func (sh *consumeShared) take(n int64) int64 {
	if sh.quota == 0 {
		return n
	}
	for {
		cur := sh.taken.Load()
		got := min(n, sh.quota-cur)
		if got <= 0 {
			return 0
		}
		if sh.taken.CompareAndSwap(cur, cur+got) {
			if cur+got == sh.quota {
				sh.finish()
			}
			return got
		}
	}
}

// consumer is one consumer client and its counters.
type consumer struct {
	index     int
	cl        *kgo.Client
	hooks     *hooks
	stamped   bool // e2e: values start with a send-time stamp
	hist      *Hist
	received  atomic.Int64 // data records received, warmup included
	recvBytes atomic.Int64
	measured  atomic.Int64
	bytes     atomic.Int64 // value bytes of the measured records
	lastNs    atomic.Int64 // clock time of the last measured record
	foreign   atomic.Int64 // e2e: records without a valid stamp
	fetchErrs atomic.Int64
	firstErr  firstError
}

// groupAssignment tracks which consumer owns which partition, to know when
// a group has handed out every partition to as many consumers as can get
// one.
type groupAssignment struct {
	mu     sync.Mutex
	owner  map[int32]int
	want   int
	owners int
	ready  chan struct{}
	once   sync.Once
}

func newGroupAssignment(partitions, consumers int) *groupAssignment {
	return &groupAssignment{owner: make(map[int32]int), want: partitions,
		owners: min(partitions, consumers), ready: make(chan struct{})}
}

func (g *groupAssignment) assign(c int, parts []int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range parts {
		g.owner[p] = c
	}
	distinct := map[int]bool{}
	for _, o := range g.owner {
		distinct[o] = true
	}
	if len(g.owner) >= g.want && len(distinct) >= g.owners {
		g.once.Do(func() { close(g.ready) })
	}
}

func (g *groupAssignment) revoke(c int, parts []int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range parts {
		if g.owner[p] == c {
			delete(g.owner, p)
		}
	}
}

func (g *groupAssignment) owns(c int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, o := range g.owner {
		if o == c {
			return true
		}
	}
	return false
}

// consumerOpts are the options every consumer client has. Control
// records are kept so a partition ending in a transaction marker is seen
// to be caught up; they are not counted.
func consumerOpts(c *consumer) []kgo.Opt {
	return []kgo.Opt{kgo.KeepControlRecords(), kgo.FetchMaxWait(fetchMaxWait), kgo.WithHooks(c.hooks)}
}

// newConsumers creates the consumer clients. starts are the first offsets
// to read (for a group, of partitions it has no commit for). Without a
// group the partitions are dealt out round-robin; the assignment is nil.
func (r *run) newConsumers(parts []int32, starts map[int32]int64, ends *endTracker, stamped bool) ([]*consumer, *groupAssignment, error) {
	cfg := r.cfg
	n, ga := cfg.Consumers, (*groupAssignment)(nil)
	if cfg.Group != "" {
		ga = newGroupAssignment(len(parts), n)
	} else if n = min(n, len(parts)); n < cfg.Consumers {
		r.warn("only %d of %d consumers get a partition: topic %s has %s", n, cfg.Consumers, cfg.Topic, plural(int64(len(parts)), "partition", "partitions"))
	}
	var cs []*consumer
	for i := range n {
		c := &consumer{index: i, hooks: newHooks(&r.consWire), stamped: stamped, hist: NewHist()}
		var opts []kgo.Opt
		if ga != nil {
			opts = r.groupOpts(c, ga, starts, ends)
		} else {
			offsets := map[int32]kgo.Offset{}
			for j, p := range parts {
				if j%n == i {
					offsets[p] = kgo.NewOffset().At(starts[p])
				}
			}
			opts = append(consumerOpts(c), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: offsets}))
		}
		cl, err := r.newClient(opts...)
		if err != nil {
			closeConsumers(cs)
			return nil, nil, err
		}
		c.cl = cl
		cs = append(cs, c)
	}
	return cs, ga, nil
}

// groupOpts are the options of consumer c in the group: it commits
// nothing, starts partitions without a commit at starts, and reports its
// assignment to ga.
func (r *run) groupOpts(c *consumer, ga *groupAssignment, starts map[int32]int64, ends *endTracker) []kgo.Opt {
	topic, i := r.cfg.Topic, c.index
	return append(consumerOpts(c),
		kgo.ConsumerGroup(r.cfg.Group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		// A marker for "no commit", replaced below by the offset listed
		// up front.
		kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(func(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
			for p, off := range offsets[topic] {
				at := off.EpochOffset().Offset
				if at < 0 {
					at = starts[p]
					offsets[topic][p] = kgo.NewOffset().At(at)
				}
				if ends != nil {
					ends.startsAt(p, at)
				}
			}
			return offsets, nil
		}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { ga.assign(i, m[topic]) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { ga.revoke(i, m[topic]) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { ga.revoke(i, m[topic]) }),
	)
}

func closeConsumers(cs []*consumer) {
	for _, c := range cs {
		c.cl.Close()
	}
}

// waitConsumersReady waits, for a group, until every partition is
// assigned, and, if fetching is set, until each consumer with partitions
// has sent its first fetch, so e2e's first records do not pay for the
// consumers' connections.
func (r *run) waitConsumersReady(ctx context.Context, cs []*consumer, ga *groupAssignment, fetching bool) error {
	timeout := r.cfg.Timeout
	if ga != nil {
		timeout = max(timeout, groupJoinTimeout)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	if ga != nil {
		select {
		case <-ga.ready:
		case <-t.C:
			return fmt.Errorf("group %s did not assign every partition of topic %s to the consumers within %s", r.cfg.Group, r.cfg.Topic, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !fetching {
		return nil
	}
	for _, c := range cs {
		if ga != nil && !ga.owns(c.index) {
			continue
		}
		select {
		case <-c.hooks.fetched:
		case <-t.C:
			return fmt.Errorf("consumer %d sent no fetch request within %s", c.index, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// run polls until ctx ends.
func (c *consumer) run(ctx context.Context, sh *consumeShared) {
	r := sh.r
	for {
		fetches := c.cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		now := r.clock.now()
		fetches.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
				return
			}
			c.fetchErrs.Add(1)
			c.firstErr.set(err)
		})
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			if c.stamped {
				c.takeStamped(fp.Records, now, r.times.warmupEndNs.Load())
			} else {
				c.takeCounted(fp.Records, now, sh)
			}
			if sh.ends != nil {
				sh.ends.saw(fp.Partition, fp.Records[len(fp.Records)-1].Offset)
			}
		})
	}
}

// takeCounted counts one partition's fetched records: measured if
// received after the warmup, within the --count quota.
func (c *consumer) takeCounted(recs []*kgo.Record, now int64, sh *consumeShared) {
	var n, all int64
	for _, r := range recs {
		if !r.Attrs.IsControl() {
			n++
			all += int64(len(r.Value))
		}
	}
	if n == 0 {
		return
	}
	c.received.Add(n)
	c.recvBytes.Add(all)
	if now < sh.r.times.warmupEndNs.Load() {
		return
	}
	allow := sh.take(n)
	if allow == 0 {
		return
	}
	var k, bytes int64
	for _, r := range recs {
		if r.Attrs.IsControl() {
			continue
		}
		if k == allow {
			break
		}
		k++
		bytes += int64(len(r.Value))
	}
	c.measured.Add(allow)
	c.bytes.Add(bytes)
	c.lastNs.Store(now)
}

// takeStamped takes one partition's fetched e2e records: the latency of
// each is now minus its stamp; records sent after the warmup are measured.
func (c *consumer) takeStamped(recs []*kgo.Record, now, warmupEnd int64) {
	var got, gotBytes, meas, measBytes, foreign int64
	for _, r := range recs {
		if r.Attrs.IsControl() {
			continue
		}
		if len(r.Value) < StampBytes {
			foreign++
			continue
		}
		st := int64(binary.BigEndian.Uint64(r.Value))
		if st < 0 || st > now {
			foreign++
			continue
		}
		got++
		gotBytes += int64(len(r.Value))
		if st >= warmupEnd {
			meas++
			measBytes += int64(len(r.Value))
			c.hist.Record(now - st)
		}
	}
	c.received.Add(got)
	c.recvBytes.Add(gotBytes)
	c.foreign.Add(foreign)
	if meas > 0 {
		c.measured.Add(meas)
		c.bytes.Add(measBytes)
		c.lastNs.Store(now)
	}
}

// consumerTotals sums the consumers' counters.
type consumerTotals struct {
	received, recvBytes, measured, bytes, foreign, fetchErrs int64
	lastNs                                                   int64
	firstErr                                                 error
}

func sumConsumers(cs []*consumer) consumerTotals {
	var t consumerTotals
	for _, c := range cs {
		t.received += c.received.Load()
		t.recvBytes += c.recvBytes.Load()
		t.measured += c.measured.Load()
		t.bytes += c.bytes.Load()
		t.foreign += c.foreign.Load()
		t.fetchErrs += c.fetchErrs.Load()
		t.lastNs = max(t.lastNs, c.lastNs.Load())
		if err := c.firstErr.get(); err != nil && t.firstErr == nil {
			t.firstErr = err
		}
	}
	return t
}

func consumerHists(cs []*consumer) []*Hist {
	hs := make([]*Hist, len(cs))
	for i, c := range cs {
		hs[i] = c.hist
	}
	return hs
}

// pollers runs the consumers' poll loops until stop is called.
type pollers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startConsumers(ctx context.Context, cs []*consumer, sh *consumeShared) *pollers {
	pctx, cancel := context.WithCancel(ctx)
	bp := &pollers{cancel: cancel}
	for _, c := range cs {
		bp.wg.Go(func() { c.run(pctx, sh) })
	}
	return bp
}

func (bp *pollers) stop() {
	bp.cancel()
	bp.wg.Wait()
}

// runConsume is the consume workload.
func (r *run) runConsume(ctx context.Context, td kadm.TopicDetail) (*Result, error) {
	c := r.cfg
	parts := td.Partitions.Numbers()
	slices.Sort(parts)
	starts, ends, err := r.listOffsets(ctx, parts, !c.FromStart)
	if err != nil {
		return nil, err
	}
	sh := &consumeShared{r: r, quota: c.Count, finished: make(chan struct{})}
	if c.FromStart {
		sh.ends = newEndTracker(starts, ends, sh.finish)
		if sh.ends.remaining.Load() == 0 {
			return nil, fmt.Errorf("topic %s has no records to consume (fill it first, for example with samsa bench produce --topic %s)", c.Topic, c.Topic)
		}
	}
	r.clock = clock{base: time.Now()}
	cs, ga, err := r.newConsumers(parts, starts, sh.ends, false)
	if err != nil {
		return nil, err
	}
	defer closeConsumers(cs)
	pollers := startConsumers(ctx, cs, sh)
	defer pollers.stop()
	if err := r.waitConsumersReady(ctx, cs, ga, false); err != nil {
		return nil, err
	}

	r.times.start(r.clock.now(), c)
	prog := r.startProgress(func() (int64, int64) {
		t := sumConsumers(cs)
		return t.received, t.recvBytes
	}, func() []*Hist { return nil })
	win := r.newWindow()
	why := r.waitUntil(ctx, r.times.warmupEndNs.Load(), sh.finished)
	win.begin()
	if why == stopTime {
		why = r.waitUntil(ctx, r.times.stopNs.Load(), sh.finished)
	}
	stoppedNs := r.clock.now()
	pollers.stop()
	prog.stop()
	res := &Result{Interrupted: why == stopInterrupt}
	win.end(res)

	t := sumConsumers(cs)
	warmupEnd := r.times.warmupEndNs.Load()
	endNs := stoppedNs
	switch {
	case why == stopTime:
		endNs = r.times.stopNs.Load()
	case why == stopDone && t.measured > 0:
		endNs = t.lastNs
	}
	res.setTotals(t.measured, t.bytes, math.Max(float64(endNs-warmupEnd)/1e9, 0))
	res.Errors = t.fetchErrs
	if t.firstErr != nil {
		res.FirstError = r.describe(t.firstErr)
	}
	return res, nil
}
