package loadgen

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds what the three workloads share: Run, topic setup, the
// clock and the measured window, and progress readings.

// ClusterError is a failed request to the cluster while setting up a run.
type ClusterError struct {
	Op            string // what was being done: "cannot create topic t"
	Err           error  // the client's error, or the broker's *kerr.Error
	BrokerMessage string // the broker's error message, if it sent one
}

func (e *ClusterError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *ClusterError) Unwrap() error { return e.Err }

// procError is a process that cannot be read, said plainly.
type procError struct{ err error }

func (e procError) Error() string { return procErrText(e.err) }
func (e procError) Unwrap() error { return e.err }

// Run runs cfg's workload until its duration or count is reached or ctx
// ends, and returns what it measured. An interrupted run still returns its
// partial result (Result.Interrupted) unless setup had not finished. Errors
// talking to the cluster during setup are *ClusterError.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Recreate {
		cfg.Create = true
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PID > 0 {
		if err := ProcOf(cfg.PID).Check(); err != nil {
			return nil, fmt.Errorf("cannot read process %d (--pid): %w", cfg.PID, procError{err})
		}
	}
	r := &run{cfg: &cfg, log: cfg.Logger, times: newTimes()}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	td, err := r.prepareTopic(ctx)
	if err != nil {
		return nil, err
	}
	var res *Result
	switch cfg.Workload {
	case Produce:
		res, err = r.runProduce(ctx)
	case Consume:
		res, err = r.runConsume(ctx, td)
	case EndToEnd:
		res, err = r.runE2E(ctx, td)
	}
	if err != nil {
		return nil, err
	}
	res.Workload = cfg.Workload
	res.Config = cfg.summary(len(td.Partitions))
	return res, nil
}

// run is one run of a workload.
type run struct {
	cfg      *Config
	log      *slog.Logger
	clock    clock
	times    *times
	prodWire wireCounter
	consWire wireCounter
}

// clock is the run's clock: nanoseconds since base on Go's monotonic
// clock. e2e stamps are on it too, which is why the consumers run in the
// same process.
type clock struct{ base time.Time }

func (c clock) now() int64 { return int64(time.Since(c.base)) }

// times are the run's milestones on the clock. Until start is called
// nothing is measured (warmupEnd is in the infinite future).
type times struct {
	startNs     atomic.Int64
	warmupEndNs atomic.Int64
	stopNs      atomic.Int64 // math.MaxInt64: no time limit
}

func newTimes() *times {
	t := &times{}
	t.warmupEndNs.Store(math.MaxInt64)
	t.stopNs.Store(math.MaxInt64)
	return t
}

// start sets the milestones of a run starting at ns.
func (t *times) start(ns int64, c *Config) {
	t.startNs.Store(ns)
	w := ns + int64(c.Warmup)
	stop := int64(math.MaxInt64)
	if c.Duration > 0 {
		stop = w + int64(c.Duration)
	}
	t.stopNs.Store(stop)
	t.warmupEndNs.Store(w)
}

// firstError keeps the first of concurrent errors.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// wireCounter counts bytes written to and read from brokers.
type wireCounter struct {
	written atomic.Int64
	read    atomic.Int64
}

// hooks is a client's franz-go hook: it counts wire bytes and notes the
// client's first fetch request.
type hooks struct {
	wire    *wireCounter
	fetched chan struct{} // closed on the first fetch written
	once    sync.Once
}

func newHooks(wire *wireCounter) *hooks {
	return &hooks{wire: wire, fetched: make(chan struct{})}
}

func (h *hooks) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, err error) {
	h.wire.written.Add(int64(n))
	if key == int16(kmsg.Fetch) && err == nil {
		h.once.Do(func() { close(h.fetched) })
	}
}

func (h *hooks) OnBrokerRead(_ kgo.BrokerMetadata, _ int16, n int, _, _ time.Duration, _ error) {
	h.wire.read.Add(int64(n))
}

// describe renders a record or fetch error for the result.
func (r *run) describe(err error) string {
	if r.cfg.DescribeError != nil {
		return r.cfg.DescribeError(err)
	}
	return err.Error()
}

// newClient builds a client from the seeds, the timeout, the security
// settings and ClientOpts.
func (r *run) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	c := r.cfg
	all := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(ClientID),
		kgo.DialTimeout(c.Timeout),
		kgo.RetryTimeout(c.Timeout),
	}
	all = append(append(append(all, c.securityOpts()...), c.ClientOpts...), opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	return cl, nil
}

// newAdmin builds an admin client; closing it closes its client.
func (r *run) newAdmin() (*kadm.Client, error) {
	cl, err := r.newClient()
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(min(r.cfg.Timeout.Milliseconds(), 1<<31-1)))
	return adm, nil
}

// stop says why a wait ended.
type stop int

const (
	stopTime      stop = iota // the clock reached the time
	stopDone                  // the work finished first
	stopInterrupt             // ctx ended
)

// waitUntil blocks until the clock reads ns (math.MaxInt64: never), done
// closes, or ctx ends.
func (r *run) waitUntil(ctx context.Context, ns int64, done <-chan struct{}) stop {
	var tc <-chan time.Time
	if ns != math.MaxInt64 {
		d := time.Duration(ns - r.clock.now())
		if d <= 0 {
			return stopTime
		}
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-tc:
		return stopTime
	case <-done:
		return stopDone
	case <-ctx.Done():
		return stopInterrupt
	}
}

// window takes the readings that bracket the measured window: the
// generator's own CPU time, wire bytes, and with a PID the broker's CPU
// time and memory.
type window struct {
	r       *run
	began   bool
	self0   float64
	selfErr error
	wire0   int64
	broker  *Watch
	procErr error
}

// wireBytes is the counter that stands for the workload's traffic.
func (r *run) wireBytes() int64 {
	if r.cfg.Workload == Consume {
		return r.consWire.read.Load()
	}
	return r.prodWire.written.Load()
}

func (r *run) newWindow() *window { return &window{r: r} }

// begin takes the opening readings; later calls do nothing.
func (w *window) begin() {
	if w.began {
		return
	}
	w.began = true
	w.wire0 = w.r.wireBytes()
	w.self0, w.selfErr = Self().CPUSeconds()
	if pid := w.r.cfg.PID; pid > 0 {
		w.broker, w.procErr = ProcOf(pid).Watch()
	}
}

// end takes the closing readings into res.
func (w *window) end(res *Result) {
	w.begin()
	res.WireBytes = w.r.wireBytes() - w.wire0
	if w.selfErr == nil {
		if self1, err := Self().CPUSeconds(); err == nil {
			v := round3(self1 - w.self0)
			res.ClientCPUSeconds = &v
		}
	}
	pid := w.r.cfg.PID
	if pid == 0 {
		return
	}
	if w.procErr == nil {
		var u Usage
		if u, w.procErr = w.broker.Finish(); w.procErr == nil {
			cpu, peak, hwm := round3(u.CPUSeconds), round3(u.PeakRSSMiB), round3(u.HWMMiB)
			res.BrokerCPUSeconds, res.BrokerPeakRSSMiB, res.BrokerHWMMiB = &cpu, &peak, &hwm
			return
		}
	}
	w.r.warn("cannot read process %d (--pid): %s", pid, procErrText(w.procErr))
}

// progress calls OnProgress every Config.Progress. Its goroutine is owned
// by the run and ended by stop.
type progress struct {
	quit chan struct{}
	done chan struct{}
}

// startProgress reports, each interval, the rate of the records counted by
// totals and (if hists gives any) the p99 latency so far.
func (r *run) startProgress(totals func() (records, bytes int64), hists func() []*Hist) *progress {
	p := &progress{quit: make(chan struct{}), done: make(chan struct{})}
	if r.cfg.Progress <= 0 || r.cfg.OnProgress == nil {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(r.cfg.Progress)
		defer t.Stop()
		lastNs := r.clock.now()
		lastRecs, lastBytes := totals()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
			now := r.clock.now()
			recs, bytes := totals()
			secs := float64(now-lastNs) / 1e9
			pr := Progress{
				Workload:      r.cfg.Workload,
				Elapsed:       time.Duration(now - r.times.startNs.Load()),
				RecordsPerSec: float64(recs-lastRecs) / secs,
				MiBPerSec:     float64(bytes-lastBytes) / secs / (1 << 20),
				Warmup:        now < r.times.warmupEndNs.Load(),
			}
			if hs := hists(); len(hs) > 0 {
				if snap := Merge(hs...); snap.n > 0 {
					pr.P99, pr.HasP99 = time.Duration(snap.Quantile(0.99)), true
				}
			}
			r.cfg.OnProgress(pr)
			lastNs, lastRecs, lastBytes = now, recs, bytes
		}
	}()
	return p
}

func (p *progress) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}

// warn logs a warning about the run.
func (r *run) warn(format string, args ...any) {
	r.log.Warn(fmt.Sprintf(format, args...))
}
