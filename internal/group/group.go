package group

import (
	"time"
)

// Type is a group's protocol family. Classic groups use JoinGroup and
// SyncGroup; "consumer" groups (KIP-848) use ConsumerGroupHeartbeat and may
// also hold classic members.
type Type int8

// Group types.
const (
	TypeClassic Type = iota + 1
	TypeConsumer
)

// String is the name ListGroups v5 reports.
func (t Type) String() string {
	switch t {
	case TypeClassic:
		return "classic"
	case TypeConsumer:
		return "consumer"
	}
	return "unknown"
}

// topicPartition names a committed partition.
type topicPartition struct {
	topic     string
	partition int32
}

// committed is one committed offset.
type committed struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitTime  int64 // unix ms
	// recordOffset is the log offset of the record that committed it: a
	// transaction's offsets replace only older commits when it commits.
	recordOffset int64
}

// group is one group of a shard. State shared by every group type lives
// here; each type keeps the rest in its own field.
type group struct {
	id      string
	s       *shard
	typ     Type
	offsets map[topicPartition]committed

	classic  *classicGroup  // TypeClassic
	consumer *consumerGroup // TypeConsumer (consumer_*.go)
}

func newGroup(s *shard, id string, typ Type) *group {
	g := &group{id: id, s: s, typ: typ, offsets: make(map[topicPartition]committed)}
	if typ == TypeClassic {
		g.classic = newClassicGroup(s.now())
		g.classic.g = g
	}
	if typ == TypeConsumer {
		g.consumer = newConsumerGroup(id, s.now())
	}
	return g
}

// stateName is the state DescribeGroups and ListGroups report.
func (g *group) stateName() string {
	if g.classic != nil {
		return g.classic.state.String()
	}
	if g.consumer != nil {
		return g.consumer.state()
	}
	return "Dead"
}

// protocolType is the group's protocol type ("consumer", "connect", or ""
// for a group that only ever committed offsets).
func (g *group) protocolType() string {
	if g.classic != nil {
		return g.classic.protocolType
	}
	return "consumer"
}

// empty reports whether the group has no members.
func (g *group) empty() bool {
	if g.classic != nil {
		return g.classic.state == stateEmpty || g.classic.state == stateDead
	}
	if g.consumer != nil {
		return len(g.consumer.members) == 0
	}
	return true
}

// emptySince is when the group last changed state, the base of offset
// expiry for an empty group.
func (g *group) stateTime() time.Time {
	if g.classic != nil {
		return g.classic.stateTime
	}
	if g.consumer != nil {
		return g.consumer.stateTime
	}
	return time.Time{}
}

// subscribedTopics is the set of topics live members subscribe to, and
// false when it cannot be known (not a consumer group, or metadata that does
// not parse); nil for a group without members.
func (g *group) subscribedTopics() (map[string]bool, bool) {
	if g.classic != nil {
		return g.classic.subscribedTopics()
	}
	if g.consumer != nil {
		return g.consumer.subscribedTopics(), true
	}
	return nil, false
}

// shutdown releases parked requests and stops timers; the shard is going.
func (g *group) shutdown() {
	if g.classic != nil {
		g.classic.shutdown()
	}
	if g.consumer != nil {
		g.consumer.timer.cancel()
	}
}

// removeGroup forgets g; its records are already tombstoned.
func (s *shard) removeGroup(g *group) {
	g.shutdown()
	if g.classic != nil {
		g.classic.setState(stateDead, s.now())
	}
	delete(s.groups, g.id)
}
