package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// This file holds the e2e workload of `samsa bench`: producers stamp each
// value with its (intended) send time on the run's clock; consumers in this
// process, positioned at the end of every partition before the first send,
// compute now − stamp for each record they receive.

// e2eDrainPoll is how often the end of an e2e run checks whether every
// acknowledged record has been consumed.
const e2eDrainPoll = 5 * time.Millisecond

func (e *benchEnv) runE2E(ctx context.Context, td kadm.TopicDetail) (*benchResult, error) {
	o := e.o
	parts := td.Partitions.Numbers()
	slices.Sort(parts)
	starts, _, err := e.listOffsets(ctx, parts, startSpec{kind: startEnd})
	if err != nil {
		return nil, err
	}
	e.clock = benchClock{base: time.Now()}
	sh := &consumeShared{e: e, finished: make(chan struct{})}
	cs, ga, err := e.newConsumers(parts, starts, nil, true)
	if err != nil {
		return nil, err
	}
	defer closeConsumers(cs)
	ps, err := e.newProducers(true)
	if err != nil {
		return nil, err
	}
	defer closeProducers(ps)
	pollers := startConsumers(ctx, cs, sh)
	defer pollers.stop()
	if err := e.waitConsumersReady(ctx, cs, ga, true); err != nil {
		return nil, err
	}

	e.times.start(e.clock.now(), o)
	senders := e.startProducers(ps, ctx.Done())
	prog := e.startProgress(func() (int64, int64) {
		t := sumConsumers(cs)
		return t.received, t.recvBytes
	}, func() []*latencyHist { return consumerHists(cs) })
	win := e.newWindow()
	if e.waitUntil(ctx, e.times.warmupEndNs.Load(), senders.done) == stopTime {
		win.begin()
	}
	<-senders.done
	e.flushProducers(ctx, ps)

	// Wait for the consumers to receive every acknowledged record.
	target := sumProducers(ps).acked
	drainCtx, cancel := context.WithTimeout(ctx, e.cf.timeout)
	tick := time.NewTicker(e2eDrainPoll)
	for sumConsumers(cs).received < target && drainCtx.Err() == nil {
		select {
		case <-tick.C:
		case <-drainCtx.Done():
		}
	}
	tick.Stop()
	cancel()
	pollers.stop()
	prog.stop()
	res := &benchResult{Interrupted: ctx.Err() != nil}
	win.end(res)

	pt := sumProducers(ps)
	ct := sumConsumers(cs)
	secs := 0.0
	if ct.measured > 0 {
		secs = float64(ct.lastNs-e.times.warmupEndNs.Load()) / 1e9
	}
	res.setTotals(ct.measured, ct.bytes, math.Max(secs, 0))
	res.Latency = mergeHists(consumerHists(cs)).summary()
	res.ProduceLatency = mergeHists(producerHists(ps)).summary()
	res.Errors = pt.failed + ct.fetchErrs
	res.Missing = max(pt.acked-ct.received, 0)
	switch {
	case pt.firstErr != nil:
		res.FirstError = e.cf.explain(e.cmd, pt.firstErr)
	case ct.firstErr != nil:
		res.FirstError = e.cf.explain(e.cmd, ct.firstErr)
	case res.Missing > 0:
		res.FirstError = fmt.Sprintf("%s acknowledged but not consumed within %s", plural(res.Missing, "record was", "records were"), e.cf.timeout)
	}
	if ct.foreign > 0 {
		e.warnf("%s without a valid send-time stamp ignored (is another producer writing to topic %s?)", plural(ct.foreign, "record", "records"), o.topic)
	}
	return res, nil
}
