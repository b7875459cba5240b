package clustertest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// histSpec describes a History: sends (with their values), and acks,
// consumer reads and the final read as "value@partition:offset".
type histSpec struct {
	sends []sent
	vals  []string
	acks  []string // value@p:o
	reads []string
	final []string
	// noFinal leaves the final read unrecorded.
	noFinal bool
}

func parseAt(t *testing.T, s string) (string, int32, int64) {
	t.Helper()
	v, at, ok := strings.Cut(s, "@")
	if !ok {
		t.Fatalf("bad spec %q", s)
	}
	var p int32
	var o int64
	if _, err := fmt.Sscanf(at, "%d:%d", &p, &o); err != nil {
		t.Fatalf("bad spec %q: %v", s, err)
	}
	return v, p, o
}

func buildHistory(t *testing.T, spec histSpec) *History {
	t.Helper()
	h := NewHistory()
	seqOf := map[string]int64{}
	prodOf := map[string]string{}
	for i, s := range spec.sends {
		h.Sent(s.producer, s.seq, spec.vals[i], s.partition)
		seqOf[spec.vals[i]] = s.seq
		prodOf[spec.vals[i]] = s.producer
	}
	now := time.Now()
	for _, a := range spec.acks {
		v, p, o := parseAt(t, a)
		h.Acked(Ack{Producer: prodOf[v], Seq: seqOf[v], Value: v, Partition: p, Offset: o, SentAt: now, At: now})
	}
	for _, r := range spec.reads {
		v, p, o := parseAt(t, r)
		h.Consumed(Read{Source: "group", Partition: p, Offset: o, Value: v})
	}
	if !spec.noFinal {
		var final []Read
		for _, r := range spec.final {
			v, p, o := parseAt(t, r)
			final = append(final, Read{Source: "final", Partition: p, Offset: o, Value: v})
		}
		h.SetFinal(final)
	}
	return h
}

// sends1 is one producer "a" sending a-0..a-(n-1) alternately to
// partitions 0 and 1.
func sends1(n int) ([]sent, []string) {
	var ss []sent
	var vs []string
	for i := range n {
		ss = append(ss, sent{"a", int64(i), int32(i % 2)})
		vs = append(vs, "a-"+strconv.Itoa(i))
	}
	return ss, vs
}

func TestCheckerCleanHistoryPasses(t *testing.T) {
	ss, vs := sends1(4)
	h := buildHistory(t, histSpec{
		sends: ss, vals: vs,
		acks:  []string{"a-0@0:0", "a-1@1:0", "a-2@0:1", "a-3@1:1"},
		reads: []string{"a-0@0:0", "a-2@0:1", "a-1@1:0", "a-0@0:0"}, // a re-read is fine
		// An unacknowledged write that made it is fine too (a-3's ack
		// could have been lost); so is one that did not.
		final: []string{"a-0@0:0", "a-2@0:1", "a-1@1:0", "a-3@1:1"},
	})
	r := h.Check()
	if err := r.Err(); err != nil {
		t.Fatalf("clean history fails: %v", err)
	}
	if r.Acked != 4 || r.Final != 4 || r.Consumed != 4 || r.Sent != 4 {
		t.Fatalf("counts: %s", r.Summary())
	}
	// An unacknowledged value missing from the final read is no violation.
	ss, vs = sends1(3)
	h = buildHistory(t, histSpec{sends: ss, vals: vs, acks: []string{"a-0@0:0", "a-1@1:0"}, final: []string{"a-0@0:0", "a-1@1:0"}})
	if err := h.Check().Err(); err != nil {
		t.Fatalf("unacknowledged loss reported: %v", err)
	}
}

func TestCheckerViolations(t *testing.T) {
	ss, vs := sends1(4)
	cases := []struct {
		name  string
		spec  histSpec
		check string
		want  string // substring of the first example
	}{
		{
			name:  "L: acknowledged write missing",
			spec:  histSpec{acks: []string{"a-0@0:0", "a-2@0:1"}, final: []string{"a-0@0:0"}},
			check: CheckLost, want: "a-2 acknowledged at p0@1",
		},
		{
			name:  "L: acknowledged write replaced at its offset",
			spec:  histSpec{acks: []string{"a-0@0:0"}, final: []string{"a-2@0:0"}},
			check: CheckLost, want: "replaced by a-2",
		},
		{
			name:  "L: no final read",
			spec:  histSpec{acks: []string{"a-0@0:0"}, noFinal: true},
			check: CheckLost, want: "no final read",
		},
		{
			name:  "D: value at two offsets in the final read",
			spec:  histSpec{acks: []string{"a-0@0:0"}, final: []string{"a-0@0:0", "a-0@0:1"}},
			check: CheckDuplicate, want: "a-0 at p0@0",
		},
		{
			name:  "D: consumer saw a value at another offset than acked",
			spec:  histSpec{acks: []string{"a-0@0:0"}, reads: []string{"a-0@0:3"}, final: []string{"a-0@0:0"}},
			check: CheckDuplicate, want: "p0@3 (group)",
		},
		{
			name:  "O: consumer saw another value at an acked offset",
			spec:  histSpec{acks: []string{"a-0@0:0"}, reads: []string{"a-2@0:0"}, final: []string{"a-0@0:0"}},
			check: CheckOffset, want: "p0@0 holds a-0",
		},
		{
			name:  "O: two acks for one offset",
			spec:  histSpec{acks: []string{"a-0@0:0", "a-2@0:0"}, final: []string{"a-0@0:0"}},
			check: CheckOffset, want: "a-2 (ack(a))",
		},
		{
			name:  "S: acks out of send order",
			spec:  histSpec{acks: []string{"a-0@0:1", "a-2@0:0"}, final: []string{"a-2@0:0", "a-0@0:1"}},
			check: CheckOrder, want: "a-2 (send #2) acknowledged at offset 0",
		},
		{
			name:  "S: final read out of send order",
			spec:  histSpec{final: []string{"a-2@0:0", "a-0@0:1"}},
			check: CheckOrder, want: "final read has a-0",
		},
		{
			name:  "U: value never sent",
			spec:  histSpec{reads: []string{"zz-1@0:0"}, final: []string{"zz-1@0:0"}},
			check: CheckUnknown, want: `"zz-1" seen by`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.sends, c.spec.vals = ss, vs
			r := buildHistory(t, c.spec).Check()
			if !r.Failed(c.check) {
				t.Fatalf("check %s passed; report: %v", c.check, r.Err())
			}
			if got := r.Violations[c.check][0]; !strings.Contains(got, c.want) {
				t.Fatalf("check %s example %q does not mention %q", c.check, got, c.want)
			}
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), "check "+c.check) {
				t.Fatalf("Err() = %v", err)
			}
			// Each case breaks only the check it is about.
			for _, other := range []string{CheckLost, CheckDuplicate, CheckOffset, CheckOrder, CheckUnknown} {
				if other != c.check && r.Failed(other) && !slices.Contains(alsoBreaks[c.name], other) {
					t.Errorf("check %s also failed: %v", other, r.Violations[other])
				}
			}
		})
	}
}

// alsoBreaks lists checks a case necessarily breaks besides its own.
var alsoBreaks = map[string][]string{
	"L: acknowledged write replaced at its offset": {CheckOffset},
	"D: value at two offsets in the final read":    {CheckOrder},
	"O: two acks for one offset":                   {CheckLost, CheckOrder},
}

func TestCheckerFirstAckAfterAndEvents(t *testing.T) {
	h := NewHistory()
	t0 := time.Now()
	h.Acked(Ack{Value: "a", Partition: 0, Offset: 0, At: t0.Add(-time.Second)})
	h.Acked(Ack{Value: "c", Partition: 0, Offset: 2, At: t0.Add(3 * time.Second)})
	h.Acked(Ack{Value: "b", Partition: 0, Offset: 1, At: t0.Add(2 * time.Second)})
	h.Acked(Ack{Value: "x", Partition: 1, Offset: 0, At: t0.Add(time.Second)})
	a, ok := h.FirstAckAfter(0, t0)
	if !ok || a.Value != "b" {
		t.Fatalf("FirstAckAfter = %+v, %v; want b", a, ok)
	}
	if _, ok := h.FirstAckAfter(2, t0); ok {
		t.Fatal("FirstAckAfter found an ack on a partition without any")
	}
	h.Event("killed node %d", 3)
	if ev := h.Events(); len(ev) != 1 || !strings.HasSuffix(ev[0], "killed node 3") {
		t.Fatalf("events %q", ev)
	}
}
