package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// MemberState is a consumer group member's reconciliation state, with
// Kafka's MemberState values (persisted in ConsumerGroupCurrentMemberAssignment).
type MemberState int8

// Member states.
const (
	// MemberStable: the member has its whole target assignment at the
	// target epoch, or waits for nothing.
	MemberStable MemberState = 0
	// MemberUnrevokedPartitions: the member must first give up partitions
	// (PartitionsPendingRevocation) and stays at its epoch until it does.
	MemberUnrevokedPartitions MemberState = 1
	// MemberUnreleasedPartitions: the member is at the target epoch but
	// some of its target partitions are still owned by other members.
	MemberUnreleasedPartitions MemberState = 2
	// MemberUnknown: a state this version does not know; the member is
	// fenced and must rejoin.
	MemberUnknown MemberState = 127
)

func memberStateOf(v int8) MemberState {
	switch s := MemberState(v); s {
	case MemberStable, MemberUnrevokedPartitions, MemberUnreleasedPartitions:
		return s
	}
	return MemberUnknown
}

// String is Kafka's name for the state.
func (s MemberState) String() string {
	switch s {
	case MemberStable:
		return "stable"
	case MemberUnrevokedPartitions:
		return "unrevoked_partitions"
	case MemberUnreleasedPartitions:
		return "unreleased_partitions"
	}
	return "unknown"
}

// Special member epochs of ConsumerGroupHeartbeat.
const (
	epochJoin        = 0
	epochLeave       = -1
	epochStaticLeave = -2
)

// consumerMember is one member of a consumer group: its subscription
// (ConsumerGroupMemberMetadata) and its current assignment
// (ConsumerGroupCurrentMemberAssignment).
type consumerMember struct {
	id                 string
	instanceID         string // "" for dynamic members
	rackID             string
	clientID           string
	clientHost         string
	topics             []string // sorted subscribed topic names
	regex              string   // subscribed topic regex, "" for none
	rebalanceTimeoutMs int32
	assignor           string // "" when the member names none
	classic            *ClassicMemberMetadata

	epoch     int32
	prevEpoch int32
	state     MemberState
	assigned  Assignment
	pending   Assignment // partitions pending revocation
}

func (m *consumerMember) clone() *consumerMember {
	c := *m
	c.topics = slices.Clone(m.topics)
	c.assigned = m.assigned.Clone()
	c.pending = m.pending.Clone()
	return &c
}

// sameSubscriptionRecord reports whether m and o persist the same
// ConsumerGroupMemberMetadata.
func (m *consumerMember) sameSubscriptionRecord(o *consumerMember) bool {
	return m.instanceID == o.instanceID && m.rackID == o.rackID && m.clientID == o.clientID &&
		m.clientHost == o.clientHost && slices.Equal(m.topics, o.topics) && m.regex == o.regex &&
		m.rebalanceTimeoutMs == o.rebalanceTimeoutMs && m.assignor == o.assignor &&
		m.classic.equal(o.classic)
}

// equal compares two classic metadata, nil included.
func (c *ClassicMemberMetadata) equal(o *ClassicMemberMetadata) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.SessionTimeoutMs == o.SessionTimeoutMs && slices.EqualFunc(c.SupportedProtocols, o.SupportedProtocols,
		func(a, b ClassicProtocol) bool { return a.Name == b.Name && string(a.Metadata) == string(b.Metadata) })
}

// sessionTimeout is the member's session: a classic member's own, else
// group.consumer.session.timeout.ms.
func (m *consumerMember) sessionTimeout(s *ConsumerSettings) time.Duration {
	if m.classic != nil && m.classic.SessionTimeoutMs > 0 {
		return time.Duration(m.classic.SessionTimeoutMs) * time.Millisecond
	}
	return s.SessionTimeout
}

// sameAssignmentRecord reports whether m and o persist the same
// ConsumerGroupCurrentMemberAssignment.
func (m *consumerMember) sameAssignmentRecord(o *consumerMember) bool {
	return m.epoch == o.epoch && m.prevEpoch == o.prevEpoch && m.state == o.state &&
		m.assigned.Equal(o.assigned) && m.pending.Equal(o.pending)
}

// reconciledTo reports whether m has reached the target epoch and waits
// for nothing.
func (m *consumerMember) reconciledTo(epoch int32) bool {
	return m.state == MemberStable && m.epoch == epoch
}

// ownedPartitions converts the TopicPartitions of a heartbeat; nil when the
// request did not carry them.
func ownedPartitions(ts []kmsg.ConsumerGroupHeartbeatRequestTopic) Assignment {
	if ts == nil {
		return nil
	}
	out := Assignment{}
	for _, t := range ts {
		for _, p := range t.Partitions {
			out.add(t.TopicID, p)
		}
	}
	return out
}

// reconcileInput is what the reconciliation of one member depends on.
type reconcileInput struct {
	targetEpoch int32
	target      Assignment
	// owner returns the member currently owning a partition (assigned to
	// it or pending its revocation), "" if none.
	owner func(topic [16]byte, p int32) string
	// owned is what the member reported owning; nil if it did not say.
	owned Assignment
	// subscriptionChanged: the member changed its subscription in this
	// heartbeat, so partitions of topics it left are revoked at once.
	subscriptionChanged bool
	// subscribed are the ids of the topics the member subscribes to now.
	subscribed map[[16]byte]bool
}

// reconcile is Kafka's CurrentAssignmentBuilder: it moves a member one step
// towards its target assignment. It returns m itself when nothing changes,
// else a new member. ok is false when the member must be fenced (unknown
// state and still owning partitions).
func reconcile(m *consumerMember, in reconcileInput) (next *consumerMember, ok bool) {
	switch m.state {
	case MemberStable:
		if m.epoch != in.targetEpoch {
			return computeNextAssignment(m, m.epoch, in), true
		}
		if in.subscriptionChanged {
			return revokeUnsubscribed(m, in), true
		}
		return m, true
	case MemberUnrevokedPartitions:
		if ownsAny(in.owned, m.pending) {
			if in.subscriptionChanged {
				return revokeUnsubscribed(m, in), true
			}
			return m, true
		}
		return computeNextAssignment(m, m.epoch+1, in), true
	case MemberUnreleasedPartitions:
		return computeNextAssignment(m, m.epoch, in), true
	default:
		if in.owned == nil || in.owned.Count() > 0 {
			return m, false
		}
		return computeNextAssignment(m, in.targetEpoch, in), true
	}
}

// ownsAny reports whether the member still owns any of pending; a member
// that did not report its partitions is assumed to own them all.
func ownsAny(owned, pending Assignment) bool {
	if owned == nil {
		return true
	}
	for t, ps := range owned {
		for _, p := range ps {
			if pending.Has(t, p) {
				return true
			}
		}
	}
	return false
}

// computeNextAssignment is CurrentAssignmentBuilder.computeNextAssignment:
// keep assigned ∩ target, revoke assigned − target (staying at epoch until
// the member confirms), and otherwise move to the target epoch with every
// target partition that no other member still owns.
func computeNextAssignment(m *consumerMember, epoch int32, in reconcileInput) *consumerMember {
	keep := assignIntersect(m.assigned, in.target)
	revoke := assignMinus(m.assigned, keep)
	add := Assignment{}
	unreleased := false
	for t, ps := range in.target {
		for _, p := range ps {
			if keep.Has(t, p) {
				continue
			}
			if o := in.owner(t, p); o != "" && o != m.id {
				unreleased = true
				continue
			}
			add[t] = append(add[t], p)
		}
	}
	n := m.clone()
	if revoke.Count() > 0 && ownsAny(in.owned, revoke) {
		n.state = MemberUnrevokedPartitions
		n.setEpoch(epoch)
		n.assigned = keep
		n.pending = revoke
		return n
	}
	n.state = MemberStable
	if unreleased {
		n.state = MemberUnreleasedPartitions
	}
	n.setEpoch(in.targetEpoch)
	n.assigned = assignUnion(keep, add)
	n.pending = Assignment{}
	return n
}

// revokeUnsubscribed is CurrentAssignmentBuilder.updateCurrentAssignment:
// after a subscription change, partitions of topics the member no longer
// subscribes to are revoked at once, without waiting for a new target.
func revokeUnsubscribed(m *consumerMember, in reconcileInput) *consumerMember {
	assigned := Assignment{}
	pending := m.pending.Clone()
	if pending == nil {
		pending = Assignment{}
	}
	removed := false
	for t, ps := range m.assigned {
		if in.subscribed[t] {
			assigned[t] = ps
			continue
		}
		removed = true
		for _, p := range ps {
			pending.add(t, p)
		}
	}
	if !removed {
		return m
	}
	n := m.clone()
	n.assigned = assigned
	if pending.Count() > 0 && ownsAny(in.owned, pending) {
		n.state = MemberUnrevokedPartitions
		n.pending = pending
	} else {
		n.state = MemberStable
		n.pending = Assignment{}
	}
	return n
}

// setEpoch moves the member to epoch, remembering the one it leaves so that
// a member whose response was lost may still heartbeat with it.
func (m *consumerMember) setEpoch(epoch int32) {
	if epoch != m.epoch {
		m.prevEpoch = m.epoch
		m.epoch = epoch
	}
}
