package metrics

import (
	"sync"
	"sync/atomic"
	"time"
)

// TopicStats are one topic's BrokerTopicMetrics counters (Kafka's
// BytesInPerSec, …, exposed as kafka_server_brokertopicmetrics_*_total).
// Each is an atomic counter, safe to add to from any goroutine.
type TopicStats struct {
	BytesIn, BytesOut, MessagesIn              atomic.Uint64
	ProduceRequests, FetchRequests             atomic.Uint64
	FailedProduceRequests, FailedFetchRequests atomic.Uint64
}

// TopicCounters holds TopicStats by topic name, and the broker's totals.
// Lookups take no lock (sync.Map: after a topic's first use it is a
// read-only load). Forget drops the topics that no longer exist, so the map
// follows the cluster's topics and does not grow with deleted ones; callers
// add only for topics the image knows.
type TopicCounters struct {
	m     sync.Map // string → *TopicStats
	total TopicStats
}

// Topic is topic's counters, created on first use. Nil-safe: a nil
// TopicCounters (metrics off) answers nil.
func (c *TopicCounters) Topic(name string) *TopicStats {
	if c == nil {
		return nil
	}
	if s, ok := c.m.Load(name); ok {
		return s.(*TopicStats)
	}
	s, _ := c.m.LoadOrStore(name, new(TopicStats))
	return s.(*TopicStats)
}

// Total is the broker-wide counters (every topic).
func (c *TopicCounters) Total() *TopicStats { return &c.total }

// Each calls fn for every topic with counters.
func (c *TopicCounters) Each(fn func(topic string, s *TopicStats)) {
	c.m.Range(func(k, v any) bool {
		fn(k.(string), v.(*TopicStats))
		return true
	})
}

// Forget drops the counters of topics exists says are gone. The totals
// keep what they counted.
func (c *TopicCounters) Forget(exists func(topic string) bool) {
	c.m.Range(func(k, _ any) bool {
		if !exists(k.(string)) {
			c.m.Delete(k)
		}
		return true
	})
}

// Produce counts one produce to a partition of s's topic: its bytes and
// records when it was appended, a failure otherwise. s may be nil (metrics
// off).
func (c *TopicCounters) Produce(s *TopicStats, bytes, records uint64, failed bool) {
	if s == nil {
		return
	}
	for _, t := range [2]*TopicStats{s, &c.total} {
		t.ProduceRequests.Add(1)
		if failed {
			t.FailedProduceRequests.Add(1)
			continue
		}
		t.BytesIn.Add(bytes)
		t.MessagesIn.Add(records)
	}
}

// Fetch counts one consumer fetch from a partition of s's topic: the bytes
// answered, or a failure. s may be nil (metrics off).
func (c *TopicCounters) Fetch(s *TopicStats, bytes uint64, failed bool) {
	if s == nil {
		return
	}
	for _, t := range [2]*TopicStats{s, &c.total} {
		t.FetchRequests.Add(1)
		if failed {
			t.FailedFetchRequests.Add(1)
			continue
		}
		t.BytesOut.Add(bytes)
	}
}

// FollowerFetch counts one follower fetch from a partition of s's topic:
// a fetch request, as Kafka counts followers' in TotalFetchRequests, with
// neither bytes out (Kafka's are ReplicationBytesOut) nor failures. s may
// be nil (metrics off).
func (c *TopicCounters) FollowerFetch(s *TopicStats) {
	if s == nil {
		return
	}
	s.FetchRequests.Add(1)
	c.total.FetchRequests.Add(1)
}

// Busy accumulates time spent working, for the *AvgIdlePercent gauges:
// Samsa has no request-handler or network-processor thread pools, so idle
// is measured as 1 − busy/(elapsed × GOMAXPROCS) over the last window
// (IdleWindow), from the time request goroutines spent handling requests
// (Handler) or moving their bytes (Network).
type Busy struct{ nanos atomic.Int64 }

// Add records d of work.
func (b *Busy) Add(d time.Duration) {
	if b != nil && d > 0 {
		b.nanos.Add(int64(d))
	}
}

// Nanos is the total busy time.
func (b *Busy) Nanos() int64 { return b.nanos.Load() }

// IdleWindow turns a Busy total into an idle fraction over windows of
// about 30 s, like Kafka's meters' recent rate. Used at scrape time only;
// safe for concurrent scrapes.
type IdleWindow struct {
	mu         sync.Mutex
	prev, cur  idleSnap
	procs      int
	windowSize time.Duration
}

type idleSnap struct {
	at   time.Time
	busy int64
}

// NewIdleWindow measures idleness of procs parallel workers.
func NewIdleWindow(procs int, start time.Time) *IdleWindow {
	s := idleSnap{at: start}
	return &IdleWindow{prev: s, cur: s, procs: max(procs, 1), windowSize: 30 * time.Second}
}

// Idle is the idle fraction (0…1) since the previous window's start.
func (w *IdleWindow) Idle(now time.Time, busy int64) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.cur.at) >= w.windowSize {
		w.prev, w.cur = w.cur, idleSnap{at: now, busy: busy}
	}
	el := now.Sub(w.prev.at)
	if el <= 0 {
		return 1
	}
	idle := 1 - float64(busy-w.prev.busy)/(float64(el)*float64(w.procs))
	return min(max(idle, 0), 1)
}

// Rate turns a counter into a per-second rate over windows of about 30 s
// (Kafka's *-rate metrics). Used at scrape time only.
type Rate struct {
	mu        sync.Mutex
	prev, cur rateSnap
}

type rateSnap struct {
	at time.Time
	n  uint64
}

// Per is the rate of n (a running total) per second at now.
func (r *Rate) Per(now time.Time, n uint64) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.at.IsZero() {
		r.prev, r.cur = rateSnap{now, n}, rateSnap{now, n}
		return 0
	}
	if now.Sub(r.cur.at) >= 30*time.Second {
		r.prev, r.cur = r.cur, rateSnap{now, n}
	}
	el := now.Sub(r.prev.at).Seconds()
	if el <= 0 || n < r.prev.n {
		return 0
	}
	return float64(n-r.prev.n) / el
}
