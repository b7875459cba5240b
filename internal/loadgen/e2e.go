package loadgen

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// This file holds the EndToEnd workload: producers stamp each
// value with its (intended) send time on the run's clock; consumers in this
// process, positioned at the end of every partition before the first send,
// compute now − stamp for each record they receive.

// e2eDrainPoll is how often the end of an e2e run checks whether every
// acknowledged record has been consumed.
const e2eDrainPoll = 5 * time.Millisecond

func (r *run) runE2E(ctx context.Context, td kadm.TopicDetail) (*Result, error) {
	c := r.cfg
	parts := td.Partitions.Numbers()
	slices.Sort(parts)
	starts, _, err := r.listOffsets(ctx, parts, true)
	if err != nil {
		return nil, err
	}
	r.clock = clock{base: time.Now()}
	sh := &consumeShared{r: r, finished: make(chan struct{})}
	cs, ga, err := r.newConsumers(parts, starts, nil, true)
	if err != nil {
		return nil, err
	}
	defer closeConsumers(cs)
	ps, err := r.newProducers(true)
	if err != nil {
		return nil, err
	}
	defer closeProducers(ps)
	pollers := startConsumers(ctx, cs, sh)
	defer pollers.stop()
	if err := r.waitConsumersReady(ctx, cs, ga, true); err != nil {
		return nil, err
	}

	r.times.start(r.clock.now(), c)
	senders := r.startProducers(ps, ctx.Done())
	prog := r.startProgress(func() (int64, int64) {
		t := sumConsumers(cs)
		return t.received, t.recvBytes
	}, func() []*Hist { return consumerHists(cs) })
	win := r.newWindow()
	if r.waitUntil(ctx, r.times.warmupEndNs.Load(), senders.done) == stopTime {
		win.begin()
	}
	<-senders.done
	r.flushProducers(ctx, ps)

	r.drain(ctx, ps, cs)
	pollers.stop()
	prog.stop()
	res := &Result{Interrupted: ctx.Err() != nil}
	win.end(res)
	r.e2eResult(res, ps, cs)
	return res, nil
}

// drain waits, bounded by the timeout, for the consumers to receive every
// acknowledged record.
func (r *run) drain(ctx context.Context, ps []*producer, cs []*consumer) {
	target := sumProducers(ps).acked
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	tick := time.NewTicker(e2eDrainPoll)
	defer tick.Stop()
	for sumConsumers(cs).received < target && ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// e2eResult fills res from the producers' and consumers' counters.
func (r *run) e2eResult(res *Result, ps []*producer, cs []*consumer) {
	pt := sumProducers(ps)
	ct := sumConsumers(cs)
	secs := 0.0
	if ct.measured > 0 {
		secs = float64(ct.lastNs-r.times.warmupEndNs.Load()) / 1e9
	}
	res.setTotals(ct.measured, ct.bytes, math.Max(secs, 0))
	res.Latency = Merge(consumerHists(cs)...).Summary()
	res.ProduceLatency = Merge(producerHists(ps)...).Summary()
	res.Errors = pt.failed + ct.fetchErrs
	res.Missing = max(pt.acked-ct.received, 0)
	switch {
	case pt.firstErr != nil:
		res.FirstError = r.describe(pt.firstErr)
	case ct.firstErr != nil:
		res.FirstError = r.describe(ct.firstErr)
	case res.Missing > 0:
		res.FirstError = fmt.Sprintf("%s acknowledged but not consumed within %s", plural(res.Missing, "record was", "records were"), r.cfg.Timeout)
	}
	if ct.foreign > 0 {
		r.warn("%s without a valid send-time stamp ignored (is another producer writing to topic %s?)", plural(ct.foreign, "record", "records"), r.cfg.Topic)
	}
}
