package share

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// FuzzPartition drives a share partition with arbitrary acquisitions,
// acknowledgements (valid, foreign, stale, malformed), lock expiries and
// member releases, and checks KIP-932's invariants after every step: SPSO
// never moves backwards; a record is handed to a second member only after
// the first one's lock expired or it released it; an ACCEPTed or REJECTed
// record is never delivered again; deliveries never exceed the limit; and
// once every member acknowledges what it holds, every record is
// ACKNOWLEDGED or ARCHIVED (SPSO reaches SPEO).
func FuzzPartition(f *testing.F) {
	f.Add([]byte{0, 0, 10, 1, 0, 0, 5, 1, 2, 1, 0, 3, 2})
	f.Add([]byte{0, 1, 30, 3, 40, 0, 2, 0, 30, 4, 0, 0, 1, 2, 2, 9, 3})
	f.Add([]byte{0, 2, 60, 2, 200, 1, 2, 7, 250, 4, 3, 0, 0, 50, 1, 1, 0, 9, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		cfg := PartitionConfig{LockDuration: 10 * time.Second, DeliveryCountLimit: 3, MaxRecordLocks: 64}
		p := NewPartition(cfg, 0)
		m := newModel(t, p)
		now := t0
		members := []string{"a", "b", "c"}
		for len(ops) >= 4 {
			op, who, x, y := ops[0]%5, members[int(ops[1])%3], int64(ops[2]), int64(ops[3])
			ops = ops[4:]
			switch op {
			case 0: // acquire from a log read of [x, x+y]
				m.acquired(who, p.Acquire(who, []Batch{{First: x, Last: x + y%40}}, 1+int(y%50), now), now)
			case 1: // acknowledge [x, x+y%16] with one type
				b := []AckBatch{{First: x, Last: x + y%16, Types: []AckType{AckType(y % 6)}}}
				m.acked(who, b, p.Acknowledge(who, b, y&64 != 0, now), now)
			case 2: // per-offset types, possibly malformed
				types := make([]AckType, 1+y%4)
				for i := range types {
					types[i] = AckType((y + int64(i)*x) % 5)
				}
				b := []AckBatch{{First: x, Last: x + int64(len(types)) - 1 + y%2, Types: types}}
				m.acked(who, b, p.Acknowledge(who, b, true, now), now)
			case 3: // time passes
				now = now.Add(time.Duration(x) * 100 * time.Millisecond)
				p.Expire(now)
				m.expire(now)
			case 4:
				p.ReleaseMember(who)
				m.release(who)
			}
			m.check(now)
		}
		// Drain: everyone accepts what it holds and what it can acquire.
		for i := 0; i < 10*cfg.MaxRecordLocks && p.Start() < p.End(); i++ {
			now = now.Add(cfg.LockDuration)
			got := p.Acquire("a", []Batch{{First: p.Start(), Last: p.End() - 1}}, 1000, now)
			m.acquired("a", got, now)
			for _, r := range got {
				b := []AckBatch{{First: r.First, Last: r.Last, Types: []AckType{AckAccept}}}
				m.acked("a", b, p.Acknowledge("a", b, false, now), now)
			}
			m.check(now)
		}
		if p.Start() != p.End() {
			t.Fatalf("records left in flight after the drain: SPSO %d SPEO %d %v", p.Start(), p.End(), p.InFlight())
		}
	})
}

// model is what the fuzzer knows from the partition's answers alone.
type model struct {
	t        *testing.T
	p        *Partition
	spso     int64
	holder   map[int64]string    // offset -> member told it acquired it
	deadline map[int64]time.Time // its lock expiry
	final    map[int64]bool      // accepted or rejected: never delivered again
	count    map[int64]int16
}

func newModel(t *testing.T, p *Partition) *model {
	return &model{t: t, p: p, holder: map[int64]string{}, deadline: map[int64]time.Time{}, final: map[int64]bool{}, count: map[int64]int16{}}
}

func (m *model) acquired(who string, got []AcquiredRange, now time.Time) {
	for _, r := range got {
		for off := r.First; off <= r.Last; off++ {
			if m.final[off] {
				m.t.Fatalf("offset %d delivered again after ACCEPT/REJECT", off)
			}
			if h, ok := m.holder[off]; ok && now.Before(m.deadline[off]) {
				m.t.Fatalf("offset %d acquired by %s while %s holds it until %v", off, who, h, m.deadline[off])
			}
			m.count[off]++
			if r.Deliveries != m.count[off] || r.Deliveries > m.p.cfg.DeliveryCountLimit {
				m.t.Fatalf("offset %d delivery count %d, seen %d deliveries (limit %d)", off, r.Deliveries, m.count[off], m.p.cfg.DeliveryCountLimit)
			}
			m.holder[off], m.deadline[off] = who, now.Add(m.p.cfg.LockDuration)
		}
	}
}

func (m *model) acked(who string, b []AckBatch, err error, now time.Time) {
	if err != nil {
		if !errors.Is(err, kerr.InvalidRecordState) && !errors.Is(err, kerr.InvalidRequest) {
			m.t.Fatalf("acknowledge error %v is not a Kafka code", err)
		}
		return
	}
	for _, x := range b {
		for off := x.First; off <= x.Last; off++ {
			if m.holder[off] != who {
				m.t.Fatalf("%s acknowledged offset %d it does not hold (%q does)", who, off, m.holder[off])
			}
			t := x.Types[0]
			if len(x.Types) > 1 {
				t = x.Types[off-x.First]
			}
			switch t {
			case AckAccept, AckReject, AckGap:
				m.final[off] = true
				delete(m.holder, off)
			case AckRelease:
				delete(m.holder, off)
			case AckRenew:
				m.deadline[off] = now.Add(m.p.cfg.LockDuration)
			}
		}
	}
}

func (m *model) expire(now time.Time) {
	for off := range m.holder {
		if !now.Before(m.deadline[off]) {
			delete(m.holder, off)
		}
	}
}

func (m *model) release(who string) {
	for off, h := range m.holder {
		if h == who {
			delete(m.holder, off)
		}
	}
}

func (m *model) check(now time.Time) {
	p := m.p
	if p.Start() < m.spso {
		m.t.Fatalf("SPSO moved back from %d to %d", m.spso, p.Start())
	}
	m.spso = p.Start()
	if n := p.End() - p.Start(); n > int64(p.cfg.MaxRecordLocks) {
		m.t.Fatalf("%d records in flight, limit %d", n, p.cfg.MaxRecordLocks)
	}
	for off := p.Start(); off < p.End(); off++ {
		st, d, who, _ := p.Record(off)
		if d > p.cfg.DeliveryCountLimit {
			m.t.Fatalf("offset %d delivered %d times", off, d)
		}
		if st == Acquired && (who == "" || who != m.holder[off]) {
			m.t.Fatalf("offset %d acquired by %q, the answers gave it to %q", off, who, m.holder[off])
		}
		if st != Acquired && who != "" {
			m.t.Fatalf("offset %d is %v with owner %q", off, st, who)
		}
	}
	if off := p.Start(); off < p.End() {
		if st, _, _, _ := p.Record(off); st == Acknowledged || st == Archived {
			m.t.Fatalf("SPSO %d not advanced past a %v record", off, st)
		}
	}
}
