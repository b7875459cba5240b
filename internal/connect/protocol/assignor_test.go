package protocol

import (
	"fmt"
	"testing"
	"time"
)

// sim is a group of workers driven through rebalances by one Assignor.
type sim struct {
	t     *testing.T
	a     *Assignor
	now   time.Time
	owned map[string]*Assignment // live members and what they run
	snap  Snapshot
	gen   int32
}

func newSim(t *testing.T, delay time.Duration, conns map[string]int) *sim {
	return &sim{t: t, a: &Assignor{MaxDelay: delay}, now: time.Unix(1_700_000_000, 0),
		owned: map[string]*Assignment{}, snap: Snapshot{Offset: 10, Connectors: conns}}
}

// round runs one rebalance; it returns whether the members must rejoin
// at once (a revocation) and the scheduled delay.
func (s *sim) round() (bool, int32) {
	s.t.Helper()
	members := map[string]Metadata{}
	leader := ""
	for id, o := range s.owned {
		members[id] = Metadata{URL: "http://" + id, ConfigOffset: 10, Owned: o}
		if leader == "" || id < leader {
			leader = id
		}
	}
	s.gen++
	out := s.a.AssignGeneration(s.now, leader, s.gen-1, s.gen, members, s.snap)
	if len(out) != len(members) {
		s.t.Fatalf("%d assignments for %d members", len(out), len(members))
	}
	rejoin, delay := false, int32(0)
	for id, as := range out {
		// Encode and decode as on the wire.
		_, as, err := DecodeAssignment(EncodeAssignment(VersionSessioned, as))
		if err != nil || as.Error != ErrNone || as.Leader != leader || as.LeaderURL != "http://"+leader {
			s.t.Fatalf("assignment for %s: %+v %v", id, as, err)
		}
		o := s.owned[id]
		w := newWork()
		if o != nil {
			w.addLists(o.Connectors, o.Tasks)
		}
		for _, c := range as.RevokedConnectors {
			if !w.conns[c] {
				s.t.Fatalf("%s: revoked connector %s it does not run", id, c)
			}
		}
		rv := newWork()
		rv.addLists(as.RevokedConnectors, as.RevokedTasks)
		w = w.minus(rv)
		for _, c := range as.Connectors {
			if w.conns[c] {
				s.t.Fatalf("%s: assigned connector %s it already runs", id, c)
			}
		}
		w.addLists(as.Connectors, as.Tasks)
		s.owned[id] = &Assignment{Connectors: w.sortedConns(), Tasks: w.sortedTasks()}
		rejoin = rejoin || !rv.empty()
		delay = max(delay, as.Delay)
	}
	s.noDuplicates()
	return rejoin, delay
}

// noDuplicates: after each round, nothing runs on two workers (revoke
// before reassign).
func (s *sim) noDuplicates() {
	s.t.Helper()
	seen := map[string]string{}
	for id, o := range s.owned {
		for _, c := range o.Connectors {
			if prev, ok := seen["c/"+c]; ok {
				s.t.Fatalf("connector %s runs on %s and %s", c, prev, id)
			}
			seen["c/"+c] = id
		}
		for _, tk := range o.Tasks {
			if prev, ok := seen["t/"+tk.String()]; ok {
				s.t.Fatalf("task %s runs on %s and %s", tk, prev, id)
			}
			seen["t/"+tk.String()] = id
		}
	}
}

// settle rebalances until nothing is revoked and no delay is pending,
// letting time pass for scheduled rebalances.
func (s *sim) settle() {
	s.t.Helper()
	for i := 0; i < 20; i++ {
		rejoin, delay := s.round()
		switch {
		case rejoin:
			continue
		case delay > 0:
			s.now = s.now.Add(time.Duration(delay) * time.Millisecond)
		default:
			return
		}
	}
	s.t.Fatal("group did not settle in 20 rounds")
}

// complete checks every configured connector and task runs exactly once
// and the load is balanced to within one.
func (s *sim) complete() {
	s.t.Helper()
	want := configured(s.snap)
	got := newWork()
	minC, maxC, minT, maxT := 1<<30, 0, 1<<30, 0
	for _, o := range s.owned {
		got.addLists(o.Connectors, o.Tasks)
		minC, maxC = min(minC, len(o.Connectors)), max(maxC, len(o.Connectors))
		minT, maxT = min(minT, len(o.Tasks)), max(maxT, len(o.Tasks))
	}
	if !want.minus(got).empty() || !got.minus(want).empty() {
		s.t.Fatalf("assigned %v/%v, configured %v/%v", got.sortedConns(), got.sortedTasks(), want.sortedConns(), want.sortedTasks())
	}
	if maxC-minC > 1 || maxT-minT > 1 {
		s.t.Fatalf("unbalanced: connectors %d..%d tasks %d..%d: %s", minC, maxC, minT, maxT, s)
	}
}

func (s *sim) String() string {
	out := ""
	for _, id := range sortedKeys(s.owned) {
		out += fmt.Sprintf("%s=%v%v ", id, s.owned[id].Connectors, s.owned[id].Tasks)
	}
	return out
}

func TestAssignorJoinSpreadsWork(t *testing.T) {
	s := newSim(t, 10*time.Second, map[string]int{"a": 4, "b": 3, "c": 1})
	s.owned["w1"] = nil
	s.settle()
	s.complete()
	s.owned["w2"] = nil
	s.owned["w3"] = nil
	s.settle()
	s.complete()
	for id, o := range s.owned {
		if len(o.Tasks) == 0 {
			t.Fatalf("%s got no tasks: %s", id, s)
		}
	}
}

func TestAssignorLostWorkWaitsForDelay(t *testing.T) {
	s := newSim(t, 10*time.Second, map[string]int{"a": 3, "b": 3})
	for _, id := range []string{"w1", "w2", "w3"} {
		s.owned[id] = nil
	}
	s.settle()
	s.complete()
	gone := s.owned["w2"]
	delete(s.owned, "w2")
	_, delay := s.round()
	if delay <= 0 || delay > 10_000 {
		t.Fatalf("delay %d after a member left", delay)
	}
	// During the delay the departed member's work stays unassigned.
	for _, o := range s.owned {
		for _, tk := range o.Tasks {
			for _, g := range gone.Tasks {
				if tk == g {
					t.Fatalf("task %s reassigned before the delay: %s", tk, s)
				}
			}
		}
	}
	s.now = s.now.Add(4 * time.Second)
	if _, d := s.round(); d <= 0 || d > 6_000 {
		t.Fatalf("remaining delay %d, want about 6000", d)
	}
	s.now = s.now.Add(7 * time.Second)
	s.settle()
	s.complete()
}

func TestAssignorReturningMemberGetsLostWork(t *testing.T) {
	s := newSim(t, 5*time.Second, map[string]int{"a": 2, "b": 2})
	s.owned["w1"], s.owned["w2"] = nil, nil
	s.settle()
	s.complete()
	delete(s.owned, "w2")
	if _, d := s.round(); d == 0 {
		t.Fatal("no delay")
	}
	s.owned["w2"] = nil // restarted: comes back empty within the delay
	_, d := s.round()
	s.now = s.now.Add(time.Duration(d) * time.Millisecond)
	s.settle()
	s.complete()
	if len(s.owned["w2"].Tasks) != 2 {
		t.Fatalf("returning member did not get the lost tasks back: %s", s)
	}
}

func TestAssignorNoDelayReassignsAtOnce(t *testing.T) {
	s := newSim(t, 0, map[string]int{"a": 4})
	s.owned["w1"], s.owned["w2"] = nil, nil
	s.settle()
	delete(s.owned, "w1")
	if _, d := s.round(); d != 0 {
		t.Fatalf("delay %d with MaxDelay 0", d)
	}
	s.complete()
}

func TestAssignorDeletedConnectorRevoked(t *testing.T) {
	s := newSim(t, time.Second, map[string]int{"a": 2, "b": 2})
	s.owned["w1"], s.owned["w2"] = nil, nil
	s.settle()
	s.snap = Snapshot{Offset: 10, Connectors: map[string]int{"a": 2, "c": 1}}
	s.settle()
	s.complete()
	s.snap.Connectors["a"] = 5 // task count grows
	s.settle()
	s.complete()
}

func TestAssignorConfigMismatch(t *testing.T) {
	a := &Assignor{}
	out := a.Assign(time.Now(), "w1", map[string]Metadata{
		"w1": {URL: "u1", ConfigOffset: 3}, "w2": {URL: "u2", ConfigOffset: 9},
	}, Snapshot{Offset: 3})
	for id, as := range out {
		if as.Error != ErrConfigMismatch || as.ConfigOffset != 9 || as.LeaderURL != "u1" {
			t.Fatalf("%s: %+v", id, as)
		}
	}
}

func TestAssignEagerRoundRobin(t *testing.T) {
	a := &Assignor{}
	out := a.AssignEager("m1", map[string]Metadata{"m1": {URL: "u1"}, "m2": {URL: "u2"}},
		Snapshot{Offset: 1, Connectors: map[string]int{"a": 2, "b": 1}})
	// Connectors a->m1, b->m2; tasks a-0->m1, a-1->m2, b-0->m1.
	m1, m2 := out["m1"], out["m2"]
	if fmt.Sprint(m1.Connectors, m1.Tasks) != "[a] [a-0 b-0]" || fmt.Sprint(m2.Connectors, m2.Tasks) != "[b] [a-1]" {
		t.Fatalf("eager: %+v %+v", m1, m2)
	}
	if m1.ConfigOffset != 1 || m2.Leader != "m1" || m2.LeaderURL != "u1" {
		t.Fatalf("header fields: %+v", m2)
	}
}

func TestBackoffMatchesJava(t *testing.T) {
	a := &Assignor{MaxDelay: 300 * time.Second}
	got := []int32{a.backoff(1), a.backoff(2), a.backoff(3), a.backoff(4)}
	if fmt.Sprint(got) != "[40 1600 64000 300000]" {
		t.Fatalf("backoff %v", got)
	}
}
