package share

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var t0 = time.Unix(1_700_000_000, 0)

func testCfg() PartitionConfig {
	c := PartitionConfig{}.Defaults()
	c.LockDuration = 10 * time.Second
	c.DeliveryCountLimit = 3
	c.MaxRecordLocks = 100
	return c
}

func one(first, last int64) []Batch { return []Batch{{First: first, Last: last}} }

func ack(first, last int64, t AckType) []AckBatch {
	return []AckBatch{{First: first, Last: last, Types: []AckType{t}}}
}

func TestAcquireAcceptAdvances(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	got := p.Acquire("a", one(0, 9), 500, t0)
	if len(got) != 1 || got[0] != (AcquiredRange{First: 0, Last: 9, Deliveries: 1}) {
		t.Fatalf("acquired %+v", got)
	}
	if p.Start() != 0 || p.End() != 10 {
		t.Fatalf("SPSO %d SPEO %d", p.Start(), p.End())
	}
	if err := p.Acknowledge("a", ack(0, 4, AckAccept), false, t0); err != nil {
		t.Fatal(err)
	}
	if p.Start() != 5 {
		t.Fatalf("SPSO %d after accepting 0-4", p.Start())
	}
	// Nothing is available: the next fetch reads past SPEO.
	if off, ok := p.FetchOffset(t0); !ok || off != 10 {
		t.Fatalf("fetch offset %d %v", off, ok)
	}
}

func TestReleaseRedeliversRejectNever(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	p.Acquire("a", one(0, 3), 500, t0)
	err := p.Acknowledge("a", []AckBatch{{First: 0, Last: 3, Types: []AckType{AckRelease, AckReject, AckAccept, AckRelease}}}, false, t0)
	if err != nil {
		t.Fatal(err)
	}
	if off, ok := p.FetchOffset(t0); !ok || off != 0 {
		t.Fatalf("fetch offset %d %v", off, ok)
	}
	got := p.Acquire("b", one(0, 3), 500, t0)
	want := []AcquiredRange{{First: 0, Last: 0, Deliveries: 2}, {First: 3, Last: 3, Deliveries: 2}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("redelivered %+v, want %+v", got, want)
	}
}

func TestDeliveryCountLimitArchives(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	for i := 1; i <= 3; i++ {
		got := p.Acquire("a", one(0, 0), 500, t0)
		if len(got) != 1 || got[0].Deliveries != int16(i) {
			t.Fatalf("delivery %d: %+v", i, got)
		}
		if err := p.Acknowledge("a", ack(0, 0, AckRelease), false, t0); err != nil {
			t.Fatal(err)
		}
	}
	if p.Start() != 1 {
		t.Fatalf("record 0 not archived after 3 deliveries: SPSO %d", p.Start())
	}
	if got := p.Acquire("a", one(0, 0), 500, t0); len(got) != 0 {
		t.Fatalf("archived record acquired again: %+v", got)
	}
}

func TestLockExpiryRedelivers(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	p.Acquire("a", one(0, 4), 500, t0)
	if got := p.Acquire("b", one(0, 4), 500, t0.Add(9*time.Second)); len(got) != 0 {
		t.Fatalf("acquired locked records: %+v", got)
	}
	got := p.Acquire("b", one(0, 4), 500, t0.Add(10*time.Second))
	if len(got) != 1 || got[0] != (AcquiredRange{First: 0, Last: 4, Deliveries: 2}) {
		t.Fatalf("after lock expiry %+v", got)
	}
	// The first owner's late acknowledgement is refused.
	if err := p.Acknowledge("a", ack(0, 4, AckAccept), false, t0.Add(11*time.Second)); !errors.Is(err, kerr.InvalidRecordState) {
		t.Fatalf("late ack: %v", err)
	}
}

func TestRenewExtendsLock(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	p.Acquire("a", one(0, 0), 500, t0)
	if err := p.Acknowledge("a", ack(0, 0, AckRenew), false, t0); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("renew without IsRenewAck: %v", err)
	}
	if err := p.Acknowledge("a", ack(0, 0, AckRenew), true, t0.Add(9*time.Second)); err != nil {
		t.Fatal(err)
	}
	if st, _, m, _ := p.Record(0); st != Acquired || m != "a" {
		t.Fatalf("after renew: %v %q", st, m)
	}
	p.Expire(t0.Add(18 * time.Second))
	if st, _, _, _ := p.Record(0); st != Acquired {
		t.Fatalf("renewed lock expired early: %v", st)
	}
	p.Expire(t0.Add(19 * time.Second))
	if st, _, _, _ := p.Record(0); st != Available {
		t.Fatalf("renewed lock did not expire: %v", st)
	}
}

func TestAcknowledgeErrors(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	p.Acquire("a", one(0, 9), 500, t0)
	cases := []struct {
		name   string
		member string
		b      []AckBatch
		want   *kerr.Error
	}{
		{"other member", "b", ack(0, 0, AckAccept), kerr.InvalidRecordState},
		{"beyond SPEO", "a", ack(5, 50, AckAccept), kerr.InvalidRecordState},
		{"absurd range", "a", ack(0, 1<<62, AckAccept), kerr.InvalidRecordState},
		{"first > last", "a", ack(5, 4, AckAccept), kerr.InvalidRequest},
		{"negative", "a", ack(-3, 4, AckAccept), kerr.InvalidRequest},
		{"overlap", "a", []AckBatch{{0, 3, []AckType{AckAccept}}, {3, 4, []AckType{AckAccept}}}, kerr.InvalidRequest},
		{"types length", "a", []AckBatch{{0, 3, []AckType{AckAccept, AckAccept}}}, kerr.InvalidRequest},
		{"no types", "a", []AckBatch{{0, 3, nil}}, kerr.InvalidRequest},
		{"unknown type", "a", ack(0, 0, 9), kerr.InvalidRequest},
	}
	for _, c := range cases {
		if err := p.Acknowledge(c.member, c.b, false, t0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Nothing was applied: all ten records are still acquired by a.
	for off := int64(0); off < 10; off++ {
		if st, _, m, _ := p.Record(off); st != Acquired || m != "a" {
			t.Fatalf("offset %d changed by refused acks: %v %q", off, st, m)
		}
	}
	// A refused batch leaves the valid one in the same call unapplied.
	if err := p.Acknowledge("a", []AckBatch{{0, 1, []AckType{AckAccept}}, {2, 200, []AckType{AckAccept}}}, false, t0); !errors.Is(err, kerr.InvalidRecordState) {
		t.Fatalf("mixed: %v", err)
	}
	if p.Start() != 0 {
		t.Fatalf("SPSO moved on a refused call: %d", p.Start())
	}
}

func TestMaxRecordLocksAndGaps(t *testing.T) {
	cfg := testCfg()
	cfg.MaxRecordLocks = 10
	p := NewPartition(cfg, 0)
	// Offsets 3-4 are not in the log (compacted); 5 is a control batch.
	got := p.Acquire("a", []Batch{{First: 0, Last: 2}, {First: 5, Last: 5, Skip: true}, {First: 6, Last: 20}}, 500, t0)
	want := []AcquiredRange{{0, 2, 1}, {6, 9, 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("acquired %+v, want %+v", got, want)
	}
	if _, ok := p.FetchOffset(t0); ok {
		t.Fatal("window full yet a fetch offset was given")
	}
	if st, _, _, _ := p.Record(3); st != Archived {
		t.Fatalf("gap offset 3 is %v", st)
	}
	if err := p.Acknowledge("a", ack(0, 2, AckAccept), false, t0); err != nil {
		t.Fatal(err)
	}
	if p.Start() != 6 {
		t.Fatalf("SPSO %d, want 6 (gaps and control archived)", p.Start())
	}
	if off, ok := p.FetchOffset(t0); !ok || off != 10 {
		t.Fatalf("fetch offset %d %v", off, ok)
	}
}

func TestMaxRecordsAndMoveStart(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	if got := p.Acquire("a", one(0, 9), 4, t0); len(got) != 1 || got[0].Last != 3 {
		t.Fatalf("max records: %+v", got)
	}
	p.MoveStart(2)
	if p.Start() != 2 || p.End() != 4 {
		t.Fatalf("SPSO %d SPEO %d", p.Start(), p.End())
	}
	p.MoveStart(7)
	if p.Start() != 7 || p.End() != 7 {
		t.Fatalf("SPSO %d SPEO %d", p.Start(), p.End())
	}
	p.ReleaseMember("a")
	if got := p.Acquire("b", one(0, 9), 500, t0); len(got) != 1 || got[0] != (AcquiredRange{7, 9, 1}) {
		t.Fatalf("after move %+v", got)
	}
}
