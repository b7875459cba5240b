package group

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Key versions of __consumer_offsets records (the key's first int16).
const (
	keyOffsetCommitV0  = 0
	keyOffsetCommitV1  = 1
	keyGroupMetadataV2 = 2
	// 3 and up are the records of Kafka's KIP-848 coordinator; they belong
	// to the "consumer" group type and are skipped until it exists.
)

// Versions Samsa writes, as Kafka 4 does.
const (
	offsetCommitKeyVersion    = 1
	offsetCommitValueVersion  = 3
	groupMetadataKeyVersion   = 2
	groupMetadataValueVersion = 3
)

func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetCommitKeyVersion, Group: group, Topic: tp.topic, Partition: tp.partition}
	return k.AppendTo(nil)
}

func offsetRecord(group string, tp topicPartition, c committed) Record {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetCommitValueVersion
	v.Offset = c.offset
	v.LeaderEpoch = c.leaderEpoch
	v.Metadata = c.metadata
	v.CommitTimestamp = c.commitTime
	return Record{Key: offsetKey(group, tp), Value: v.AppendTo(nil)}
}

func offsetTombstone(group string, tp topicPartition) Record {
	return Record{Key: offsetKey(group, tp)}
}

func groupKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupMetadataKeyVersion, Group: group}
	return k.AppendTo(nil)
}

func groupTombstone(group string) Record { return Record{Key: groupKey(group)} }

// loadState accumulates a replay: the last value of every key wins.
type loadState struct {
	offsets map[string]map[topicPartition]committed
	meta    map[string]*kmsg.GroupMetadataValue
	// consumer are the KIP-848 groups (consumer_coordinator.go).
	consumer map[string]*consumerGroup
	// pending are transactional offsets whose transaction has no marker
	// yet (txn_offsets.go).
	pending map[int64]*pendingTxn
	records int
	skipped int
	skips   []loadSkip // the first maxReportedSkips of them
}

// loadSkip is one record a load skipped: its offset and why.
type loadSkip struct {
	offset int64
	reason string
}

// maxReportedSkips bounds the skips one load logs one by one; the rest
// are only counted.
const maxReportedSkips = 10

// skip counts a record the load cannot use and remembers why.
func (st *loadState) skip(offset int64, reason string) {
	st.skipped++
	if len(st.skips) < maxReportedSkips {
		st.skips = append(st.skips, loadSkip{offset, reason})
	}
}

func newLoadState() *loadState {
	return &loadState{
		offsets: make(map[string]map[topicPartition]committed),
		meta:    make(map[string]*kmsg.GroupMetadataValue),
		pending: make(map[int64]*pendingTxn),
	}
}

// apply takes one record. Records it cannot decode are skipped (and
// counted), as Kafka skips unknown record types: one bad record must not
// make the whole partition unloadable. Records of transactional batches
// stay pending until their producer's marker commits or aborts them.
func (st *loadState) apply(r Replayed) error {
	if r.Marker {
		st.applyMarker(r.ProducerID, r.Commit)
		return nil
	}
	key, value := r.Key, r.Value
	st.records++
	if len(key) < 2 {
		st.skip(r.Offset, "key shorter than its version")
		return nil
	}
	switch binary.BigEndian.Uint16(key) {
	case keyOffsetCommitV0, keyOffsetCommitV1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(key); err != nil {
			st.skip(r.Offset, "offset commit key: "+err.Error())
			return nil
		}
		tp := topicPartition{k.Topic, k.Partition}
		if value == nil {
			if m := st.offsets[k.Group]; m != nil {
				delete(m, tp)
			}
			dropPendingOffset(st.pending, k.Group, tp)
			return nil
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(value); err != nil {
			st.skip(r.Offset, "offset commit value: "+err.Error())
			return nil
		}
		if v.Version < 3 {
			v.LeaderEpoch = -1
		}
		c := committed{offset: v.Offset, leaderEpoch: v.LeaderEpoch, metadata: v.Metadata, commitTime: v.CommitTimestamp, recordOffset: r.Offset}
		if r.ProducerID >= 0 {
			addPendingOffset(st.pending, r.ProducerID, r.ProducerEpoch, k.Group, tp, c)
			return nil
		}
		m := st.offsets[k.Group]
		if m == nil {
			m = make(map[topicPartition]committed)
			st.offsets[k.Group] = m
		}
		m[tp] = c
	case keyGroupMetadataV2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			st.skip(r.Offset, "group metadata key: "+err.Error())
			return nil
		}
		if value == nil {
			delete(st.meta, k.Group)
			// A deleted group's offsets were tombstoned before it.
			return nil
		}
		v := new(kmsg.GroupMetadataValue)
		if err := v.ReadFrom(value); err != nil {
			st.skip(r.Offset, "group metadata value: "+err.Error())
			return nil
		}
		st.meta[k.Group] = v
	default:
		if isConsumerGroupKey(binary.BigEndian.Uint16(key)) {
			st.applyConsumer(r.Offset, key, value)
			return nil
		}
		st.skip(r.Offset, fmt.Sprintf("unknown record type %d", binary.BigEndian.Uint16(key)))
	}
	return nil
}

// install builds the shard's groups; s.mu is held.
func (st *loadState) install(s *shard) {
	for id, v := range st.meta {
		g := newGroup(s, id, TypeClassic)
		g.classic.restore(g, v)
		s.groups[id] = g
	}
	st.installConsumer(s)
	for id, offs := range st.offsets {
		if len(offs) == 0 {
			continue
		}
		g, ok := s.groups[id]
		if !ok {
			g = newGroup(s, id, TypeClassic) // a simple group: offsets only
			s.groups[id] = g
		}
		for tp, c := range offs {
			g.offsets[tp] = c
		}
	}
	s.pending = st.pending
}

// groupRecord is the group metadata record of a classic group.
func (g *group) groupRecord() Record {
	cg := g.classic
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupMetadataValueVersion
	v.ProtocolType = cg.protocolType
	v.Generation = cg.generation
	if cg.protocol != "" {
		v.Protocol = kmsg.StringPtr(cg.protocol)
	}
	if cg.leader != "" {
		v.Leader = kmsg.StringPtr(cg.leader)
	}
	v.CurrentStateTimestamp = cg.stateTime.UnixMilli()
	for _, m := range cg.sortedMembers() {
		mv := kmsg.NewGroupMetadataValueMember()
		mv.MemberID = m.id
		mv.InstanceID = m.instanceID
		mv.ClientID = m.clientID
		mv.ClientHost = m.clientHost
		mv.RebalanceTimeoutMillis = int32(m.rebalance / time.Millisecond)
		mv.SessionTimeoutMillis = int32(m.session / time.Millisecond)
		mv.Subscription = nonNil(m.metadataFor(cg.protocol))
		mv.Assignment = nonNil(m.assignment)
		v.Members = append(v.Members, mv)
	}
	return Record{Key: groupKey(g.id), Value: v.AppendTo(nil)}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// DecodeRecord renders a __consumer_offsets record for humans and tests:
// the kind ("offset", "group" or "unknown") and the decoded key and value
// (value nil for a tombstone).
func DecodeRecord(key, value []byte) (kind string, k, v any, err error) {
	if len(key) < 2 {
		return "unknown", nil, nil, fmt.Errorf("key of %d bytes", len(key))
	}
	switch binary.BigEndian.Uint16(key) {
	case keyOffsetCommitV0, keyOffsetCommitV1:
		var ok kmsg.OffsetCommitKey
		if err := ok.ReadFrom(key); err != nil {
			return "offset", nil, nil, err
		}
		if value == nil {
			return "offset", &ok, nil, nil
		}
		var ov kmsg.OffsetCommitValue
		return "offset", &ok, &ov, ov.ReadFrom(value)
	case keyGroupMetadataV2:
		var gk kmsg.GroupMetadataKey
		if err := gk.ReadFrom(key); err != nil {
			return "group", nil, nil, err
		}
		if value == nil {
			return "group", &gk, nil, nil
		}
		var gv kmsg.GroupMetadataValue
		return "group", &gk, &gv, gv.ReadFrom(value)
	}
	return "unknown", nil, nil, nil
}
