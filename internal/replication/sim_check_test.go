package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// The invariants of TestSim, checked after every step.

// simRef identifies one batch in a log: its offsets and its CRC (which
// covers the records, not the offsets or the leader epoch).
type simRef struct {
	base, next int64
	crc        uint32
}

// simTrack is the history of one partition: the committed log (every
// batch below the highest high watermark any leader ever had), the leader
// of every epoch, the highest high watermark of each epoch's leader, and
// the acknowledged batches.
type simTrack struct {
	committed []simRef
	end       int64 // committed covers [0, end)
	leaderOf  map[int32]int32
	epochHW   map[int32]int64
	acked     []*simProduce
}

func newTrack() *simTrack {
	return &simTrack{leaderOf: map[int32]int32{}, epochHW: map[int32]int64{}}
}

// matchLen is how far (an offset) m's log holds the committed log
// identically, from offset 0.
func (t *simTrack) matchLen(m *simMirror) int64 {
	if m == nil {
		return 0
	}
	n := int64(0)
	for i, r := range t.committed {
		if i >= len(m.refs) || m.refs[i] != r {
			break
		}
		n = r.next
	}
	return n
}

// capture extends the committed log to hw with the batches of m, the log
// of a leader whose high watermark is hw; m holds the committed log.
func (t *simTrack) capture(m *simMirror, hw int64) error {
	i := sort.Search(len(m.refs), func(i int) bool { return m.refs[i].next > t.end })
	for ; i < len(m.refs) && m.refs[i].base < hw; i++ {
		r := m.refs[i]
		if r.base != t.end {
			return fmt.Errorf("batch %d-%d straddles the committed end %d", r.base, r.next-1, t.end)
		}
		t.committed = append(t.committed, r)
		t.end = r.next
	}
	if t.end != hw {
		return fmt.Errorf("high watermark %d is not a batch boundary of the log (committed now ends at %d)", hw, t.end)
	}
	return nil
}

// find returns the committed batch at base.
func (t *simTrack) find(base int64) (simRef, bool) {
	i := sort.Search(len(t.committed), func(i int) bool { return t.committed[i].base >= base })
	if i < len(t.committed) && t.committed[i].base == base {
		return t.committed[i], true
	}
	return simRef{}, false
}

// simMirror is the batch list of one replica's log, rescanned when the
// partition signals a change.
type simMirror struct {
	p    *partition.Partition
	ch   <-chan struct{}
	refs []simRef
}

func (w *world) refreshMirrors(b *simBroker) {
	if b.mgr == nil {
		return
	}
	for _, k := range w.keys {
		p, ok := b.mgr.Get(k.Topic, k.Partition)
		if !ok {
			delete(b.mirrors, k)
			continue
		}
		ch := p.Changed()
		if m := b.mirrors[k]; m != nil && m.p == p && m.ch == ch {
			continue
		}
		m := &simMirror{p: p, ch: ch}
		err := p.Log().ScanBatches(p.LogStartOffset(), func(h batch.Header, _ []byte) error {
			m.refs = append(m.refs, simRef{base: h.BaseOffset, next: h.NextOffset(), crc: h.CRC})
			return nil
		})
		if err != nil {
			w.failf("b%d: scanning p%d: %v", b.id, k.Partition, err)
		}
		if len(m.refs) > 0 && m.refs[0].base != 0 {
			w.failf("b%d: p%d starts at %d; the simulation never deletes records", b.id, k.Partition, m.refs[0].base)
		}
		b.mirrors[k] = m
	}
}

var simCancelled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// check asserts the invariants (see TestSim).
func (w *world) check() {
	for _, b := range w.brokers {
		if b.state == brokerUp {
			w.refreshMirrors(b)
		}
	}
	ctlTopic := w.ctl.Topics[simTopic]
	for _, k := range w.keys {
		tr := w.track[k]
		for _, b := range w.brokers {
			if b.state != brokerUp {
				continue
			}
			p, ok := b.mgr.Get(k.Topic, k.Partition)
			if !ok {
				continue
			}
			m := b.mirrors[k]
			hw := p.HighWatermark()
			if n := min(hw, tr.end); tr.matchLen(m) < n {
				w.failf("b%d p%d: its log below its high watermark %d differs from the committed log from offset %d on", b.id, k.Partition, hw, tr.matchLen(m))
				return
			}
			if !p.IsLeader() {
				continue
			}
			e := p.State().LeaderEpoch
			if prev, ok := tr.leaderOf[e]; ok && prev != b.id {
				w.failf("p%d: two leaders at leader epoch %d: b%d and b%d", k.Partition, e, prev, b.id)
				return
			}
			tr.leaderOf[e] = b.id
			if prev, ok := tr.epochHW[e]; ok && hw < prev {
				w.failf("p%d: the high watermark of leader b%d went back from %d to %d within leader epoch %d", k.Partition, b.id, prev, hw, e)
				return
			}
			tr.epochHW[e] = max(tr.epochHW[e], hw)
			if hw > tr.end {
				from := tr.end
				if err := tr.capture(m, hw); err != nil {
					w.failf("p%d: leader b%d: %v", k.Partition, b.id, err)
					return
				}
				w.tracef("p%d: committed %d-%d (leader b%d epoch %d)", k.Partition, from, hw-1, b.id, e)
			}
		}
		// The image's leader and every ISR and ELR member hold the
		// committed log; only a replica that lost committed records in a
		// power loss may lack them, until it fetched them back, and never
		// while it leads.
		mp := ctlTopic.Partitions[k.Partition]
		for _, r := range slices.Concat(mp.ISR, mp.ELR) {
			b := w.broker(r)
			if b.state != brokerUp {
				continue
			}
			p, ok := b.mgr.Get(k.Topic, k.Partition)
			if !ok {
				continue
			}
			leads := r == mp.Leader && p.IsLeader() && p.State().LeaderEpoch == mp.LeaderEpoch
			if _, dirty := b.dirty[k]; dirty && !leads {
				continue
			}
			if n := tr.matchLen(b.mirrors[k]); n < tr.end {
				role := "an ISR member"
				switch {
				case leads:
					role = "the leader"
				case slices.Contains(mp.ELR, r):
					role = "an ELR member"
				}
				w.failf("p%d: b%d is %s (leader %d epoch %d, ISR %v, ELR %v) but holds the committed log only up to offset %d of %d", k.Partition, r, role, mp.Leader, mp.LeaderEpoch, mp.ISR, mp.ELR, n, tr.end)
				return
			}
		}
	}
	w.checkAcks()
	for _, b := range w.brokers {
		if b.state != brokerUp {
			continue
		}
		for _, k := range sortedKeysOf(b.dirty) {
			if w.track[k].matchLen(b.mirrors[k]) >= b.dirty[k] {
				w.tracef("b%d p%d: fetched back what the power loss took", b.id, k.Partition)
				delete(b.dirty, k)
			}
		}
	}
}

// checkAcks settles the pending acks=all appends with the produce
// handler's WaitCommitted, and checks that every acknowledged batch is in
// the committed log.
func (w *world) checkAcks() {
	keep := w.pending[:0]
	for _, pr := range w.pending {
		b := w.broker(pr.broker)
		if b.inc != pr.inc || b.state != brokerUp {
			w.failedAcks++
			continue
		}
		err := pr.p.WaitCommitted(simCancelled, pr.res.LastOffset, pr.res.LeaderEpoch)
		switch {
		case err == nil:
			tr := w.track[pr.key]
			r, ok := tr.find(pr.res.BaseOffset)
			if !ok || r.crc != pr.crc || r.next != pr.res.LastOffset+1 {
				w.failf("p%d: b%d acknowledged %s at offsets %d-%d, but the committed log (to %d) has %+v there", pr.key.Partition, pr.broker, pr.value, pr.res.BaseOffset, pr.res.LastOffset, tr.end, r)
				return
			}
			w.acked++
			tr.acked = append(tr.acked, pr)
			w.tracef("ack %s at p%d offsets %d-%d (b%d epoch %d)", pr.value, pr.key.Partition, pr.res.BaseOffset, pr.res.LastOffset, pr.broker, pr.res.LeaderEpoch)
		case errors.Is(err, context.Canceled) && w.now.Before(pr.deadline):
			keep = append(keep, pr)
		default:
			w.failedAcks++
		}
	}
	w.pending = keep
}

// checkConverged asserts, after the faults stopped, that every partition
// has a leader, every replica is back in the ISR with the leader's log,
// and every acknowledged batch is in it.
func (w *world) checkConverged() error {
	ctlTopic := w.ctl.Topics[simTopic]
	for _, k := range w.keys {
		mp := ctlTopic.Partitions[k.Partition]
		if mp.Leader < 0 || len(mp.ISR) != simNodes {
			return fmt.Errorf("p%d did not recover: leader %d ISR %v ELR %v", k.Partition, mp.Leader, mp.ISR, mp.ELR)
		}
		l := w.broker(mp.Leader)
		if l.state != brokerUp {
			return fmt.Errorf("p%d: leader b%d is %v", k.Partition, l.id, l.state)
		}
		lm := l.mirrors[k]
		lp, _ := l.mgr.Get(k.Topic, k.Partition)
		if lp.HighWatermark() != lp.LogEndOffset() {
			return fmt.Errorf("p%d: leader b%d high watermark %d, log end %d", k.Partition, l.id, lp.HighWatermark(), lp.LogEndOffset())
		}
		for _, b := range w.brokers {
			if b.state != brokerUp || !slices.Equal(b.mirrors[k].refs, lm.refs) {
				return fmt.Errorf("p%d: b%d (%v) does not hold the leader's log", k.Partition, b.id, b.state)
			}
		}
		for _, a := range w.track[k].acked {
			i := sort.Search(len(lm.refs), func(i int) bool { return lm.refs[i].base >= a.res.BaseOffset })
			if i == len(lm.refs) || lm.refs[i].base != a.res.BaseOffset || lm.refs[i].crc != a.crc {
				return fmt.Errorf("p%d: acknowledged %s at offset %d is not in the log", k.Partition, a.value, a.res.BaseOffset)
			}
		}
	}
	return nil
}

// dump describes the cluster, for a failure report.
func (w *world) dump() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "controller image @%d:\n", w.ctl.Offset)
	for _, id := range sortedIDs(w.ctl.Brokers) {
		b := w.ctl.Brokers[id]
		fmt.Fprintf(&sb, "  broker %d fenced=%v incarnation %s\n", id, b.Fenced, b.IncarnationID)
	}
	for _, mp := range w.ctl.Topics[simTopic].Partitions {
		tr := w.track[partition.Key{Topic: simTopic, Partition: mp.Index}]
		fmt.Fprintf(&sb, "  p%d leader %d epoch %d partition epoch %d ISR %v ELR %v; committed to %d, %d acked\n",
			mp.Index, mp.Leader, mp.LeaderEpoch, mp.PartitionEpoch, mp.ISR, mp.ELR, tr.end, len(tr.acked))
	}
	for _, b := range w.brokers {
		fmt.Fprintf(&sb, "b%d: %v, incarnation %d, dirty %v\n", b.id, b.state, b.inc, b.dirty)
		if b.state != brokerUp {
			continue
		}
		for _, k := range w.keys {
			p, ok := b.mgr.Get(k.Topic, k.Partition)
			if !ok {
				continue
			}
			st := p.State()
			fmt.Fprintf(&sb, "  p%d: leader=%v (image: leader %d epoch %d ISR %v) log end %d hw %d epochs %v; matches committed to %d\n",
				k.Partition, p.IsLeader(), st.Leader, st.LeaderEpoch, st.ISR, p.LogEndOffset(), p.HighWatermark(), p.Log().Epochs(), w.track[k].matchLen(b.mirrors[k]))
		}
	}
	return sb.String()
}

// simTrace keeps the last lines of the run.
type simTrace struct {
	lines []string
	next  int
	full  bool
	echo  bool // also print every line (SAMSA_SIM_VERBOSE)
}

func newTrace(n int, echo bool) *simTrace { return &simTrace{lines: make([]string, n), echo: echo} }

func (t *simTrace) add(step int, now time.Time, s string) {
	line := fmt.Sprintf("%6d %9.3fs %s", step, float64(now.UnixMilli()%1_000_000)/1000, s)
	if t.echo {
		fmt.Println(line)
	}
	t.lines[t.next] = line
	t.next = (t.next + 1) % len(t.lines)
	if t.next == 0 {
		t.full = true
	}
}

func (t *simTrace) tail() string {
	var out []string
	if t.full {
		out = append(out, t.lines[t.next:]...)
	}
	out = append(out, t.lines[:t.next]...)
	return strings.Join(out, "\n")
}

// simLogHandler puts the partitions' and logs' messages in the trace.
type simLogHandler struct {
	w     *world
	attrs string
}

func (h *simLogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *simLogHandler) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString("  log: ")
	sb.WriteString(r.Message)
	sb.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
		return true
	})
	h.w.tracef("%s", sb.String())
	return nil
}

func (h *simLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	for _, a := range as {
		n.attrs += fmt.Sprintf(" %s=%v", a.Key, a.Value)
	}
	return &n
}

func (h *simLogHandler) WithGroup(string) slog.Handler { return h }
