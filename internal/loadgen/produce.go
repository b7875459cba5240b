package loadgen

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

// This file holds the producing side of a run: the produce workload
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

// payload returns a value of size random uppercase letters, as Kafka's
// kafka-producer-perf-test uses: compressible like text, not like zeros.
func payload(size int) []byte {
	r := rand.New(rand.NewPCG(0x5a, 0x3a))
	b := make([]byte, size)
	for i := range b {
		b[i] = 'A' + byte(r.IntN(26))
	}
	return b
}

// key returns the i-th distinct key.
func key(i int64) []byte {
	return strconv.AppendInt([]byte("key-"), i, 10)
}

func keys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = key(int64(i))
	}
	return keys
}

// slot is one record in the in-flight window.
type slot struct {
	rec      kgo.Record
	value    []byte
	sentNs   int64 // intended (with --rate) or actual send time
	measured bool  // sent after the warmup
	promise  func(*kgo.Record, error)
}

// producer is one producer client and its counters.
type producer struct {
	r        *run
	index    int
	cl       *kgo.Client
	slots    chan *slot // free slots; capacity is the window
	stamp    bool
	keys     [][]byte
	sched    sendSchedule
	quota    int64 // measured records to send; 0: no limit
	hist     *Hist
	acked    atomic.Int64 // all acknowledged records
	measured atomic.Int64 // acknowledged records sent after the warmup
	failed   atomic.Int64
	lastAck  atomic.Int64 // clock time of the last measured ack
	firstErr firstError
}

// newProducers creates the --producers clients; stamp puts the send time
// in the first 8 bytes of every value.
func (r *run) newProducers(stamp bool) ([]*producer, error) {
	c := r.cfg
	opts, err := c.producerOpts()
	if err != nil {
		return nil, err
	}
	window := c.MaxBuffered
	if stamp {
		window = min(window, max(16, stampedBufBytes/max(c.RecordSize, 1)))
	}
	opts = append(opts,
		// The slots bound what is in flight; franz-go's own limit is
		// set above it so it never blocks first (a slot returns in the
		// promise, just before franz-go counts the record as done).
		kgo.MaxBufferedRecords(2*window+1),
		kgo.RecordDeliveryTimeout(r.cfg.Timeout),
		kgo.WithHooks(newHooks(&r.prodWire)),
	)
	value := payload(c.RecordSize)
	ks := keys(c.Keys)
	var ps []*producer
	for i := range c.Producers {
		cl, err := r.newClient(opts...)
		if err != nil {
			closeProducers(ps)
			return nil, err
		}
		p := &producer{r: r, index: i, cl: cl, stamp: stamp, keys: ks, hist: NewHist(),
			slots: make(chan *slot, window)}
		for range window {
			s := &slot{value: value}
			if stamp {
				s.value = bytes.Clone(value)
			}
			s.promise = p.promiseFor(s)
			p.slots <- s
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func closeProducers(ps []*producer) {
	for _, p := range ps {
		p.cl.Close()
	}
}

// promiseFor returns s's promise, made once per slot so producing
// allocates no closure per record. franz-go calls a client's promises one
// at a time.
func (p *producer) promiseFor(s *slot) func(*kgo.Record, error) {
	return func(_ *kgo.Record, err error) {
		if err != nil {
			p.failed.Add(1)
			p.firstErr.set(err)
		} else {
			p.acked.Add(1)
			if s.measured {
				now := p.r.clock.now()
				p.hist.Record(now - s.sentNs)
				p.measured.Add(1)
				p.lastAck.Store(now)
			}
		}
		p.slots <- s // never blocks: the channel holds every slot
	}
}

// run sends until the schedule passes the stop time, the quota is sent,
// or stop closes.
func (p *producer) run(stop <-chan struct{}) {
	times := p.r.times
	warmupEnd, stopNs := times.warmupEndNs.Load(), times.stopNs.Load()
	nprod := int64(p.r.cfg.Producers)
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
			if wait := at - p.r.clock.now(); wait > 0 {
				timer.Reset(time.Duration(wait))
				select {
				case <-timer.C:
				case <-stop:
					timer.Stop()
					return
				}
			}
		} else if at = p.r.clock.now(); at >= stopNs {
			return
		}
		measured := at >= warmupEnd
		if measured && p.quota > 0 {
			if sentMeasured >= p.quota {
				return
			}
			sentMeasured++
		}
		var s *slot
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

// senders runs the producers' send loops; done closes when all have
// returned.
type senders struct {
	wg   sync.WaitGroup
	done chan struct{}
}

// startProducers schedules the producers from the run's start time and
// starts their send loops, which end early when stop closes.
func (r *run) startProducers(ps []*producer, stop <-chan struct{}) *senders {
	start := r.times.startNs.Load()
	s := &senders{done: make(chan struct{})}
	for i, p := range ps {
		p.sched = newSendSchedule(r.cfg.Rate, len(ps), i, start)
		p.quota = splitCount(r.cfg.Count, len(ps), i)
		if r.cfg.Count > 0 && p.quota == 0 {
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
func (r *run) flushProducers(ctx context.Context, ps []*producer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Timeout+r.cfg.Timeout/2)
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

func sumProducers(ps []*producer) producerTotals {
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

func producerHists(ps []*producer) []*Hist {
	hs := make([]*Hist, len(ps))
	for i, p := range ps {
		hs[i] = p.hist
	}
	return hs
}

// runProduce is the produce workload.
func (r *run) runProduce(ctx context.Context) (*Result, error) {
	ps, err := r.newProducers(false)
	if err != nil {
		return nil, err
	}
	r.clock = clock{base: time.Now()}
	r.times.start(r.clock.now(), r.cfg)
	senders := r.startProducers(ps, ctx.Done())
	prog := r.startProgress(func() (int64, int64) {
		n := sumProducers(ps).acked
		return n, n * int64(r.cfg.RecordSize)
	}, func() []*Hist { return producerHists(ps) })

	win := r.newWindow()
	if r.waitUntil(ctx, r.times.warmupEndNs.Load(), senders.done) == stopTime {
		win.begin()
	}
	<-senders.done
	r.flushProducers(ctx, ps)
	prog.stop()
	res := &Result{Interrupted: ctx.Err() != nil}
	win.end(res)
	closeProducers(ps) // fails whatever is still unsent, counted below
	r.producerResult(res, ps)
	return res, nil
}

// producerResult fills r from the producers' counters and latencies.
func (r *run) producerResult(res *Result, ps []*producer) {
	t := sumProducers(ps)
	secs := 0.0
	if t.measured > 0 {
		secs = float64(t.lastAck-r.times.warmupEndNs.Load()) / 1e9
	}
	res.setTotals(t.measured, t.measured*int64(r.cfg.RecordSize), math.Max(secs, 0))
	res.Errors = t.failed
	if t.firstErr != nil {
		res.FirstError = r.describe(t.firstErr)
	}
	res.Latency = Merge(producerHists(ps)...).Summary()
}
