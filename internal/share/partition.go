package share

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// State is a record's delivery state, numbered as Kafka's RecordState (the
// values __share_group_state stores).
type State int8

// The record states of KIP-932.
const (
	Available    State = 0
	Acquired     State = 1
	Acknowledged State = 2
	Archived     State = 4
)

func (s State) String() string {
	switch s {
	case Available:
		return "AVAILABLE"
	case Acquired:
		return "ACQUIRED"
	case Acknowledged:
		return "ACKNOWLEDGED"
	case Archived:
		return "ARCHIVED"
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// AckType is an acknowledgement type as ShareFetch and ShareAcknowledge
// carry it.
type AckType int8

// The acknowledgement types: GAP marks offsets holding no record, RENEW
// (ShareFetch/ShareAcknowledge v2, KIP-1222) extends an acquisition lock.
const (
	AckGap     AckType = 0
	AckAccept  AckType = 1
	AckRelease AckType = 2
	AckReject  AckType = 3
	AckRenew   AckType = 4
)

// PartitionConfig is a share partition's limits, under Kafka's names.
type PartitionConfig struct {
	// LockDuration is group.share.record.lock.duration.ms.
	LockDuration time.Duration
	// DeliveryCountLimit is group.share.delivery.count.limit: a record
	// released or timed out after this many deliveries is archived.
	DeliveryCountLimit int16
	// MaxRecordLocks is group.share.partition.max.record.locks: the most
	// records between SPSO and SPEO (in flight).
	MaxRecordLocks int
}

// Defaults returns Kafka 4.4's defaults.
func (PartitionConfig) Defaults() PartitionConfig {
	return PartitionConfig{LockDuration: 30 * time.Second, DeliveryCountLimit: 5, MaxRecordLocks: 2000}
}

// Validate checks the limits.
func (c PartitionConfig) Validate() error {
	if c.LockDuration <= 0 || c.DeliveryCountLimit < 1 || c.MaxRecordLocks < 1 {
		return errors.New("share: lock duration, delivery count limit and max record locks must be positive")
	}
	return nil
}

// record is one in-flight offset.
type record struct {
	state      State
	deliveries int16
	member     string
	deadline   time.Time // lock expiry while Acquired
}

// Partition is one share partition (a share group's view of one
// topic-partition): the records in [start, end) with their states. Records
// below start are acknowledged or archived; records at or above end were
// never acquired. Not safe for concurrent use.
type Partition struct {
	cfg   PartitionConfig
	start int64    // SPSO
	recs  []record // recs[i] is offset start+i; end is start+len(recs)
}

// NewPartition returns a share partition starting at start (SPSO = SPEO).
func NewPartition(cfg PartitionConfig, start int64) *Partition {
	return &Partition{cfg: cfg, start: start}
}

// Start is the share-partition start offset (SPSO).
func (p *Partition) Start() int64 { return p.start }

// End is the share-partition end offset (SPEO): the first offset never
// acquired.
func (p *Partition) End() int64 { return p.start + int64(len(p.recs)) }

// Record is an in-flight offset's state, for tests and descriptions.
func (p *Partition) Record(off int64) (st State, deliveries int16, member string, ok bool) {
	if off < p.start || off >= p.End() {
		return 0, 0, "", false
	}
	r := &p.recs[off-p.start]
	return r.state, r.deliveries, r.member, true
}

// Batch is an offset range read from the log, handed to Acquire. Skip marks
// a control batch: its offsets are archived, never delivered.
type Batch struct {
	First, Last int64
	Skip        bool
}

// AcquiredRange is a range of records acquired in one call, as ShareFetch's
// AcquiredRecords reports them.
type AcquiredRange struct {
	First, Last int64
	Deliveries  int16
}

// Expire releases the records whose acquisition lock has passed, then
// advances SPSO.
func (p *Partition) Expire(now time.Time) {
	for i := range p.recs {
		r := &p.recs[i]
		if r.state == Acquired && !now.Before(r.deadline) {
			p.release(r)
		}
	}
	p.advance()
}

// NextDeadline is the earliest acquisition-lock expiry, if any record is
// acquired.
func (p *Partition) NextDeadline() (time.Time, bool) {
	var d time.Time
	found := false
	for i := range p.recs {
		r := &p.recs[i]
		if r.state == Acquired && (!found || r.deadline.Before(d)) {
			d, found = r.deadline, true
		}
	}
	return d, found
}

// FetchOffset is where the log should be read for the next acquisition: the
// first AVAILABLE in-flight offset, else SPEO. ok is false when nothing can
// be acquired (no record available and the in-flight window full).
func (p *Partition) FetchOffset(now time.Time) (int64, bool) {
	p.Expire(now)
	for i := range p.recs {
		if p.recs[i].state == Available {
			return p.start + int64(i), true
		}
	}
	if len(p.recs) >= p.cfg.MaxRecordLocks {
		return 0, false
	}
	return p.End(), true
}

// MoveStart moves SPSO to at least off (the log start offset moved past
// it, or an offset reset): records below it leave the window.
func (p *Partition) MoveStart(off int64) {
	if off <= p.start {
		return
	}
	if n := off - p.start; n >= int64(len(p.recs)) {
		p.recs = p.recs[:0]
	} else {
		p.recs = append(p.recs[:0], p.recs[n:]...)
	}
	p.start = off
}

// Acquire acquires for member, from batches read from the log in order, the
// AVAILABLE records and the new ones past SPEO, at most maxRecords of them,
// with a lock until now+LockDuration. Offsets past SPEO that no batch holds
// (compacted away) are archived; so are control batches.
func (p *Partition) Acquire(member string, batches []Batch, maxRecords int, now time.Time) []AcquiredRange {
	p.Expire(now)
	var out []AcquiredRange
	n := 0
	deadline := now.Add(p.cfg.LockDuration)
	add := func(off int64, deliveries int16) {
		n++
		if k := len(out) - 1; k >= 0 && out[k].Last == off-1 && out[k].Deliveries == deliveries {
			out[k].Last = off
			return
		}
		out = append(out, AcquiredRange{First: off, Last: off, Deliveries: deliveries})
	}
	for _, b := range batches {
		for off := max(b.First, p.start); off <= b.Last && n < maxRecords; off++ {
			if off < p.End() {
				r := &p.recs[off-p.start]
				if r.state != Available || b.Skip {
					continue
				}
				r.state, r.member, r.deadline = Acquired, member, deadline
				r.deliveries++
				add(off, r.deliveries)
				continue
			}
			if off-p.start >= int64(p.cfg.MaxRecordLocks) {
				return p.done(out)
			}
			for p.End() < off { // offsets no batch holds
				p.recs = append(p.recs, record{state: Archived})
			}
			if b.Skip {
				p.recs = append(p.recs, record{state: Archived})
				continue
			}
			p.recs = append(p.recs, record{state: Acquired, deliveries: 1, member: member, deadline: deadline})
			add(off, 1)
		}
	}
	return p.done(out)
}

func (p *Partition) done(out []AcquiredRange) []AcquiredRange {
	p.advance()
	return out
}

// AckBatch is one acknowledgement batch: offsets First..Last with one type
// for all, or one type per offset.
type AckBatch struct {
	First, Last int64
	Types       []AckType
}

// Errors of Acknowledge, as Kafka answers them.
var (
	errBadBatch     = fmt.Errorf("share: malformed acknowledgement batch: %w", kerr.InvalidRequest)
	errNotAcquired  = fmt.Errorf("share: records not acquired: %w", kerr.InvalidRecordState)
	errOtherMember  = fmt.Errorf("share: records acquired by another member: %w", kerr.InvalidRecordState)
	errRenewRefused = fmt.Errorf("share: RENEW without IsRenewAck: %w", kerr.InvalidRequest)
)

// CheckAckBatches validates batches as Kafka does before they reach a
// partition: ascending, non-overlapping, first <= last, one type or one
// per offset, known types (RENEW only when renew is set).
func CheckAckBatches(batches []AckBatch, renew bool) error {
	prev := int64(-1)
	for i, b := range batches {
		if b.First < 0 || b.First > b.Last || (i > 0 && b.First <= prev) {
			return errBadBatch
		}
		prev = b.Last
		if n := len(b.Types); n != 1 && (n == 0 || b.Last-b.First+1 != int64(n)) {
			return errBadBatch
		}
		for _, t := range b.Types {
			if t < AckGap || t > AckRenew {
				return errBadBatch
			}
			if t == AckRenew && !renew {
				return errRenewRefused
			}
		}
	}
	return nil
}

// Acknowledge applies member's acknowledgements: all or none. Every offset
// must be in flight and ACQUIRED by member, else INVALID_RECORD_STATE;
// malformed batches are INVALID_REQUEST (see CheckAckBatches).
func (p *Partition) Acknowledge(member string, batches []AckBatch, renew bool, now time.Time) error {
	if err := CheckAckBatches(batches, renew); err != nil {
		return err
	}
	p.Expire(now)
	for _, b := range batches {
		if b.First < p.start || b.Last >= p.End() {
			return errNotAcquired
		}
		for off := b.First; off <= b.Last; off++ {
			r := &p.recs[off-p.start]
			if r.state != Acquired {
				return errNotAcquired
			}
			if r.member != member {
				return errOtherMember
			}
		}
	}
	deadline := now.Add(p.cfg.LockDuration)
	for _, b := range batches {
		for off := b.First; off <= b.Last; off++ {
			t := b.Types[0]
			if len(b.Types) > 1 {
				t = b.Types[off-b.First]
			}
			p.apply(&p.recs[off-p.start], t, deadline)
		}
	}
	p.advance()
	return nil
}

func (p *Partition) apply(r *record, t AckType, deadline time.Time) {
	switch t {
	case AckAccept:
		r.state, r.member = Acknowledged, ""
	case AckRelease:
		p.release(r)
	case AckReject, AckGap:
		r.state, r.member = Archived, ""
	case AckRenew:
		r.deadline = deadline
	}
}

// ReleaseMember releases every record member holds (it left the group or
// closed its share session).
func (p *Partition) ReleaseMember(member string) {
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && r.member == member {
			p.release(r)
		}
	}
	p.advance()
}

// release makes an acquired record available again, or archives it once
// it has been delivered DeliveryCountLimit times.
func (p *Partition) release(r *record) {
	r.member, r.deadline = "", time.Time{}
	if r.deliveries >= p.cfg.DeliveryCountLimit {
		r.state = Archived
		return
	}
	r.state = Available
}

// advance moves SPSO past the acknowledged and archived records at the
// front of the window.
func (p *Partition) advance() {
	n := 0
	for n < len(p.recs) && (p.recs[n].state == Acknowledged || p.recs[n].state == Archived) {
		n++
	}
	if n == 0 {
		return
	}
	p.recs = append(p.recs[:0], p.recs[n:]...)
	p.start += int64(n)
}

// InFlight counts the in-flight records per state.
func (p *Partition) InFlight() map[State]int {
	m := map[State]int{}
	for i := range p.recs {
		m[p.recs[i].state]++
	}
	return m
}
