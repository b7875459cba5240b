package clustertest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Checks of a workload's History (fault tests, test/chaos):
//
//	L  lost write: every acknowledged write is read back, in the final
//	   read, at its acknowledged offset.
//	D  duplicate: no value is seen at two different offsets (across acks,
//	   every consumer and the final read).
//	O  one value per offset: no (partition, offset) is seen with two
//	   different values (across acks, consumers and the final read).
//	S  order: for one producer and one partition, acknowledged offsets grow
//	   with the send order, and the final read holds the producer's values
//	   in send order.
//	U  unknown: every value read was sent by the workload.
//
// V (every partition has a leader after healing) needs the cluster, not the
// history: see WaitLeaders.
const (
	CheckLost      = "L"
	CheckDuplicate = "D"
	CheckOffset    = "O"
	CheckOrder     = "S"
	CheckUnknown   = "U"
)

var checkNames = map[string]string{
	CheckLost:      "acknowledged writes lost or changed",
	CheckDuplicate: "values seen at more than one offset",
	CheckOffset:    "offsets seen with more than one value",
	CheckOrder:     "per-partition order differs from one producer's send order",
	CheckUnknown:   "values read that the workload never sent",
}

// Ack is one acknowledged write.
type Ack struct {
	Producer  string
	Seq       int64 // the producer's send order, from 0
	Value     string
	Partition int32
	Offset    int64
	SentAt    time.Time
	At        time.Time // when the acknowledgement arrived
}

// ProduceError is one write the producer gave up on (its fate is unknown:
// it may or may not be in the log).
type ProduceError struct {
	Producer  string
	Seq       int64
	Value     string
	Partition int32
	Err       error
	At        time.Time
}

// Read is one record seen by a consumer.
type Read struct {
	Source    string // which consumer: "group", "final", ...
	Partition int32
	Offset    int64
	Value     string
}

type sent struct {
	producer  string
	seq       int64
	partition int32
}

// History records what a workload sent, what was acknowledged, and what
// consumers saw. It is safe for concurrent use.
type History struct {
	mu       sync.Mutex
	sent     map[string]sent
	acks     []Ack
	errs     []ProduceError
	reads    []Read
	final    []Read
	hasFinal bool
	events   []string
}

// NewHistory returns an empty history.
func NewHistory() *History {
	return &History{sent: map[string]sent{}}
}

// Sent records that producer is about to send value (its seq-th send) to
// partition.
func (h *History) Sent(producer string, seq int64, value string, partition int32) {
	h.mu.Lock()
	h.sent[value] = sent{producer, seq, partition}
	h.mu.Unlock()
}

// Acked records an acknowledged write.
func (h *History) Acked(a Ack) {
	h.mu.Lock()
	h.acks = append(h.acks, a)
	h.mu.Unlock()
}

// Failed records a write the producer gave up on.
func (h *History) Failed(e ProduceError) {
	h.mu.Lock()
	h.errs = append(h.errs, e)
	h.mu.Unlock()
}

// Consumed records a record a consumer saw.
func (h *History) Consumed(r Read) {
	h.mu.Lock()
	h.reads = append(h.reads, r)
	h.mu.Unlock()
}

// SetFinal records the final read of every partition from its start, which
// check L compares the acknowledgements with.
func (h *History) SetFinal(reads []Read) {
	h.mu.Lock()
	h.final = slices.Clone(reads)
	h.hasFinal = true
	h.mu.Unlock()
}

// Event records a note shown with the check report (a fault injected, a
// client's data-loss callback, ...).
func (h *History) Event(format string, args ...any) {
	h.mu.Lock()
	h.events = append(h.events, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

// Acks returns a copy of the acknowledged writes, in arrival order.
func (h *History) Acks() []Ack {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.acks)
}

// Errors returns a copy of the writes the producers gave up on.
func (h *History) Errors() []ProduceError {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.errs)
}

// Reads returns a copy of what the consumers (not the final read) saw.
func (h *History) Reads() []Read {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reads)
}

// Final returns a copy of the final read.
func (h *History) Final() []Read {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.final)
}

// Events returns the recorded notes.
func (h *History) Events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// FirstAckAfter returns the first acknowledgement for partition that
// arrived after t (the failover time of a kill at t is its At minus t).
func (h *History) FirstAckAfter(partition int32, t time.Time) (Ack, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var best Ack
	found := false
	for _, a := range h.acks {
		if a.Partition == partition && a.At.After(t) && (!found || a.At.Before(best.At)) {
			best, found = a, true
		}
	}
	return best, found
}

// Report is the outcome of History.Check.
type Report struct {
	Sent, Acked, GaveUp, Consumed, Final int
	// Violations maps a check (CheckLost, ...) to its offending examples.
	Violations map[string][]string
	Events     []string
}

// maxExamples bounds the examples per check in Err and Verify.
const maxExamples = 10

// Failed reports whether check found a violation.
func (r *Report) Failed(check string) bool { return len(r.Violations[check]) > 0 }

// Summary is one line of counts.
func (r *Report) Summary() string {
	return fmt.Sprintf("sent %d, acknowledged %d, failed %d, consumed %d, final read %d", r.Sent, r.Acked, r.GaveUp, r.Consumed, r.Final)
}

// Err describes every failed check with up to 10 examples each, or is nil.
func (r *Report) Err() error {
	var b strings.Builder
	for _, c := range []string{CheckLost, CheckDuplicate, CheckOffset, CheckOrder, CheckUnknown} {
		v := r.Violations[c]
		if len(v) == 0 {
			continue
		}
		fmt.Fprintf(&b, "check %s (%s): %d violations", c, checkNames[c], len(v))
		for i, ex := range v {
			if i == maxExamples {
				fmt.Fprintf(&b, "\n    ... and %d more", len(v)-maxExamples)
				break
			}
			b.WriteString("\n    ")
			b.WriteString(ex)
		}
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return errors.New(r.Summary() + "\n" + b.String())
}

type po struct {
	p int32
	o int64
}

func (x po) String() string { return fmt.Sprintf("p%d@%d", x.p, x.o) }

// Check runs checks L, D, O, S and U. L needs the final read (SetFinal);
// without it L reports that.
func (h *History) Check() *Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := &Report{
		Sent: len(h.sent), Acked: len(h.acks), GaveUp: len(h.errs), Consumed: len(h.reads), Final: len(h.final),
		Violations: map[string][]string{}, Events: slices.Clone(h.events),
	}
	add := func(c, format string, args ...any) {
		r.Violations[c] = append(r.Violations[c], fmt.Sprintf(format, args...))
	}

	// Every observation: (partition, offset, value, where it came from).
	type obs struct {
		at    po
		value string
		src   string
	}
	var all []obs
	for _, a := range h.acks {
		all = append(all, obs{po{a.Partition, a.Offset}, a.Value, "ack(" + a.Producer + ")"})
	}
	for _, rd := range h.reads {
		all = append(all, obs{po{rd.Partition, rd.Offset}, rd.Value, rd.Source})
	}
	for _, rd := range h.final {
		all = append(all, obs{po{rd.Partition, rd.Offset}, rd.Value, "final"})
	}

	// O: one value per offset.
	byOffset := map[po]map[string][]string{}
	for _, o := range all {
		m := byOffset[o.at]
		if m == nil {
			m = map[string][]string{}
			byOffset[o.at] = m
		}
		if !slices.Contains(m[o.value], o.src) {
			m[o.value] = append(m[o.value], o.src)
		}
	}
	for _, at := range sortedPOs(byOffset) {
		m := byOffset[at]
		if len(m) < 2 {
			continue
		}
		var parts []string
		for _, v := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s (%s)", v, strings.Join(m[v], ",")))
		}
		add(CheckOffset, "%v holds %s", at, strings.Join(parts, " and "))
	}

	// D: one offset per value.
	byValue := map[string]map[po][]string{}
	for _, o := range all {
		m := byValue[o.value]
		if m == nil {
			m = map[po][]string{}
			byValue[o.value] = m
		}
		if !slices.Contains(m[o.at], o.src) {
			m[o.at] = append(m[o.at], o.src)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(byValue)) {
		m := byValue[v]
		if len(m) < 2 {
			continue
		}
		var parts []string
		for _, at := range sortedPOs(m) {
			parts = append(parts, fmt.Sprintf("%v (%s)", at, strings.Join(m[at], ",")))
		}
		add(CheckDuplicate, "%s at %s", v, strings.Join(parts, " and "))
	}

	// L: every ack in the final read at its offset.
	if len(h.acks) > 0 && !h.hasFinal {
		add(CheckLost, "no final read was recorded, so %d acknowledged writes are unchecked", len(h.acks))
	} else if len(h.acks) > 0 {
		final := map[po]string{}
		start, end := map[int32]int64{}, map[int32]int64{}
		for _, rd := range h.final {
			final[po{rd.Partition, rd.Offset}] = rd.Value
			if s, ok := start[rd.Partition]; !ok || rd.Offset < s {
				start[rd.Partition] = rd.Offset
			}
			end[rd.Partition] = max(end[rd.Partition], rd.Offset+1)
		}
		acks := slices.Clone(h.acks)
		slices.SortFunc(acks, func(a, b Ack) int {
			return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
		})
		for _, a := range acks {
			at := po{a.Partition, a.Offset}
			got, ok := final[at]
			switch {
			case !ok:
				add(CheckLost, "%s acknowledged at %v (by %s, %s) is missing: the final read of partition %d holds offsets [%d, %d)",
					a.Value, at, a.Producer, a.At.Format("15:04:05.000"), a.Partition, start[a.Partition], end[a.Partition])
			case got != a.Value:
				add(CheckLost, "%s acknowledged at %v (by %s, %s) was replaced by %s", a.Value, at, a.Producer, a.At.Format("15:04:05.000"), got)
			}
		}
	}

	// S: per producer and partition, acks by seq have growing offsets.
	type pp struct {
		producer string
		p        int32
	}
	ackRuns := map[pp][]Ack{}
	for _, a := range h.acks {
		k := pp{a.Producer, a.Partition}
		ackRuns[k] = append(ackRuns[k], a)
	}
	for _, k := range slices.SortedFunc(maps.Keys(ackRuns), func(a, b pp) int {
		return cmp.Or(strings.Compare(a.producer, b.producer), cmp.Compare(a.p, b.p))
	}) {
		run := ackRuns[k]
		slices.SortFunc(run, func(a, b Ack) int { return cmp.Compare(a.Seq, b.Seq) })
		for i := 1; i < len(run); i++ {
			if run[i].Offset <= run[i-1].Offset {
				add(CheckOrder, "producer %s, partition %d: %s (send #%d) acknowledged at offset %d, not after %s (send #%d) at %d",
					k.producer, k.p, run[i].Value, run[i].Seq, run[i].Offset, run[i-1].Value, run[i-1].Seq, run[i-1].Offset)
			}
		}
	}
	// S on the final read: a producer's values appear in send order.
	finalRuns := map[pp][]Read{}
	for _, rd := range h.final {
		s, ok := h.sent[rd.Value]
		if !ok {
			continue
		}
		k := pp{s.producer, rd.Partition}
		finalRuns[k] = append(finalRuns[k], rd)
	}
	for _, k := range slices.SortedFunc(maps.Keys(finalRuns), func(a, b pp) int {
		return cmp.Or(strings.Compare(a.producer, b.producer), cmp.Compare(a.p, b.p))
	}) {
		run := finalRuns[k]
		slices.SortFunc(run, func(a, b Read) int { return cmp.Compare(a.Offset, b.Offset) })
		for i := 1; i < len(run); i++ {
			prev, cur := h.sent[run[i-1].Value], h.sent[run[i].Value]
			if cur.seq <= prev.seq {
				add(CheckOrder, "producer %s, partition %d: final read has %s (send #%d) at offset %d after %s (send #%d) at %d",
					k.producer, k.p, run[i].Value, cur.seq, run[i].Offset, run[i-1].Value, prev.seq, run[i-1].Offset)
			}
		}
	}

	// U: everything read was sent.
	if len(h.sent) > 0 {
		unknown := map[string][]string{}
		for _, o := range all {
			if _, ok := h.sent[o.value]; !ok && !slices.Contains(unknown[o.value], o.src+" "+o.at.String()) {
				unknown[o.value] = append(unknown[o.value], o.src+" "+o.at.String())
			}
		}
		for _, v := range slices.Sorted(maps.Keys(unknown)) {
			add(CheckUnknown, "%q seen by %s", v, strings.Join(unknown[v], ", "))
		}
	}
	return r
}

// Verify runs Check, logs its summary and events, and fails t for each
// violated check with up to 10 examples.
func (h *History) Verify(t testing.TB) *Report {
	t.Helper()
	r := h.Check()
	t.Logf("history: %s", r.Summary())
	if err := r.Err(); err != nil {
		for _, e := range r.Events {
			t.Logf("event: %s", e)
		}
		t.Errorf("history checks failed: %v", err)
	}
	return r
}

func sortedPOs[V any](m map[po]V) []po {
	return slices.SortedFunc(maps.Keys(m), func(a, b po) int {
		return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.o, b.o))
	})
}
