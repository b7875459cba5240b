package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The records of Kafka's KIP-848 coordinator in __consumer_offsets. kmsg
// v1.15.1 has no definitions for them, so they are encoded here following
// Kafka's group-coordinator JSON schemas: a key is an int16 version (3 to 8,
// which also names the record type) and a non-flexible struct of strings; a
// value is an int16 version (0) and a flexible struct.

// Key versions of the consumer group records.
const (
	cgKeyMetadata          = 3 // ConsumerGroupMetadataKey → group epoch
	cgKeyPartitionMetadata = 4 // ConsumerGroupPartitionMetadataKey → subscribed topics
	cgKeyMemberMetadata    = 5 // ConsumerGroupMemberMetadataKey → member subscription
	cgKeyTargetMetadata    = 6 // ConsumerGroupTargetAssignmentMetadataKey → assignment epoch
	cgKeyTargetMember      = 7 // ConsumerGroupTargetAssignmentMemberKey → member target
	cgKeyCurrentAssignment = 8 // ConsumerGroupCurrentMemberAssignmentKey → member state
)

// isConsumerGroupKey reports whether a key version is one of the above.
func isConsumerGroupKey(v uint16) bool { return v >= cgKeyMetadata && v <= cgKeyCurrentAssignment }

// ClassicMemberMetadata is what a member that speaks the classic protocol
// inside a consumer group keeps (ConsumerGroupMemberMetadataValue's tagged
// ClassicMemberMetadata).
type ClassicMemberMetadata struct {
	SessionTimeoutMs   int32
	SupportedProtocols []ClassicProtocol
}

// ClassicProtocol is one JoinGroup protocol of a classic member.
type ClassicProtocol struct {
	Name     string
	Metadata []byte
}

// cgRecord is one decoded consumer group record. Kind is the key version;
// Tombstone marks a nil value. Only the fields of Kind are set.
type cgRecord struct {
	Kind      int16
	Group     string
	MemberID  string // kinds 5, 7, 8
	Tombstone bool

	Epoch int32 // kinds 3 (group epoch) and 6 (assignment epoch)

	Topics []AssignmentTopic // kind 4

	// Kind 5.
	InstanceID, RackID     *string
	ClientID, ClientHost   string
	SubscribedTopicNames   []string
	SubscribedTopicRegex   *string
	RebalanceTimeoutMs     int32
	ServerAssignor         *string
	Classic                *ClassicMemberMetadata
	Target                 Assignment // kind 7
	MemberEpoch, PrevEpoch int32      // kind 8
	State                  int8
	Assigned, Pending      Assignment
}

// encode renders the record as a key and value of __consumer_offsets.
func (r *cgRecord) encode() Record {
	var k cgWriter
	k.int16(r.Kind)
	k.str(r.Group)
	switch r.Kind {
	case cgKeyMemberMetadata, cgKeyTargetMember, cgKeyCurrentAssignment:
		k.str(r.MemberID)
	}
	if r.Tombstone {
		return Record{Key: k.b}
	}
	var v cgWriter
	v.int16(0)
	switch r.Kind {
	case cgKeyMetadata, cgKeyTargetMetadata:
		v.int32(r.Epoch)
	case cgKeyPartitionMetadata:
		v.uvarint(uint64(len(r.Topics)) + 1)
		for _, t := range r.Topics {
			v.uuid(t.ID)
			v.cstr(t.Name)
			v.int32(t.Partitions)
			v.uvarint(1) // PartitionMetadata: empty (no racks)
			v.uvarint(0) // tags
		}
	case cgKeyMemberMetadata:
		v.cnstr(r.InstanceID)
		v.cnstr(r.RackID)
		v.cstr(r.ClientID)
		v.cstr(r.ClientHost)
		v.uvarint(uint64(len(r.SubscribedTopicNames)) + 1)
		for _, n := range r.SubscribedTopicNames {
			v.cstr(n)
		}
		v.cnstr(r.SubscribedTopicRegex)
		v.int32(r.RebalanceTimeoutMs)
		v.cnstr(r.ServerAssignor)
		if r.Classic == nil {
			v.uvarint(0)
			break
		}
		var c cgWriter
		c.int32(r.Classic.SessionTimeoutMs)
		c.uvarint(uint64(len(r.Classic.SupportedProtocols)) + 1)
		for _, p := range r.Classic.SupportedProtocols {
			c.cstr(p.Name)
			c.cbytes(p.Metadata)
			c.uvarint(0)
		}
		c.uvarint(0)
		v.uvarint(1)                    // one tagged field
		v.uvarint(0)                    // tag 0
		v.uvarint(uint64(len(c.b)) + 1) // size, with the non-null marker
		v.uvarint(1)                    // non-null
		v.b = append(v.b, c.b...)
		return Record{Key: k.b, Value: v.b}
	case cgKeyTargetMember:
		v.topicPartitions(r.Target)
	case cgKeyCurrentAssignment:
		v.int32(r.MemberEpoch)
		v.int32(r.PrevEpoch)
		v.int8(r.State)
		v.topicPartitions(r.Assigned)
		v.topicPartitions(r.Pending)
	}
	v.uvarint(0) // tags
	return Record{Key: k.b, Value: v.b}
}

// decodeCGRecord parses a consumer group record. Unknown tagged fields are
// skipped; value versions above 0 are read as version 0 plus tags, which is
// how Kafka evolves these schemas.
func decodeCGRecord(key, value []byte) (*cgRecord, error) {
	k := cgReader{b: key}
	kind := k.int16()
	r := &cgRecord{Kind: kind, Group: k.str()}
	switch kind {
	case cgKeyMetadata, cgKeyPartitionMetadata, cgKeyTargetMetadata:
	case cgKeyMemberMetadata, cgKeyTargetMember, cgKeyCurrentAssignment:
		r.MemberID = k.str()
	default:
		return nil, fmt.Errorf("key version %d is not a consumer group record", kind)
	}
	if k.err != nil {
		return nil, fmt.Errorf("consumer group record key: %w", k.err)
	}
	if value == nil {
		r.Tombstone = true
		return r, nil
	}
	v := cgReader{b: value}
	if ver := v.int16(); ver < 0 {
		return nil, fmt.Errorf("consumer group record value version %d", ver)
	}
	switch kind {
	case cgKeyMetadata, cgKeyTargetMetadata:
		r.Epoch = v.int32()
		v.tags(nil)
	case cgKeyPartitionMetadata:
		n := v.arrayLen(21)
		for i := 0; i < n && v.err == nil; i++ {
			t := AssignmentTopic{ID: v.uuid(), Name: v.cstr(), Partitions: v.int32()}
			pn := v.arrayLen(2)
			for j := 0; j < pn && v.err == nil; j++ {
				v.int32()
				rn := v.arrayLen(1)
				for l := 0; l < rn && v.err == nil; l++ {
					v.cstr()
				}
				v.tags(nil)
			}
			v.tags(nil)
			r.Topics = append(r.Topics, t)
		}
		v.tags(nil)
	case cgKeyMemberMetadata:
		r.InstanceID = v.cnstr()
		r.RackID = v.cnstr()
		r.ClientID = v.cstr()
		r.ClientHost = v.cstr()
		n := v.arrayLen(1)
		for i := 0; i < n && v.err == nil; i++ {
			r.SubscribedTopicNames = append(r.SubscribedTopicNames, v.cstr())
		}
		r.SubscribedTopicRegex = v.cnstr()
		r.RebalanceTimeoutMs = v.int32()
		r.ServerAssignor = v.cnstr()
		v.tags(func(tag uint64, b []byte) {
			if tag != 0 {
				return
			}
			c := cgReader{b: b}
			if c.uvarint() == 0 {
				return // null
			}
			cm := &ClassicMemberMetadata{SessionTimeoutMs: c.int32()}
			pn := c.arrayLen(2)
			for i := 0; i < pn && c.err == nil; i++ {
				cm.SupportedProtocols = append(cm.SupportedProtocols, ClassicProtocol{Name: c.cstr(), Metadata: c.cbytes()})
				c.tags(nil)
			}
			c.tags(nil)
			if c.err != nil {
				v.err = c.err
				return
			}
			r.Classic = cm
		})
	case cgKeyTargetMember:
		r.Target = v.topicPartitions()
		v.tags(nil)
	case cgKeyCurrentAssignment:
		r.MemberEpoch = v.int32()
		r.PrevEpoch = v.int32()
		r.State = v.int8()
		r.Assigned = v.topicPartitions()
		r.Pending = v.topicPartitions()
		v.tags(nil)
	}
	if v.err != nil {
		return nil, fmt.Errorf("consumer group record value (key version %d): %w", kind, v.err)
	}
	return r, nil
}

// cgWriter appends Kafka protocol primitives.
type cgWriter struct{ b []byte }

func (w *cgWriter) int8(v int8)   { w.b = append(w.b, byte(v)) }
func (w *cgWriter) int16(v int16) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)) }
func (w *cgWriter) int32(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }
func (w *cgWriter) uvarint(v uint64) {
	w.b = binary.AppendUvarint(w.b, v)
}
func (w *cgWriter) uuid(id [16]byte) { w.b = append(w.b, id[:]...) }

// str is a non-flexible STRING: int16 length and bytes.
func (w *cgWriter) str(s string) {
	w.int16(int16(len(s)))
	w.b = append(w.b, s...)
}

// cstr is a COMPACT_STRING.
func (w *cgWriter) cstr(s string) {
	w.uvarint(uint64(len(s)) + 1)
	w.b = append(w.b, s...)
}

// cnstr is a COMPACT_NULLABLE_STRING.
func (w *cgWriter) cnstr(s *string) {
	if s == nil {
		w.uvarint(0)
		return
	}
	w.cstr(*s)
}

func (w *cgWriter) cbytes(b []byte) {
	w.uvarint(uint64(len(b)) + 1)
	w.b = append(w.b, b...)
}

// topicPartitions is a compact array of {TopicId uuid, Partitions []int32,
// tags}, topics in id order.
func (w *cgWriter) topicPartitions(a Assignment) {
	ids := a.topicIDs()
	w.uvarint(uint64(len(ids)) + 1)
	for _, t := range ids {
		w.uuid(t)
		w.uvarint(uint64(len(a[t])) + 1)
		for _, p := range a[t] {
			w.int32(p)
		}
		w.uvarint(0)
	}
}

var errCGShort = errors.New("record truncated")

// cgReader reads Kafka protocol primitives; the first error sticks and
// every later read returns zero values. Lengths are bounded by the bytes
// present.
type cgReader struct {
	b   []byte
	err error
}

func (r *cgReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errCGShort
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *cgReader) int8() int8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return int8(b[0])
}

func (r *cgReader) int16() int16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

func (r *cgReader) int32() int32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (r *cgReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCGShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cgReader) uuid() (id [16]byte) {
	copy(id[:], r.take(16))
	return id
}

func (r *cgReader) str() string {
	n := r.int16()
	return string(r.take(int(n)))
}

// compactLen reads a compact length; -1 is null.
func (r *cgReader) compactLen() int {
	v := r.uvarint()
	if r.err != nil {
		return -1
	}
	if v > uint64(len(r.b))+1 {
		r.err = errCGShort
		return -1
	}
	return int(v) - 1
}

func (r *cgReader) cstr() string {
	n := r.compactLen()
	if n < 0 {
		return ""
	}
	return string(r.take(n))
}

func (r *cgReader) cnstr() *string {
	n := r.compactLen()
	if n < 0 {
		return nil
	}
	s := string(r.take(n))
	return &s
}

func (r *cgReader) cbytes() []byte {
	n := r.compactLen()
	if n < 0 {
		return nil
	}
	return slices.Clone(r.take(n))
}

// arrayLen reads a compact array length, bounded by the bytes left given
// each element's minimum size.
func (r *cgReader) arrayLen(minElem int) int {
	n := r.compactLen()
	if n < 0 {
		return 0
	}
	if n*minElem > len(r.b) {
		r.err = errCGShort
		return 0
	}
	return n
}

// tags reads a tagged-field section and hands each field to fn.
func (r *cgReader) tags(fn func(tag uint64, b []byte)) {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errCGShort
		return
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		tag := r.uvarint()
		size := r.uvarint()
		if size > uint64(len(r.b)) {
			r.err = errCGShort
			return
		}
		b := r.take(int(size))
		if fn != nil && r.err == nil {
			fn(tag, b)
		}
	}
}

func (r *cgReader) topicPartitions() Assignment {
	n := r.arrayLen(18)
	out := Assignment{}
	for i := 0; i < n && r.err == nil; i++ {
		t := r.uuid()
		pn := r.arrayLen(4)
		for j := 0; j < pn && r.err == nil; j++ {
			out.add(t, r.int32())
		}
		r.tags(nil)
	}
	return out
}
