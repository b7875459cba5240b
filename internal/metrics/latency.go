package metrics

import (
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Latency is a histogram of durations on log-linear buckets (four per
// power of two of microseconds, so a bucket spans at most 25% of its
// value), recorded with two atomic adds and no lock. It backs both Kafka's
// percentile gauges (kafka_network_requestmetrics_totaltimems{quantile},
// over a recent window: Window) and Samsa's own Prometheus histograms
// (samsa_*_seconds: Buckets), whose bounds are powers of two of
// microseconds and so fall on bucket edges exactly.
type Latency struct {
	counts [latencyBuckets]atomic.Uint64
	sumNs  atomic.Int64
}

const latencyBuckets = 4 + 38*4 // up to 2^40 µs (12.7 days)

// bucketOf is the bucket of a duration of us microseconds: 0…3 one each,
// then four per power of two.
func bucketOf(us uint64) int {
	if us < 4 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // ≥ 2
	if e > 39 {
		return latencyBuckets - 1
	}
	return 4 + (e-2)*4 + int(us>>(e-2)&3)
}

// bucketUpper is the exclusive upper bound of bucket i in microseconds.
func bucketUpper(i int) uint64 {
	if i < 4 {
		return uint64(i + 1)
	}
	e, m := (i-4)/4+2, uint64((i-4)%4)
	return (5 + m) << (e - 2)
}

// Observe records one duration. Nil-safe (metrics off).
func (l *Latency) Observe(d time.Duration) {
	if l == nil {
		return
	}
	if d < 0 {
		d = 0
	}
	l.counts[bucketOf(uint64(d/time.Microsecond))].Add(1)
	l.sumNs.Add(int64(d))
}

// snapshot is a copy of the counts.
type snapshot [latencyBuckets]uint64

func (l *Latency) snapshot(s *snapshot) (count uint64) {
	for i := range l.counts {
		s[i] = l.counts[i].Load()
		count += s[i]
	}
	return count
}

// Buckets reads the histogram for Prometheus: the count, the sum in
// seconds and cumulative counts at the upper bounds (seconds) given by
// PowerOfTwoBounds.
func (l *Latency) Buckets(bounds []float64) (count uint64, sum float64, cum map[float64]uint64) {
	var s snapshot
	count = l.snapshot(&s)
	sum = float64(l.sumNs.Load()) / 1e9
	cum = make(map[float64]uint64, len(bounds))
	var acc uint64
	b := 0
	for i := range s {
		for b < len(bounds) && float64(bucketUpper(i))/1e6 > bounds[b]*(1+1e-9) {
			cum[bounds[b]] = acc
			b++
		}
		acc += s[i]
	}
	for ; b < len(bounds); b++ {
		cum[bounds[b]] = acc
	}
	return count, sum, cum
}

// PowerOfTwoBounds are histogram bounds 2^lo … 2^hi microseconds, in
// seconds; each is a bucket edge of Latency.
func PowerOfTwoBounds(lo, hi int) []float64 {
	var out []float64
	for e := lo; e <= hi; e++ {
		out = append(out, float64(uint64(1)<<e)/1e6)
	}
	return out
}

// Window computes quantiles of a Latency over the last one to two
// minutes, as Kafka's histograms bias theirs to recent samples: it keeps
// the counts seen at the start of the current and the previous minute and
// answers from the older. Scrape-time only; safe for concurrent use.
type Window struct {
	mu        sync.Mutex
	prev, cur snapshot
	curAt     time.Time
	started   bool
}

// Quantiles returns, for each q in qs (0…1), the upper bound in
// milliseconds of the bucket holding that quantile over the window, and
// the number of observations in the window; 0 for an empty window.
func (w *Window) Quantiles(l *Latency, now time.Time, qs []float64) (out []float64) {
	var s snapshot
	l.snapshot(&s)
	w.mu.Lock()
	if !w.started || now.Sub(w.curAt) >= time.Minute {
		if !w.started {
			w.cur = snapshot{}
		}
		w.prev, w.cur, w.curAt, w.started = w.cur, s, now, true
	}
	base := w.prev
	w.mu.Unlock()
	var n uint64
	for i := range s {
		s[i] -= base[i]
		n += s[i]
	}
	out = make([]float64, len(qs))
	if n == 0 {
		return out
	}
	var cum [latencyBuckets]uint64
	var acc uint64
	for i := range s {
		acc += s[i]
		cum[i] = acc
	}
	for j, q := range qs {
		rank := uint64(q*float64(n) + 0.5)
		rank = min(max(rank, 1), n)
		i := sort.Search(latencyBuckets, func(i int) bool { return cum[i] >= rank })
		out[j] = float64(bucketUpper(min(i, latencyBuckets-1))) / 1e3
	}
	return out
}
