package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The __share_group_state record format, as Kafka 4.4's share coordinator
// writes it: a key is an int16 record type (0 ShareSnapshot, 1
// ShareUpdate) followed by GroupId (int16-length string), TopicId (16
// bytes) and Partition (int32); a value is an int16 version (0) followed by
// a flexible struct:
//
//	ShareSnapshotValue: SnapshotEpoch int32, StateEpoch int32, LeaderEpoch int32,
//	    StartOffset int64, CreateTimestamp int64, WriteTimestamp int64,
//	    StateBatches compact array, tags (0: DeliveryCompleteCount int32)
//	ShareUpdateValue: SnapshotEpoch int32, LeaderEpoch int32, StartOffset int64,
//	    StateBatches compact array, tags (0: DeliveryCompleteCount int32)
//	StateBatch: FirstOffset int64, LastOffset int64, DeliveryState int8,
//	    DeliveryCount int16, tags
//
// A null value (tombstone) deletes the share partition's state.

// Record types of __share_group_state keys.
const (
	RecordSnapshot int16 = 0
	RecordUpdate   int16 = 1
)

// StateBatch is a range of offsets with one delivery state and count.
type StateBatch struct {
	FirstOffset, LastOffset int64
	State                   State
	DeliveryCount           int16
}

// StateValue is a ShareSnapshotValue or a ShareUpdateValue (StateEpoch,
// CreateTimestamp and WriteTimestamp are the snapshot's only).
type StateValue struct {
	SnapshotEpoch   int32
	StateEpoch      int32
	LeaderEpoch     int32
	StartOffset     int64
	CreateTimestamp int64
	WriteTimestamp  int64
	Batches         []StateBatch
	// DeliveryCompleteCount is KIP-1226's tagged field; -1 when absent.
	DeliveryCompleteCount int32
}

var errRecord = errors.New("share: malformed __share_group_state record")

// AppendKey appends a __share_group_state key.
func AppendKey(dst []byte, typ int16, k PartKey) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(typ))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.Group)))
	dst = append(dst, k.Group...)
	dst = append(dst, k.Topic[:]...)
	return binary.BigEndian.AppendUint32(dst, uint32(k.Partition))
}

// ParseKey reads a __share_group_state key.
func ParseKey(b []byte) (typ int16, k PartKey, err error) {
	r := reader{b: b}
	typ = r.i16()
	if typ != RecordSnapshot && typ != RecordUpdate {
		return 0, k, fmt.Errorf("%w: record type %d", errRecord, typ)
	}
	n := r.i16()
	if n < 0 {
		return 0, k, fmt.Errorf("%w: null group id", errRecord)
	}
	k.Group = string(r.take(int(n)))
	copy(k.Topic[:], r.take(16))
	k.Partition = r.i32()
	if r.err != nil || len(r.b) != 0 {
		return 0, k, fmt.Errorf("%w: key of %d bytes", errRecord, len(b))
	}
	return typ, k, nil
}

// AppendValue appends a ShareSnapshotValue (typ RecordSnapshot) or a
// ShareUpdateValue, version 0.
func AppendValue(dst []byte, typ int16, v *StateValue) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(v.SnapshotEpoch))
	if typ == RecordSnapshot {
		dst = binary.BigEndian.AppendUint32(dst, uint32(v.StateEpoch))
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(v.LeaderEpoch))
	dst = binary.BigEndian.AppendUint64(dst, uint64(v.StartOffset))
	if typ == RecordSnapshot {
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.CreateTimestamp))
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.WriteTimestamp))
	}
	dst = binary.AppendUvarint(dst, uint64(len(v.Batches))+1)
	for _, sb := range v.Batches {
		dst = binary.BigEndian.AppendUint64(dst, uint64(sb.FirstOffset))
		dst = binary.BigEndian.AppendUint64(dst, uint64(sb.LastOffset))
		dst = append(dst, byte(sb.State))
		dst = binary.BigEndian.AppendUint16(dst, uint16(sb.DeliveryCount))
		dst = append(dst, 0) // no tagged fields
	}
	if v.DeliveryCompleteCount == -1 {
		return append(dst, 0)
	}
	dst = append(dst, 1, 0, 4) // one tag: 0, 4 bytes
	return binary.BigEndian.AppendUint32(dst, uint32(v.DeliveryCompleteCount))
}

// ParseValue reads a value of a key of type typ. Unknown tagged fields are
// skipped; lengths are checked against the bytes present before anything
// is allocated.
func ParseValue(typ int16, b []byte) (StateValue, error) {
	v := StateValue{DeliveryCompleteCount: -1}
	r := reader{b: b}
	if ver := r.i16(); ver != 0 {
		return v, fmt.Errorf("%w: value version %d", errRecord, ver)
	}
	v.SnapshotEpoch = r.i32()
	if typ == RecordSnapshot {
		v.StateEpoch = r.i32()
	}
	v.LeaderEpoch = r.i32()
	v.StartOffset = r.i64()
	if typ == RecordSnapshot {
		v.CreateTimestamp, v.WriteTimestamp = r.i64(), r.i64()
	}
	n := r.uvarint()
	const batchMin = 8 + 8 + 1 + 2 + 1
	if n == 0 || n-1 > uint64(len(r.b)/batchMin) {
		return v, fmt.Errorf("%w: %d state batches", errRecord, int64(n)-1)
	}
	v.Batches = make([]StateBatch, 0, n-1)
	for i := uint64(1); i < n && r.err == nil; i++ {
		sb := StateBatch{FirstOffset: r.i64(), LastOffset: r.i64(), State: State(r.i8()), DeliveryCount: r.i16()}
		r.skipTags(nil)
		v.Batches = append(v.Batches, sb)
	}
	r.skipTags(func(tag uint64, data []byte) {
		if tag == 0 && len(data) == 4 {
			v.DeliveryCompleteCount = int32(binary.BigEndian.Uint32(data))
		}
	})
	if r.err != nil || len(r.b) != 0 {
		return v, fmt.Errorf("%w: value of %d bytes", errRecord, len(b))
	}
	return v, nil
}

// reader reads big-endian fields, remembering the first shortfall.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errRecord
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) i8() int8   { return int8(r.pad(1)[0]) }
func (r *reader) i16() int16 { return int16(binary.BigEndian.Uint16(r.pad(2))) }
func (r *reader) i32() int32 { return int32(binary.BigEndian.Uint32(r.pad(4))) }
func (r *reader) i64() int64 { return int64(binary.BigEndian.Uint64(r.pad(8))) }

// pad takes n bytes, or n zero bytes after a shortfall.
func (r *reader) pad(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errRecord
		return make([]byte, n)
	}
	return r.take(n)
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

// skipTags reads a tagged-field section, handing each field to fn.
func (r *reader) skipTags(fn func(tag uint64, data []byte)) {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errRecord
		return
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		tag, size := r.uvarint(), r.uvarint()
		if size > math.MaxInt32 || size > uint64(len(r.b)) {
			r.err = errRecord
			return
		}
		data := r.take(int(size))
		if fn != nil && r.err == nil {
			fn(tag, data)
		}
	}
}
