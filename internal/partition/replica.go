package partition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Replication state of one partition (Kafka's model). The image says who
// leads at which leader epoch and which replicas are in sync; this file
// keeps what only the replicas know:
//
//   - as leader: each follower's log end offset (from its fetch offsets)
//     and when it was last caught up, the high watermark (the smallest log
//     end offset over the ISR, moving only while the ISR has at least
//     min.insync.replicas members, as KIP-966 asks), and the ISR changes
//     to ask the controller for (DesiredISR);
//   - as follower: the leader's high watermark, capped at its own log end.
//
// Everything here is deterministic: time comes from the caller or the
// Clock, and nothing blocks except WaitCommitted.

// Errors of the replication paths; errcode.Code maps them to Kafka
// codes.
var (
	// ErrNotLeader: this replica does not lead the partition (any more).
	ErrNotLeader = errors.New("partition: not the leader")
	// ErrNotEnoughISRAfterAppend: the batch is in the leader's log but the
	// ISR shrank below min.insync.replicas before it was replicated.
	ErrNotEnoughISRAfterAppend = errors.New("partition: fewer in-sync replicas than min.insync.replicas after the append")
	// ErrFencedEpoch: a request names an older leader epoch.
	ErrFencedEpoch = errors.New("partition: fenced leader epoch")
	// ErrUnknownEpoch: a request names a newer leader epoch than this
	// replica knows.
	ErrUnknownEpoch = errors.New("partition: unknown leader epoch")
	// ErrNotReplica: a fetch from a broker that is not a replica.
	ErrNotReplica = errors.New("partition: fetch from a broker that is not a replica")
)

// LeaderState is the image's view of a partition, for a replica.
type LeaderState struct {
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	Replicas       []int32
	ISR            []int32
	ELR            []int32
	// Incarnations is each replica's registered broker incarnation (nil:
	// unknown). A follower whose incarnation changes is a restarted
	// process whose log may have lost what it had fetched: the leader
	// forgets its fetch state (KIP-903's broker-epoch check).
	Incarnations map[int32]metadata.Uuid
}

type followerState struct {
	inc          metadata.Uuid // the follower's incarnation this state is about
	leo          int64         // -1 until the follower fetches under this epoch
	lastFetch    time.Time
	lastFetchLEO int64 // the leader's LEO at lastFetch
	lastCaughtUp time.Time
}

// replication is guarded by Partition.mu.
type replication struct {
	self       int32
	state      LeaderState
	leader     bool
	epochStart int64 // leader: the log end offset when this epoch began
	followers  map[int32]*followerState
	// isrPending is the partition epoch an ISR change was asked for at;
	// no new change is asked for until the image moves past it.
	isrPending int32
	// maximal: replicas an ISR change asked for may have added (KIP-497's
	// maximal ISR). The high watermark waits for them too until the image
	// reaches maximalAt, whatever became of the request.
	maximal   []int32
	maximalAt int32
}

// SetState applies the image's view of the partition. It is called for
// every image that may have changed it; a new leader epoch resets the
// follower tracking. It reports whether this replica leads.
func (p *Partition) SetState(self int32, st LeaderState, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &p.rep
	r.self = self
	newEpoch := st.LeaderEpoch != r.state.LeaderEpoch || st.Leader != r.state.Leader || r.followers == nil
	r.state = LeaderState{
		Leader: st.Leader, LeaderEpoch: st.LeaderEpoch, PartitionEpoch: st.PartitionEpoch,
		Replicas: slices.Clone(st.Replicas), ISR: slices.Clone(st.ISR), ELR: slices.Clone(st.ELR),
		Incarnations: st.Incarnations,
	}
	if r.isrPending != 0 && st.PartitionEpoch >= r.isrPending {
		r.isrPending = 0
	}
	if r.maximalAt != 0 && st.PartitionEpoch >= r.maximalAt {
		r.maximal, r.maximalAt = nil, 0
	}
	wasLeader := r.leader
	r.leader = st.Leader == self
	p.leaderEpoch.Store(max(st.LeaderEpoch, 0))
	p.isrSize.Store(max(int32(len(st.ISR)), 1))
	g := uint64(len(st.Replicas))&0xffff | uint64(len(st.ISR))&0xffff<<16
	if r.leader {
		g |= 1 << 32
	}
	p.glance.Store(g)
	if newEpoch || r.leader != wasLeader {
		r.followers = make(map[int32]*followerState)
		if r.leader {
			r.epochStart = p.log.LogEndOffset()
			r.isrPending = 0
			// Kafka's maybeAssignEpochStartOffset: followers asking
			// OffsetForLeaderEpoch about an epoch newer than this log's
			// last batch learn where this epoch starts.
			if err := p.log.AssignEpoch(st.LeaderEpoch, r.epochStart); p.IOFailed("assign leader epoch", err) != nil {
				p.lg.Warn("recording the leader epoch start failed", "epoch", st.LeaderEpoch, "err", err)
			}
		}
	}
	if r.leader {
		for _, id := range st.Replicas {
			if id == self {
				continue
			}
			inc := st.Incarnations[id]
			if f, ok := r.followers[id]; !ok || f.inc != inc {
				// A new follower, or a new process of one, gets a full
				// lag window before it can be dropped from the ISR, and
				// counts only from its own fetches.
				r.followers[id] = &followerState{inc: inc, leo: -1, lastCaughtUp: now, lastFetchLEO: -1}
			}
		}
		for id := range r.followers {
			if !slices.Contains(st.Replicas, id) {
				delete(r.followers, id)
			}
		}
		p.advanceHWLocked()
	}
	p.notify()
}

// IsLeader reports whether this replica leads the partition.
func (p *Partition) IsLeader() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rep.leader
}

// State returns the image's view last applied with SetState.
func (p *Partition) State() LeaderState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rep.state
}

// ReplicaStats is a partition's replication at a glance, read without
// the partition's lock (for metrics, at scrape time).
type ReplicaStats struct {
	Leader        bool
	Replicas, ISR int
	// MinISR is min.insync.replicas capped at the replication factor.
	MinISR int
}

// ReplicaStats reads the image's view last applied with SetState.
func (p *Partition) ReplicaStats() ReplicaStats {
	g := p.glance.Load()
	rs := ReplicaStats{Leader: g>>32&1 == 1, Replicas: int(g & 0xffff), ISR: int(g >> 16 & 0xffff)}
	rs.MinISR = max(1, min(int(p.cfg.Load().MinInsyncReplicas), rs.Replicas))
	return rs
}

// minISR is min.insync.replicas capped at the replication factor.
func (p *Partition) minISR() int {
	m := int(p.cfg.Load().MinInsyncReplicas)
	return max(1, min(m, len(p.rep.state.Replicas)))
}

// advanceHWLocked moves the high watermark to the smallest log end offset
// over the ISR, never backwards, and only while the ISR has at least
// min.insync.replicas members. Call with p.mu held, as leader.
func (p *Partition) advanceHWLocked() {
	r := &p.rep
	if !r.leader {
		return
	}
	leo := p.log.LogEndOffset()
	hw := leo
	inISR := 0
	isr := r.state.ISR
	for _, id := range r.maximal {
		if !slices.Contains(isr, id) {
			isr = append(slices.Clone(isr), id)
		}
	}
	for _, id := range isr {
		committed := slices.Contains(r.state.ISR, id) // min.insync.replicas counts the image's ISR
		if id == r.self {
			inISR++
			continue
		}
		f, ok := r.followers[id]
		if !ok || f.leo < 0 {
			return // not heard from under this epoch yet
		}
		if committed {
			inISR++
		}
		hw = min(hw, f.leo)
	}
	if !slices.Contains(r.state.ISR, r.self) || inISR < p.minISR() && len(r.state.Replicas) > 1 {
		return
	}
	if hw > p.hw.Load() {
		p.hw.Store(hw)
		p.publishLSO()
		p.notify()
	}
}

// FollowerFetch records a follower's fetch at offset fetchOffset (its log
// end offset) under leader epoch epoch (-1: unchecked). It returns the high
// watermark to send back.
func (p *Partition) FollowerFetch(id int32, epoch int32, fetchOffset int64, now time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &p.rep
	switch {
	case epoch > r.state.LeaderEpoch:
		// The follower learned of a newer epoch first (maybe one that
		// makes this broker leader): retriable, as in Kafka.
		return -1, ErrUnknownEpoch
	case !r.leader:
		return -1, ErrNotLeader
	case epoch >= 0 && epoch < r.state.LeaderEpoch:
		return -1, ErrFencedEpoch
	}
	f, ok := r.followers[id]
	if !ok {
		return -1, ErrNotReplica
	}
	leo := p.log.LogEndOffset()
	if fetchOffset > leo {
		return -1, log.ErrOffsetOutOfRange
	}
	if fetchOffset >= leo {
		f.lastCaughtUp = now
	} else if f.lastFetchLEO >= 0 && fetchOffset >= f.lastFetchLEO {
		f.lastCaughtUp = f.lastFetch
	}
	f.leo, f.lastFetch, f.lastFetchLEO = fetchOffset, now, leo
	p.advanceHWLocked()
	return p.hw.Load(), nil
}

// ISRChange is a change of the ISR (and ELR) the leader asks the
// controller for, conditional on PartitionEpoch.
type ISRChange struct {
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR, ELR       []int32
}

// DesiredISR returns the ISR change this leader should ask for at now, or
// false: followers that have not been caught up for lagMax leave the ISR,
// and followers that reached the high watermark (and the start of this
// epoch) join it. Replicas leaving an ISR that falls below
// min.insync.replicas join the ELR (KIP-966); members of the new ISR leave
// it. Once a change is returned no other is until the image applies one
// (or Retry).
//
// eligible (nil: everyone) says which replicas may join: the broker's view
// of liveness, so a fenced or shutting-down broker whose last fetch looked
// caught up is never added (KIP-841).
func (p *Partition) DesiredISR(now time.Time, lagMax time.Duration, eligible func(id int32) bool) (ISRChange, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &p.rep
	if !r.leader || r.isrPending != 0 {
		return ISRChange{}, false
	}
	hw := p.hw.Load()
	var isr, removed []int32
	changed := false
	for _, id := range r.state.Replicas {
		in := slices.Contains(r.state.ISR, id)
		if id == r.self {
			if in {
				isr = append(isr, id)
			}
			continue
		}
		f := r.followers[id]
		switch {
		case in && f != nil && now.Sub(f.lastCaughtUp) > lagMax:
			removed = append(removed, id)
			changed = true
		case in:
			isr = append(isr, id)
		case f != nil && f.leo >= 0 && f.leo >= hw && f.leo >= r.epochStart && now.Sub(f.lastCaughtUp) <= lagMax && (eligible == nil || eligible(id)):
			isr = append(isr, id)
			changed = true
		}
	}
	if !changed {
		return ISRChange{}, false
	}
	var elr []int32
	if len(isr) < p.minISR() {
		for _, id := range slices.Concat(r.state.ELR, removed) {
			if !slices.Contains(isr, id) && !slices.Contains(elr, id) {
				elr = append(elr, id)
			}
		}
	}
	if elr == nil {
		elr = []int32{}
	}
	r.isrPending = r.state.PartitionEpoch + 1
	for _, id := range isr {
		if !slices.Contains(r.maximal, id) {
			r.maximal = append(r.maximal, id)
		}
	}
	r.maximalAt = r.state.PartitionEpoch + 1
	return ISRChange{LeaderEpoch: r.state.LeaderEpoch, PartitionEpoch: r.state.PartitionEpoch, ISR: isr, ELR: elr}, true
}

// RetryISR allows DesiredISR to ask again (the last request failed).
func (p *Partition) RetryISR() {
	p.mu.Lock()
	p.rep.isrPending = 0
	p.mu.Unlock()
}

// WaitCommitted blocks until the high watermark passes offset (acks=all),
// leadership moves away (ErrNotLeader), the ISR falls below
// min.insync.replicas (ErrNotEnoughISRAfterAppend) or ctx ends.
func (p *Partition) WaitCommitted(ctx context.Context, offset int64, epoch int32) error {
	for {
		ch := p.Changed()
		p.mu.Lock()
		r := &p.rep
		closed := p.closed
		leader := r.leader && r.state.LeaderEpoch == epoch
		hw := p.hw.Load()
		short := len(r.state.ISR) < p.minISR()
		p.mu.Unlock()
		switch {
		case hw > offset:
			return nil
		case closed || !leader:
			return ErrNotLeader
		case short:
			return ErrNotEnoughISRAfterAppend
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// EpochStart is the log end offset at which the current leader epoch
// began on this leader.
func (p *Partition) EpochStart() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rep.epochStart
}

// AppendReplica appends batches fetched from the leader (offsets and
// epochs assigned by it) and takes the leader's high watermark, capped at
// the local log end. Producer state and the aborted-transaction index
// follow the batches, so that this replica can lead next.
func (p *Partition) AppendReplica(batches []byte, leaderHW int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if err := p.Offline(); err != nil {
		return err
	}
	if p.rep.leader {
		return fmt.Errorf("%w: leader got replica data", ErrNotLeader)
	}
	if len(batches) > 0 {
		if _, err := p.log.AppendFollower(batches); err != nil {
			return p.IOFailed("append replica", err)
		}
		p.samples.sampleBatches(batches)
		for b := batches; len(b) > 0; {
			h, err := batch.ParseHeader(b)
			if err != nil || h.Size() > int64(len(b)) {
				break
			}
			one := b[:h.Size()]
			b = b[h.Size():]
			lsoBefore := p.hw.Load()
			if f := p.producers.firstOpenTxn(); f >= 0 && f < lsoBefore {
				lsoBefore = f
			}
			first := p.producers.update(&h)
			if first >= 0 && h.IsControl() {
				if commit, cerr := batch.ControlType(one); cerr == nil && !commit {
					if err := p.log.AppendAbortedTxn(log.AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: lsoBefore}); err != nil {
						return p.IOFailed("append replica", err)
					}
				}
			}
		}
	}
	p.setFollowerHWLocked(leaderHW)
	p.notify()
	return nil
}

// SetFollowerHW takes the leader's high watermark, capped at the local log
// end.
func (p *Partition) SetFollowerHW(leaderHW int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.rep.leader && p.setFollowerHWLocked(leaderHW) {
		p.notify()
	}
}

func (p *Partition) setFollowerHWLocked(leaderHW int64) bool {
	hw := min(leaderHW, p.log.LogEndOffset())
	if hw < 0 || hw == p.hw.Load() {
		return false
	}
	p.hw.Store(hw)
	p.publishLSO()
	return true
}

// TruncateTo drops the records at and after off (a follower whose log
// diverged from its leader's) and rebuilds the producer state.
func (p *Partition) TruncateTo(off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if err := p.Offline(); err != nil {
		return err
	}
	if off >= p.log.LogEndOffset() {
		return p.IOFailed("truncate", p.log.Truncate(off)) // drops an epoch entry without records at the end
	}
	p.lg.Info("truncating log to the leader's", "offset", off, "log_end", p.log.LogEndOffset())
	if err := p.log.Truncate(off); err != nil {
		return p.IOFailed("truncate", err)
	}
	p.samples.truncate(off)
	if p.hw.Load() > p.log.LogEndOffset() {
		p.hw.Store(p.log.LogEndOffset())
	}
	p.producers.truncate(p.log.LogEndOffset())
	p.publishLSO()
	p.notify()
	return nil
}

// ResetTo empties the log and restarts it at off (the leader no longer
// has the records this follower would fetch next).
func (p *Partition) ResetTo(off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if err := p.Offline(); err != nil {
		return err
	}
	p.lg.Info("restarting the log at the leader's start offset", "offset", off)
	if err := p.log.ResetStart(off); err != nil {
		return p.IOFailed("reset", err)
	}
	p.producers = newProducerState()
	p.samples.truncate(0)
	p.hw.Store(off)
	p.publishLSO()
	p.notify()
	return nil
}
