package group

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func tid(name string) (id [16]byte) {
	copy(id[:], name)
	id[15] = byte(len(name))
	return id
}

func topics(spec ...any) []AssignmentTopic {
	var out []AssignmentTopic
	for i := 0; i < len(spec); i += 2 {
		n := spec[i].(string)
		out = append(out, AssignmentTopic{ID: tid(n), Name: n, Partitions: int32(spec[i+1].(int))})
	}
	return out
}

// checkValid verifies that every partition of a subscribed topic is
// assigned to exactly one subscriber and nothing else is assigned.
func checkValid(t *testing.T, spec AssignmentSpec, out map[string]Assignment) {
	t.Helper()
	byID := map[[16]byte]AssignmentTopic{}
	byName := map[string]AssignmentTopic{}
	for _, tp := range spec.Topics {
		byID[tp.ID] = tp
		byName[tp.Name] = tp
	}
	subscribed := map[[16]byte]bool{}
	seen := map[[16]byte]map[int32]string{}
	if len(out) != len(spec.Members) {
		t.Fatalf("assignment has %d members, spec %d", len(out), len(spec.Members))
	}
	for _, m := range spec.Members {
		subs := map[[16]byte]bool{}
		for _, n := range m.Topics {
			if tp, ok := byName[n]; ok {
				subs[tp.ID] = true
				subscribed[tp.ID] = true
			}
		}
		a, ok := out[m.MemberID]
		if !ok {
			t.Fatalf("member %s missing from the assignment", m.MemberID)
		}
		for tpid, ps := range a {
			if !subs[tpid] {
				t.Fatalf("member %s got %x which it does not subscribe to", m.MemberID, tpid[:4])
			}
			if !slices.IsSorted(ps) || len(slices.Compact(slices.Clone(ps))) != len(ps) || len(ps) == 0 {
				t.Fatalf("member %s: partitions %v not sorted/unique/non-empty", m.MemberID, ps)
			}
			for _, p := range ps {
				if p < 0 || p >= byID[tpid].Partitions {
					t.Fatalf("member %s: partition %d out of range", m.MemberID, p)
				}
				if seen[tpid] == nil {
					seen[tpid] = map[int32]string{}
				}
				if o, dup := seen[tpid][p]; dup {
					t.Fatalf("partition %x/%d assigned to %s and %s", tpid[:4], p, o, m.MemberID)
				}
				seen[tpid][p] = m.MemberID
			}
		}
	}
	for tpid := range subscribed {
		if got := len(seen[tpid]); got != int(byID[tpid].Partitions) {
			t.Fatalf("topic %s: %d of %d partitions assigned", byID[tpid].Name, got, byID[tpid].Partitions)
		}
	}
}

// checkUniformBalance verifies the uniform assignor's balance guarantee:
// a member holding a partition of topic T has at most one partition more
// than any other subscriber of T.
func checkUniformBalance(t *testing.T, spec AssignmentSpec, out map[string]Assignment) {
	t.Helper()
	byName := map[string][16]byte{}
	for _, tp := range spec.Topics {
		byName[tp.Name] = tp.ID
	}
	subscribers := map[[16]byte][]string{}
	for _, m := range spec.Members {
		for _, n := range m.Topics {
			if id, ok := byName[n]; ok {
				subscribers[id] = append(subscribers[id], m.MemberID)
			}
		}
	}
	for tpid, ms := range subscribers {
		for _, a := range ms {
			if len(out[a][tpid]) == 0 {
				continue
			}
			for _, b := range ms {
				if out[a].Count() > out[b].Count()+1 {
					t.Fatalf("unbalanced: %s has %d partitions (some of %x), %s subscribes to it and has %d\n%v", a, out[a].Count(), tpid[:4], b, out[b].Count(), out)
				}
			}
		}
	}
}

func members(n int, topicNames ...string) []AssignmentMember {
	out := make([]AssignmentMember, n)
	for i := range out {
		out[i] = AssignmentMember{MemberID: fmt.Sprintf("m%02d", i), Topics: topicNames}
	}
	return out
}

// withCurrent feeds an assignment back as the members' current one.
func withCurrent(ms []AssignmentMember, out map[string]Assignment) []AssignmentMember {
	ms = slices.Clone(ms)
	for i := range ms {
		ms[i].Current = out[ms[i].MemberID]
	}
	return ms
}

func moved(before, after map[string]Assignment) int {
	n := 0
	for id, a := range after {
		n += assignMinus(a, before[id]).Count()
	}
	return n
}

func TestUniformHomogeneousBalanced(t *testing.T) {
	spec := AssignmentSpec{Members: members(3, "a", "b"), Topics: topics("a", 7, "b", 5)}
	out, err := AssignUniform(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, out)
	for id, a := range out {
		if a.Count() != 4 {
			t.Fatalf("%s has %d partitions, want 4: %v", id, a.Count(), out)
		}
	}
}

func TestUniformStickyJoinAndLeave(t *testing.T) {
	tps := topics("a", 12, "b", 6)
	spec := AssignmentSpec{Members: members(2, "a", "b"), Topics: tps}
	first, err := AssignUniform(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, first)

	// A third member joins: each old member gives up exactly what the
	// newcomer needs (18/3 = 6 each) and keeps the rest.
	join := AssignmentSpec{Members: append(withCurrent(spec.Members, first), AssignmentMember{MemberID: "m02", Topics: []string{"a", "b"}}), Topics: tps}
	second, err := AssignUniform(join)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, join, second)
	checkUniformBalance(t, join, second)
	for _, id := range []string{"m00", "m01"} {
		if lost := assignMinus(first[id], second[id]); lost.Count() != 3 {
			t.Fatalf("%s lost %d partitions, want 3", id, lost.Count())
		}
		if gained := assignMinus(second[id], first[id]); gained.Count() != 0 {
			t.Fatalf("%s gained %v", id, gained)
		}
	}
	if moved(first, second) != 6 {
		t.Fatalf("moved %d partitions, want 6", moved(first, second))
	}

	// m01 leaves: the others keep all they had and split its 6.
	var left []AssignmentMember
	for _, m := range withCurrent(join.Members, second) {
		if m.MemberID != "m01" {
			left = append(left, m)
		}
	}
	leave := AssignmentSpec{Members: left, Topics: tps}
	third, err := AssignUniform(leave)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, leave, third)
	for _, id := range []string{"m00", "m02"} {
		if lost := assignMinus(second[id], third[id]); lost.Count() != 0 {
			t.Fatalf("%s lost %v on another member's leave", id, lost)
		}
		if third[id].Count() != 9 {
			t.Fatalf("%s has %d, want 9", id, third[id].Count())
		}
	}
}

func TestUniformExtraPartitionsStayWithHolders(t *testing.T) {
	// 7 partitions over 3 members is 3+2+2. A member holding 3 keeps 3:
	// nothing moves when the assignment is already balanced.
	tps := topics("a", 7)
	ms := members(3, "a")
	ms[0].Current = Assignment{tid("a"): {0, 1}}
	ms[1].Current = Assignment{tid("a"): {2, 3, 4}}
	ms[2].Current = Assignment{tid("a"): {5, 6}}
	spec := AssignmentSpec{Members: ms, Topics: tps}
	out, err := AssignUniform(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !out[m.MemberID].Equal(m.Current) {
			t.Fatalf("balanced assignment changed: %v", out)
		}
	}
}

func TestUniformHeterogeneous(t *testing.T) {
	tps := topics("a", 6, "b", 4, "c", 3)
	spec := AssignmentSpec{Topics: tps, Members: []AssignmentMember{
		{MemberID: "x", Topics: []string{"a", "b"}},
		{MemberID: "y", Topics: []string{"b"}},
		{MemberID: "z", Topics: []string{"a", "c", "missing"}},
	}}
	out, err := AssignUniform(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, out)
	checkUniformBalance(t, spec, out)
	if len(out["y"][tid("a")]) != 0 || len(out["y"][tid("c")]) != 0 {
		t.Fatalf("y got topics it does not subscribe to: %v", out["y"])
	}

	// Feeding the result back changes nothing.
	again, err := AssignUniform(AssignmentSpec{Topics: tps, Members: withCurrent(spec.Members, out)})
	if err != nil {
		t.Fatal(err)
	}
	if moved(out, again) != 0 {
		t.Fatalf("stable input moved partitions: %v → %v", out, again)
	}

	// y unsubscribes from b: it loses b, the others keep what they had.
	ms := withCurrent(spec.Members, out)
	ms[1].Topics = nil
	third, err := AssignUniform(AssignmentSpec{Topics: tps, Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, AssignmentSpec{Topics: tps, Members: ms}, third)
	if third["y"].Count() != 0 {
		t.Fatalf("y kept %v", third["y"])
	}
	checkUniformBalance(t, AssignmentSpec{Topics: tps, Members: ms}, third)
	if lost := assignMinus(Assignment{tid("b"): out["x"][tid("b")]}, third["x"]); lost.Count() != 0 {
		t.Fatalf("x lost its own b partitions %v", lost)
	}
}

func TestAssignorsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, assign := range []AssignFunc{AssignUniform, AssignRange} {
		for range 50 {
			spec := randomSpec(r)
			want, err := assign(spec)
			if err != nil {
				t.Fatal(err)
			}
			shuffled := slices.Clone(spec.Members)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := assign(AssignmentSpec{Members: shuffled, Topics: spec.Topics})
			if err != nil {
				t.Fatal(err)
			}
			for id := range want {
				if !want[id].Equal(got[id]) {
					t.Fatalf("member order changed the result for %s: %v vs %v", id, want[id], got[id])
				}
			}
		}
	}
}

func randomSpec(r *rand.Rand) AssignmentSpec {
	names := []string{"t0", "t1", "t2", "t3", "t4"}
	var spec AssignmentSpec
	for _, n := range names {
		spec.Topics = append(spec.Topics, AssignmentTopic{ID: tid(n), Name: n, Partitions: int32(r.IntN(12))})
	}
	homogeneous := r.IntN(2) == 0
	common := []string{names[r.IntN(5)], names[r.IntN(5)]}
	for i := range r.IntN(8) + 1 {
		m := AssignmentMember{MemberID: fmt.Sprintf("m%d", i)}
		if r.IntN(3) == 0 {
			m.InstanceID = fmt.Sprintf("i%d", r.IntN(100))
		}
		if homogeneous {
			m.Topics = common
		} else {
			for _, n := range names {
				if r.IntN(2) == 0 {
					m.Topics = append(m.Topics, n)
				}
			}
		}
		spec.Members = append(spec.Members, m)
	}
	return spec
}

func TestUniformRandomChurn(t *testing.T) {
	// Members come and go over many rounds; every round must be valid and
	// balanced, and a member that stays loses partitions only when it
	// holds more than its share.
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		spec := randomSpec(r)
		var prev map[string]Assignment
		next := len(spec.Members)
		for round := range 15 {
			if prev != nil {
				spec.Members = withCurrent(spec.Members, prev)
			}
			out, err := AssignUniform(spec)
			if err != nil {
				t.Fatal(err)
			}
			checkValid(t, spec, out)
			checkUniformBalance(t, spec, out)
			prev = out
			switch r.IntN(3) {
			case 0:
				if len(spec.Members) > 1 {
					i := r.IntN(len(spec.Members))
					spec.Members = slices.Delete(slices.Clone(spec.Members), i, i+1)
				}
			case 1:
				m := spec.Members[0]
				m.MemberID = fmt.Sprintf("n%d-%d-%d", trial, round, next)
				m.InstanceID = ""
				m.Current = nil
				next++
				spec.Members = append(spec.Members, m)
			}
		}
	}
}

func TestRangeCoPartitioned(t *testing.T) {
	spec := AssignmentSpec{Members: members(2, "a", "b"), Topics: topics("a", 3, "b", 3)}
	out, err := AssignRange(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, out)
	want := map[string]Assignment{
		"m00": {tid("a"): {0, 1}, tid("b"): {0, 1}},
		"m01": {tid("a"): {2}, tid("b"): {2}},
	}
	for id := range want {
		if !out[id].Equal(want[id]) {
			t.Fatalf("%s: got %v want %v", id, out[id], want[id])
		}
	}
}

func TestRangeStaticMembersFirst(t *testing.T) {
	spec := AssignmentSpec{Topics: topics("a", 4), Members: []AssignmentMember{
		{MemberID: "a-dynamic", Topics: []string{"a"}},
		{MemberID: "z-static", InstanceID: "i0", Topics: []string{"a"}},
	}}
	out, err := AssignRange(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !out["z-static"].Equal(Assignment{tid("a"): {0, 1}}) {
		t.Fatalf("static member should get the first range: %v", out)
	}
	// The static member restarts with a new member id: same partitions.
	spec.Members[1].MemberID = "b-static-again"
	out2, _ := AssignRange(spec)
	if !out2["b-static-again"].Equal(out["z-static"]) {
		t.Fatalf("static member's range moved: %v", out2)
	}
}

func TestRangeHeterogeneous(t *testing.T) {
	spec := AssignmentSpec{Topics: topics("a", 5, "b", 2), Members: []AssignmentMember{
		{MemberID: "m0", Topics: []string{"a"}},
		{MemberID: "m1", Topics: []string{"a", "b"}},
		{MemberID: "m2", Topics: []string{"b"}},
	}}
	out, err := AssignRange(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, out)
	want := map[string]Assignment{
		"m0": {tid("a"): {0, 1, 2}},
		"m1": {tid("a"): {3, 4}, tid("b"): {0}},
		"m2": {tid("b"): {1}},
	}
	for id := range want {
		if !out[id].Equal(want[id]) {
			t.Fatalf("%s: got %v want %v", id, out[id], want[id])
		}
	}
}

func TestAssignorsRandomValid(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		spec := randomSpec(r)
		for _, assign := range []AssignFunc{AssignUniform, AssignRange} {
			out, err := assign(spec)
			if err != nil {
				t.Fatal(err)
			}
			checkValid(t, spec, out)
		}
		out, _ := AssignUniform(spec)
		checkUniformBalance(t, spec, out)
	}
}

func TestAssignorEdgeCases(t *testing.T) {
	for _, assign := range []AssignFunc{AssignUniform, AssignRange} {
		out, err := assign(AssignmentSpec{})
		if err != nil || len(out) != 0 {
			t.Fatalf("empty spec: %v %v", out, err)
		}
		// More members than partitions, and a member with no topics.
		spec := AssignmentSpec{Members: append(members(4, "a"), AssignmentMember{MemberID: "idle"}), Topics: topics("a", 2)}
		out, err = assign(spec)
		if err != nil {
			t.Fatal(err)
		}
		checkValid(t, spec, out)
		if _, err := assign(AssignmentSpec{Members: []AssignmentMember{{MemberID: "x"}, {MemberID: "x"}}}); err == nil {
			t.Fatal("duplicate member accepted")
		}
	}
	// Stale current partitions (topic shrunk or unsubscribed) are dropped.
	spec := AssignmentSpec{Topics: topics("a", 2), Members: []AssignmentMember{
		{MemberID: "m", Topics: []string{"a"}, Current: Assignment{tid("a"): {0, 1, 5}, tid("gone"): {0}}},
	}}
	out, err := AssignUniform(spec)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, spec, out)
}
