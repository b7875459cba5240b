package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistBuckets(t *testing.T) {
	// Every value lands in a bucket whose range holds it, buckets are
	// contiguous, and no bucket is wider than 1/1024 of its values.
	check := func(v int64) {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		lo := int64(0)
		if i > 0 {
			lo = histUpper(i-1) + 1
		}
		hi := histUpper(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= histLinearMax && float64(hi-lo+1) > float64(lo)/1024 {
			t.Fatalf("bucket %d [%d, %d] wider than 1/1024", i, lo, hi)
		}
	}
	for v := range int64(10_000) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		check(r.Int64N(1 << r.IntN(63)))
	}
	check(math.MaxInt64)
	if histIndex(math.MaxInt64) != histBuckets-1 {
		t.Fatalf("MaxInt64 in bucket %d, want the last (%d)", histIndex(math.MaxInt64), histBuckets-1)
	}
	if histIndex(-5) != 0 {
		t.Fatal("negative values go to bucket 0")
	}
	for i := 1; i < histBuckets; i++ {
		if histUpper(i) <= histUpper(i-1) {
			t.Fatalf("bucket %d upper %d not above bucket %d upper %d", i, histUpper(i), i-1, histUpper(i-1))
		}
	}
}

func TestHistPercentiles(t *testing.T) {
	// Against exact percentiles of a sorted sample: within 0.1%, never
	// below the exact value, and the maximum exact.
	r := rand.New(rand.NewPCG(3, 4))
	h := NewHist()
	var samples []int64
	var sum int64
	for range 200_000 {
		// Log-normal around 1 ms with a long tail, in nanoseconds.
		v := int64(math.Exp(r.NormFloat64()*1.2 + math.Log(1e6)))
		samples = append(samples, v)
		sum += v
		h.Record(v)
	}
	slices.Sort(samples)
	s := NewSnapshot()
	s.Add(h)
	if s.n != uint64(len(samples)) || s.max != samples[len(samples)-1] {
		t.Fatalf("n %d max %d, want %d %d", s.n, s.max, len(samples), samples[len(samples)-1])
	}
	for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := s.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/1000 {
			t.Fatalf("p%v = %d, exact %d", q*100, got, exact)
		}
	}
	if got, want := s.Mean(), float64(sum)/float64(len(samples)); math.Abs(got-want) > 1e-6*want {
		t.Fatalf("mean %v, want %v", got, want)
	}
	sum1 := s.Summary()
	if !(sum1.P50 <= sum1.P99 && sum1.P99 <= sum1.P999 && sum1.P999 <= sum1.Max) {
		t.Fatalf("summary out of order: %+v", sum1)
	}

	// Small exact values and the merge of two histograms.
	a, b := NewHist(), NewHist()
	for v := int64(1); v <= 100; v++ {
		if v%2 == 0 {
			a.Record(v * 1000) // 1 µs .. 100 µs
		} else {
			b.Record(v * 1000)
		}
	}
	m := NewSnapshot()
	m.Add(a)
	m.Add(b)
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 50_000}, {0.99, 99_000}, {1, 100_000}} {
		got := m.Quantile(tc.q)
		if got < tc.want || got > tc.want+tc.want/1000 {
			t.Fatalf("merged p%v = %d, want %d", tc.q*100, got, tc.want)
		}
	}
	if got := NewSnapshot().Quantile(0.99); got != 0 {
		t.Fatalf("empty histogram p99 = %d", got)
	}
	if got := NanosToMillis(1_234_567); got != 1.235 {
		t.Fatalf("NanosToMillis(1234567) = %v, want 1.235", got)
	}
}

func TestMerge(t *testing.T) {
	a, b := NewHist(), NewHist()
	a.Record(5)
	a.Record(-3) // counts as 0
	b.Record(3_000_000)
	s := Merge(a, b)
	if s.Count() != 3 || s.Max() != 3_000_000 || s.Quantile(1.0/3) != 0 || s.Quantile(0.5) != 5 {
		t.Fatalf("merged: n %d max %d p33 %d p50 %d", s.Count(), s.Max(), s.Quantile(1.0/3), s.Quantile(0.5))
	}
	if got := s.Quantile(1); got != 3_000_000 {
		t.Fatalf("p100 = %d, want the exact max", got)
	}
	if Merge().Count() != 0 || Merge().Summary().P99 != 0 {
		t.Fatal("an empty merge is not empty")
	}
}

// BenchmarkHistRecord is the cost of one latency on the hot path, from
// many goroutines at once (producers' promises, consumers' poll loops).
func BenchmarkHistRecord(b *testing.B) {
	h := NewHist()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(1_000_000)
		for pb.Next() {
			h.Record(v)
			v = v*7%50_000_000 + 1000
		}
	})
}
