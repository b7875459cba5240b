package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// This file holds the latency histogram: log-linear buckets in the style
// of HdrHistogram with three significant digits, so a run of any length
// costs the same fixed memory and recording is one atomic add, with no
// sample kept per record.
//
// Values are nanoseconds. Below histLinearMax (2,048 ns) every value has its
// own bucket; above, each power of two is split into histSubCount buckets,
// so a bucket is at most 1/1024 of its values wide (1 µs at 1 ms, 10 µs at
// 10 ms). Quantiles report a bucket's highest value, capped by the exact
// maximum, the way HdrHistogram does.

const (
	histSubBits   = 10
	histSubCount  = 1 << histSubBits // buckets per power of two
	histLinearMax = 2 * histSubCount // values below this are exact
	// Values up to MaxInt64 (bit length 63) need shifts 1..52.
	histBuckets = histLinearMax + (63-histSubBits-1)*histSubCount
)

// histIndex returns the bucket of v; negative values count as 0.
func histIndex(v int64) int {
	if v < histLinearMax {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - (histSubBits + 1) // 1 or more
	top := int(v >> shift)                             // in [histSubCount, 2*histSubCount)
	return histLinearMax + (shift-1)*histSubCount + (top - histSubCount)
}

// histUpper returns the highest value that falls in bucket i.
func histUpper(i int) int64 {
	if i < histLinearMax {
		return int64(i)
	}
	j := i - histLinearMax
	shift := j/histSubCount + 1
	top := uint64(j%histSubCount + histSubCount)
	return int64((top+1)<<shift - 1)
}

// Hist is a concurrent latency histogram in nanoseconds: goroutines
// record while others take snapshots.
type Hist struct {
	counts []atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

// NewHist returns an empty histogram (about 450 KiB).
func NewHist() *Hist {
	return &Hist{counts: make([]atomic.Uint64, histBuckets)}
}

// Record adds one latency in nanoseconds; negative values count as 0.
func (h *Hist) Record(ns int64) {
	ns = max(ns, 0)
	h.counts[histIndex(ns)].Add(1)
	h.n.Add(1)
	h.sum.Add(ns)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// Snapshot is a point-in-time copy of one or more histograms merged.
// It is not safe for concurrent use.
type Snapshot struct {
	counts []uint64
	n      uint64
	sum    int64
	max    int64
}

// NewSnapshot returns an empty snapshot; Add merges histograms into it.
func NewSnapshot() *Snapshot {
	return &Snapshot{counts: make([]uint64, histBuckets)}
}

// Merge returns a snapshot of the histograms merged.
func Merge(hs ...*Hist) *Snapshot {
	s := NewSnapshot()
	for _, h := range hs {
		s.Add(h)
	}
	return s
}

// Add merges h into s.
func (s *Snapshot) Add(h *Hist) {
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			s.counts[i] += c
			s.n += c
		}
	}
	s.sum += h.sum.Load()
	s.max = max(s.max, h.max.Load())
}

// Count returns how many values s holds.
func (s *Snapshot) Count() uint64 { return s.n }

// Max returns the largest value, exactly.
func (s *Snapshot) Max() int64 { return s.max }

// Quantile returns the value at quantile q (0 < q <= 1) in nanoseconds:
// the highest value of the bucket holding the ceil(q*n)-th smallest sample,
// capped by the maximum. It returns 0 for an empty snapshot.
func (s *Snapshot) Quantile(q float64) int64 {
	if s.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.n)))
	rank = min(max(rank, 1), s.n)
	var cum uint64
	for i, c := range s.counts {
		cum += c
		if cum >= rank {
			return min(histUpper(i), s.max)
		}
	}
	return s.max
}

// Mean returns the exact mean in nanoseconds.
func (s *Snapshot) Mean() float64 {
	if s.n == 0 {
		return 0
	}
	return float64(s.sum) / float64(s.n)
}

// LatencySummary is a latency distribution in milliseconds with
// microsecond resolution; its JSON form is samsa bench's latency_ms.
type LatencySummary struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	// Samples is how many latencies the quantiles are over.
	Samples uint64 `json:"samples"`
}

// Summary renders s in milliseconds.
func (s *Snapshot) Summary() *LatencySummary {
	return &LatencySummary{
		P50:     NanosToMillis(float64(s.Quantile(0.50))),
		P99:     NanosToMillis(float64(s.Quantile(0.99))),
		P999:    NanosToMillis(float64(s.Quantile(0.999))),
		Max:     NanosToMillis(float64(s.max)),
		Mean:    NanosToMillis(s.Mean()),
		Samples: s.n,
	}
}

// NanosToMillis converts nanoseconds to milliseconds rounded to the
// microsecond.
func NanosToMillis(ns float64) float64 {
	return math.Round(ns/1e3) / 1e3
}
