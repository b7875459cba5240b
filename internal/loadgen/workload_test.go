package loadgen

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestSendSchedule(t *testing.T) {
	// Producers together send one record every 1/rate seconds, evenly
	// interleaved, starting at start.
	const start = int64(5e9)
	for _, tc := range []struct {
		rate      float64
		producers int
	}{{1000, 1}, {1000, 4}, {3, 2}, {123457, 7}, {0.5, 3}} {
		var all []int64
		const perProducer = 1000
		for i := range tc.producers {
			s := newSendSchedule(tc.rate, tc.producers, i, start)
			for k := range int64(perProducer) {
				all = append(all, s.at(k))
			}
		}
		slices.Sort(all)
		for j, at := range all {
			want := start + int64(float64(j)*1e9/tc.rate)
			if d := at - want; d < -1 || d > 1 {
				t.Fatalf("rate %v, %d producers: send %d at %d ns, want %d (±1)", tc.rate, tc.producers, j, at, want)
			}
		}
	}
	// Computed from k, not accumulated: no drift after many records.
	s := newSendSchedule(3, 1, 0, 0) // period 333333333.33… ns
	if got, want := s.at(3_000_000_000), int64(1e18); got < want-1000 || got > want+1000 {
		t.Fatalf("record 3e9 at rate 3 is at %d ns, want %d", got, want)
	}
	// Unlimited: no period.
	if s := newSendSchedule(0, 4, 2, start); s.periodNs != 0 || s.startNs != start {
		t.Fatalf("unlimited schedule %+v", s)
	}
}

func TestSplitCount(t *testing.T) {
	for _, tc := range []struct {
		total int64
		n     int
		want  []int64
	}{
		{10, 3, []int64{4, 3, 3}},
		{2, 4, []int64{1, 1, 0, 0}},
		{0, 2, []int64{0, 0}},
		{9, 1, []int64{9}},
	} {
		var got []int64
		for i := range tc.n {
			got = append(got, splitCount(tc.total, tc.n, i))
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("splitCount(%d, %d) = %v, want %v", tc.total, tc.n, got, tc.want)
		}
	}
}

func TestEndTracker(t *testing.T) {
	done := 0
	starts := map[int32]int64{0: 0, 1: 5, 2: 7}
	ends := map[int32]int64{0: 10, 1: 5, 2: 9} // partition 1 is empty
	tr := newEndTracker(starts, ends, func() { done++ })
	if tr.remaining.Load() != 2 {
		t.Fatalf("remaining %d, want 2", tr.remaining.Load())
	}
	tr.saw(0, 8)
	tr.saw(2, 8) // offset 8 is partition 2's last (end 9)
	tr.saw(2, 8)
	tr.saw(7, 100) // unknown partition
	if done != 0 || tr.remaining.Load() != 1 {
		t.Fatalf("done %d remaining %d", done, tr.remaining.Load())
	}
	tr.saw(0, 9)
	tr.saw(0, 12)
	if done != 1 {
		t.Fatalf("onDone called %d times, want 1", done)
	}
	// A group consumer starting at or past the end has nothing to read.
	done = 0
	tr = newEndTracker(map[int32]int64{0: 0}, map[int32]int64{0: 4}, func() { done++ })
	tr.startsAt(0, 3)
	if done != 0 {
		t.Fatal("caught up before the end")
	}
	tr.startsAt(0, 4)
	if done != 1 {
		t.Fatal("not caught up after starting at the end")
	}
	// Nothing to read at all: done at once.
	done = 0
	newEndTracker(map[int32]int64{0: 3}, map[int32]int64{0: 3}, func() { done++ })
	if done != 1 {
		t.Fatal("empty topic not done at once")
	}
}

func TestConsumeQuota(t *testing.T) {
	sh := &consumeShared{quota: 10, finished: make(chan struct{})}
	if got := sh.take(4); got != 4 {
		t.Fatalf("take(4) = %d", got)
	}
	if got := sh.take(4); got != 4 {
		t.Fatalf("take(4) = %d", got)
	}
	select {
	case <-sh.finished:
		t.Fatal("finished before the quota")
	default:
	}
	if got := sh.take(4); got != 2 {
		t.Fatalf("take(4) at 8 of 10 = %d, want 2", got)
	}
	<-sh.finished
	if got := sh.take(1); got != 0 {
		t.Fatalf("take after the quota = %d", got)
	}
	unlimited := &consumeShared{finished: make(chan struct{})}
	if got := unlimited.take(1000); got != 1000 {
		t.Fatalf("unlimited take = %d", got)
	}
}

func TestGroupAssignment(t *testing.T) {
	g := newGroupAssignment(4, 2)
	ready := func() bool {
		select {
		case <-g.ready:
			return true
		default:
			return false
		}
	}
	g.assign(0, []int32{0, 1, 2, 3}) // the first member gets everything
	if ready() {
		t.Fatal("ready while one of two consumers has no partition")
	}
	g.revoke(0, []int32{2, 3})
	g.assign(1, []int32{2, 3})
	if !ready() || !g.owns(0) || !g.owns(1) {
		t.Fatal("not ready with partitions spread over both consumers")
	}
	// More consumers than partitions: ready once each partition has an owner.
	g = newGroupAssignment(1, 3)
	g.assign(2, []int32{0})
	if !ready() || g.owns(0) {
		t.Fatal("single partition")
	}
}

func TestResult(t *testing.T) {
	r := &Result{}
	r.WireBytes = 3 << 20
	r.setTotals(1000, 2<<20, 2)
	if r.RecordsPerSec != 500 || r.MBPerSec != 1 || r.WireMBPerSec != 1.5 {
		t.Fatalf("rates %+v", r)
	}
	if err := r.Failure(); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	r.Errors, r.FirstError = 3, "timed out"
	if err := r.Failure(); err == nil || err.Error() != "3 errors (first: timed out)" {
		t.Fatalf("errors: %v", err)
	}
	r.Errors, r.Missing, r.FirstError = 1, 2, ""
	if err := r.Failure(); err == nil || err.Error() != "1 error and 2 records produced but never consumed" {
		t.Fatalf("errors and missing: %v", err)
	}
	// Zero seconds (nothing measured) leaves the rates at zero.
	z := &Result{}
	z.setTotals(0, 0, 0)
	if z.RecordsPerSec != 0 || math.IsNaN(z.MBPerSec) {
		t.Fatalf("zero run %+v", z)
	}
}

func TestPayloadAndKeys(t *testing.T) {
	p := payload(4096)
	if len(p) != 4096 || !bytes.Equal(p, payload(4096)) {
		t.Fatal("payload not deterministic")
	}
	for _, c := range p {
		if c < 'A' || c > 'Z' {
			t.Fatalf("payload byte %q is not an uppercase letter", c)
		}
	}
	keys := keys(3)
	if len(keys) != 3 || string(keys[0]) != "key-0" || string(keys[2]) != "key-2" {
		t.Fatalf("keys %q", keys)
	}
}

// BenchmarkTakeStamped is EndToEnd's per-fetch work in a consumer: the
// latency of 500 stamped records of 1 KiB.
func BenchmarkTakeStamped(b *testing.B) {
	recs := make([]*kgo.Record, 500)
	for i := range recs {
		v := make([]byte, 1024)
		binary.BigEndian.PutUint64(v, uint64(1_000_000+i))
		recs[i] = &kgo.Record{Value: v}
	}
	c := &consumer{stamped: true, hist: NewHist()}
	b.SetBytes(500 * 1024)
	for b.Loop() {
		c.takeStamped(recs, 2_000_000, 0)
	}
}
