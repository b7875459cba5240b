package metrics

import (
	"math"
	"testing"
	"time"
)

// TestLatencyBuckets: every duration falls in a bucket whose bounds hold
// it, at most 25% wide; powers of two of microseconds are bucket edges.
func TestLatencyBuckets(t *testing.T) {
	for us := uint64(0); us < 1<<20; us = us*9/8 + 1 {
		i := bucketOf(us)
		lo := uint64(0)
		if i > 0 {
			lo = bucketUpper(i - 1)
		}
		if us < lo || us >= bucketUpper(i) {
			t.Fatalf("%d µs in bucket %d [%d, %d)", us, i, lo, bucketUpper(i))
		}
		if us >= 4 && float64(bucketUpper(i)-lo) > 0.25*float64(lo)+1e-9 {
			t.Fatalf("bucket %d [%d, %d) wider than 25%%", i, lo, bucketUpper(i))
		}
	}
	for e := 2; e < 39; e++ {
		if bucketUpper(bucketOf(1<<e)-1) != 1<<e {
			t.Fatalf("2^%d µs is not a bucket edge", e)
		}
	}
}

// TestLatencyHistogramAndQuantiles: Buckets counts at the power-of-two
// bounds exactly, and Window answers quantiles within a bucket's width
// and only over its window.
func TestLatencyHistogramAndQuantiles(t *testing.T) {
	var l Latency
	for i := 1; i <= 1000; i++ {
		l.Observe(time.Duration(i) * time.Millisecond)
	}
	count, sum, cum := l.Buckets(PowerOfTwoBounds(6, 24))
	if count != 1000 || math.Abs(sum-500.5) > 1e-6 {
		t.Fatalf("count %d sum %v", count, sum)
	}
	// 2^19 µs = 524.288 ms: 524 observations at or below.
	if got := cum[float64(1<<19)/1e6]; got != 524 {
		t.Fatalf("le=0.524288: %d, want 524", got)
	}
	var w Window
	now := time.Now()
	qs := w.Quantiles(&l, now, []float64{0.5, 0.99})
	if qs[0] < 500 || qs[0] > 500*1.25 || qs[1] < 990 || qs[1] > 990*1.25 {
		t.Fatalf("quantiles %v", qs)
	}
	// A minute on, the window starts at the first scrape: new samples only.
	w.Quantiles(&l, now.Add(time.Minute), nil)
	l.Observe(2 * time.Second)
	qs = w.Quantiles(&l, now.Add(90*time.Second), []float64{0.5})
	if qs[0] < 2000 || qs[0] > 2500 {
		t.Fatalf("windowed median %v, want about 2000 ms", qs)
	}
}

// TestTopicCounters: produce and fetch count into the topic and the
// total; Forget drops deleted topics and keeps the totals.
func TestTopicCounters(t *testing.T) {
	var c TopicCounters
	c.Produce(c.Topic("a"), 100, 3, false)
	c.Produce(c.Topic("a"), 50, 1, true)
	c.Fetch(c.Topic("b"), 70, false)
	c.Produce(nil, 1, 1, false) // metrics off
	a := c.Topic("a")
	if a.BytesIn.Load() != 100 || a.MessagesIn.Load() != 3 || a.ProduceRequests.Load() != 2 || a.FailedProduceRequests.Load() != 1 {
		t.Fatalf("a: %d %d %d %d", a.BytesIn.Load(), a.MessagesIn.Load(), a.ProduceRequests.Load(), a.FailedProduceRequests.Load())
	}
	if c.Total().BytesOut.Load() != 70 || c.Total().BytesIn.Load() != 100 {
		t.Fatal("totals")
	}
	c.Forget(func(topic string) bool { return topic == "b" })
	n := 0
	c.Each(func(string, *TopicStats) { n++ })
	if n != 1 || c.Total().BytesIn.Load() != 100 {
		t.Fatalf("after Forget: %d topics", n)
	}
}

// TestIdleAndRate: the idle fraction and the rate over their windows.
func TestIdleAndRate(t *testing.T) {
	t0 := time.Now()
	w := NewIdleWindow(2, t0)
	if got := w.Idle(t0.Add(10*time.Second), int64(5*time.Second)); math.Abs(got-0.75) > 1e-9 {
		t.Fatalf("idle %v, want 0.75", got)
	}
	var r Rate
	r.Per(t0, 0)
	if got := r.Per(t0.Add(10*time.Second), 50); got != 5 {
		t.Fatalf("rate %v, want 5", got)
	}
}

// BenchmarkRecordRequest is what the broker adds to one request of one
// partition with metrics on: the topic's counters, the request's latency,
// two busy-time adds.
func BenchmarkRecordRequest(b *testing.B) {
	var m Broker
	m.Topics.Topic("orders")
	d := 3 * time.Millisecond
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Topics.Fetch(m.Topics.Topic("orders"), 1<<20, false)
			m.Requests.Observe(1, false, d)
			m.Handler.Add(d)
			m.Network.Add(d)
		}
	})
}
