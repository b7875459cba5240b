package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds the producing side of `samsa bench`: the produce workload
// and the producers e2e shares.
//
// Each producer is its own franz-go client driven by one goroutine that
// produces asynchronously. Records live in a fixed set of slots (the
// --max-buffered-records window): a slot is taken to send and handed back
// by the record's promise, so the number in flight is bounded, a full
// window blocks the sender (whose lateness then shows in the latency under
// --rate), and nothing is allocated per record. Without stamps every slot
// shares one value; with stamps (e2e) each slot has its own.

// sendSchedule places one producer's sends on a timeline. With --rate R
// shared by P producers, producer i sends its k-th record at
// start + (i + k·P)/R seconds: together the producers send one record every
// 1/R seconds, evenly interleaved. A zero period means as fast as possible.
type sendSchedule struct {
	startNs  int64
	periodNs float64
}

func newSendSchedule(rate float64, producers, index int, startNs int64) sendSchedule {
	if rate <= 0 {
		return sendSchedule{startNs: startNs}
	}
	return sendSchedule{
		startNs:  startNs + int64(float64(index)*1e9/rate),
		periodNs: 1e9 * float64(producers) / rate,
	}
}

// at returns the intended send time of record k. It is computed from k
// rather than accumulated, so rounding does not drift over a long run.
func (s sendSchedule) at(k int64) int64 {
	return s.startNs + int64(float64(k)*s.periodNs)
}

// splitCount returns part i of total split as evenly as possible over n
// parts.
func splitCount(total int64, n, i int) int64 {
	q, r := total/int64(n), total%int64(n)
	if int64(i) < r {
		return q + 1
	}
	return q
}

// benchPayload returns a value of size random uppercase letters, as Kafka's
// kafka-producer-perf-test uses: compressible like text, not like zeros.
func benchPayload(size int) []byte {
	r := rand.New(rand.NewPCG(0x5a, 0x3a))
	b := make([]byte, size)
	for i := range b {
		b[i] = 'A' + byte(r.IntN(26))
	}
	return b
}

// benchKey returns the i-th distinct key.
func benchKey(i int64) []byte {
	return strconv.AppendInt([]byte("key-"), i, 10)
}

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = benchKey(int64(i))
	}
	return keys
}

// benchSlot is one record in the in-flight window.
type benchSlot struct {
	rec      kgo.Record
	value    []byte
	sentNs   int64 // intended (with --rate) or actual send time
	measured bool  // sent after the warmup
	promise  func(*kgo.Record, error)
}

// benchProducer is one producer client and its counters.
type benchProducer struct {
	e        *benchEnv
	index    int
	cl       *kgo.Client
	slots    chan *benchSlot // free slots; capacity is the window
	stamp    bool
	keys     [][]byte
	sched    sendSchedule
	quota    int64 // measured records to send; 0: no limit
	hist     *latencyHist
	acked    atomic.Int64 // all acknowledged records
	measured atomic.Int64 // acknowledged records sent after the warmup
	failed   atomic.Int64
	lastAck  atomic.Int64 // clock time of the last measured ack
	firstErr firstError
}

// newProducers creates the --producers clients; stamp puts the send time
// in the first 8 bytes of every value.
func (e *benchEnv) newProducers(stamp bool) ([]*benchProducer, error) {
	o := e.o
	opts, err := o.producerOpts()
	if err != nil {
		return nil, err
	}
	window := o.maxBuffered
	if stamp {
		window = min(window, max(16, benchStampedBufBytes/max(o.recordSize, 1)))
	}
	opts = append(opts,
		// The slots bound what is in flight; franz-go's own limit is
		// set above it so it never blocks first (a slot returns in the
		// promise, just before franz-go counts the record as done).
		kgo.MaxBufferedRecords(2*window+1),
		kgo.RecordDeliveryTimeout(e.cf.timeout),
		kgo.WithHooks(newBenchHooks(&e.prodWire)),
	)
	payload := benchPayload(o.recordSize)
	keys := benchKeys(o.keys)
	var ps []*benchProducer
	for i := range o.producers {
		cl, err := e.newClient(opts...)
		if err != nil {
			closeProducers(ps)
			return nil, err
		}
		p := &benchProducer{e: e, index: i, cl: cl, stamp: stamp, keys: keys, hist: newLatencyHist(),
			slots: make(chan *benchSlot, window)}
		for range window {
			s := &benchSlot{value: payload}
			if stamp {
				s.value = bytes.Clone(payload)
			}
			s.promise = p.promiseFor(s)
			p.slots <- s
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func closeProducers(ps []*benchProducer) {
	for _, p := range ps {
		p.cl.Close()
	}
}

// promiseFor returns s's promise, made once per slot so producing
// allocates no closure per record. franz-go calls a client's promises one
// at a time.
func (p *benchProducer) promiseFor(s *benchSlot) func(*kgo.Record, error) {
	return func(_ *kgo.Record, err error) {
		if err != nil {
			p.failed.Add(1)
			p.firstErr.set(err)
		} else {
			p.acked.Add(1)
			if s.measured {
				now := p.e.clock.now()
				p.hist.record(now - s.sentNs)
				p.measured.Add(1)
				p.lastAck.Store(now)
			}
		}
		p.slots <- s // never blocks: the channel holds every slot
	}
}

// run sends until the schedule passes the stop time, the quota is sent,
// or stop closes.
func (p *benchProducer) run(stop <-chan struct{}) {
	times := p.e.times
	warmupEnd, stopNs := times.warmupEndNs.Load(), times.stopNs.Load()
	nprod := int64(p.e.o.producers)
	// Records are not tied to the run's context: an interrupted run
	// still delivers (or times out) what it sent.
	ctx := context.Background()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var sentMeasured int64
	for k := int64(0); ; k++ {
		select {
		case <-stop:
			return
		default:
		}
		var at int64
		if p.sched.periodNs > 0 {
			at = p.sched.at(k)
			if at >= stopNs {
				return
			}
			if wait := at - p.e.clock.now(); wait > 0 {
				timer.Reset(time.Duration(wait))
				select {
				case <-timer.C:
				case <-stop:
					timer.Stop()
					return
				}
			}
		} else if at = p.e.clock.now(); at >= stopNs {
			return
		}
		measured := at >= warmupEnd
		if measured && p.quota > 0 {
			if sentMeasured >= p.quota {
				return
			}
			sentMeasured++
		}
		var s *benchSlot
		select {
		case s = <-p.slots:
		default:
			select {
			case s = <-p.slots:
			case <-stop:
				return
			}
		}
		s.sentNs, s.measured = at, measured
		if p.stamp {
			binary.BigEndian.PutUint64(s.value, uint64(at))
		}
		s.rec = kgo.Record{Value: s.value}
		if len(p.keys) > 0 {
			s.rec.Key = p.keys[(k*nprod+int64(p.index))%int64(len(p.keys))]
		}
		p.cl.Produce(ctx, &s.rec, s.promise)
	}
}

// benchSenders runs the producers' send loops; done closes when all have
// returned.
type benchSenders struct {
	wg   sync.WaitGroup
	done chan struct{}
}

// startProducers schedules the producers from the run's start time and
// starts their send loops, which end early when stop closes.
func (e *benchEnv) startProducers(ps []*benchProducer, stop <-chan struct{}) *benchSenders {
	start := e.times.startNs.Load()
	s := &benchSenders{done: make(chan struct{})}
	for i, p := range ps {
		p.sched = newSendSchedule(e.o.rate, len(ps), i, start)
		p.quota = splitCount(e.o.count, len(ps), i)
		if e.o.count > 0 && p.quota == 0 {
			continue // more producers than records
		}
		s.wg.Go(func() { p.run(stop) })
	}
	go func() { // owned by s; ends when the send loops have
		s.wg.Wait()
		close(s.done)
	}()
	return s
}

// flushProducers waits for every sent record to be acknowledged or to
// fail, bounded by --timeout (records time out by then too). An interrupt
// (ctx ending) does not cut it short: what was sent is still accounted for.
func (e *benchEnv) flushProducers(ctx context.Context, ps []*benchProducer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cf.timeout+e.cf.timeout/2)
	defer cancel()
	for _, p := range ps {
		if err := p.cl.Flush(ctx); err != nil {
			p.firstErr.set(err)
		}
	}
}

// producerTotals sums the producers' counters.
type producerTotals struct {
	acked, measured, failed int64
	lastAck                 int64
	firstErr                error
}

func sumProducers(ps []*benchProducer) producerTotals {
	var t producerTotals
	for _, p := range ps {
		t.acked += p.acked.Load()
		t.measured += p.measured.Load()
		t.failed += p.failed.Load()
		t.lastAck = max(t.lastAck, p.lastAck.Load())
		if err := p.firstErr.get(); err != nil && t.firstErr == nil {
			t.firstErr = err
		}
	}
	return t
}

func producerHists(ps []*benchProducer) []*latencyHist {
	hs := make([]*latencyHist, len(ps))
	for i, p := range ps {
		hs[i] = p.hist
	}
	return hs
}

func mergeHists(hs []*latencyHist) *histSnapshot {
	s := newHistSnapshot()
	for _, h := range hs {
		s.add(h)
	}
	return s
}

// runProduce is the produce workload.
func (e *benchEnv) runProduce(ctx context.Context) (*benchResult, error) {
	ps, err := e.newProducers(false)
	if err != nil {
		return nil, err
	}
	e.clock = benchClock{base: time.Now()}
	e.times.start(e.clock.now(), e.o)
	senders := e.startProducers(ps, ctx.Done())
	prog := e.startProgress(func() (int64, int64) {
		n := sumProducers(ps).acked
		return n, n * int64(e.o.recordSize)
	}, func() []*latencyHist { return producerHists(ps) })

	win := e.newWindow()
	if e.waitUntil(ctx, e.times.warmupEndNs.Load(), senders.done) == stopTime {
		win.begin()
	}
	<-senders.done
	e.flushProducers(ctx, ps)
	prog.stop()
	res := &benchResult{Interrupted: ctx.Err() != nil}
	win.end(res)
	closeProducers(ps) // fails whatever is still unsent, counted below
	e.producerResult(res, ps)
	return res, nil
}

// producerResult fills r from the producers' counters and latencies.
func (e *benchEnv) producerResult(r *benchResult, ps []*benchProducer) {
	t := sumProducers(ps)
	secs := 0.0
	if t.measured > 0 {
		secs = float64(t.lastAck-e.times.warmupEndNs.Load()) / 1e9
	}
	r.setTotals(t.measured, t.measured*int64(e.o.recordSize), math.Max(secs, 0))
	r.Errors = t.failed
	if t.firstErr != nil {
		r.FirstError = e.cf.explain(e.cmd, t.firstErr)
	}
	r.Latency = mergeHists(producerHists(ps)).summary()
}
