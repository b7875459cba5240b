package batch

import (
	"encoding/binary"
	"errors"
)

// Control batches: transaction markers.
//
// A transaction marker (Kafka's EndTransactionMarker) is a batch with the
// transactional and control attributes, never compressed, holding one
// record whose key is {version int16 = 0, type int16} (type 0 abort,
// 1 commit) and whose value is {version int16 = 0, coordinatorEpoch int32}.
// Its base sequence is -1.

// Errors returned by ControlType.
var (
	ErrNotControl = errors.New("batch: not a control batch")
	ErrNotMarker  = errors.New("batch: control record is not a transaction marker")
)

// Control record types, as Kafka numbers them.
const (
	controlAbort  = 0
	controlCommit = 1
)

// BuildControlBatch returns a transaction marker batch for the producer,
// committing or aborting. Its base offset is 0 and its partition leader
// epoch -1; the broker sets both on append.
func BuildControlBatch(producerID int64, epoch int16, commit bool, coordinatorEpoch int32, timestamp int64) []byte {
	typ := int16(controlAbort)
	if commit {
		typ = controlCommit
	}
	var key [4]byte
	binary.BigEndian.PutUint16(key[0:], 0)
	binary.BigEndian.PutUint16(key[2:], uint16(typ))
	var val [6]byte
	binary.BigEndian.PutUint16(val[0:], 0)
	binary.BigEndian.PutUint32(val[2:], uint32(coordinatorEpoch))
	rec := Record{Key: key[:], Value: val[:]}

	h := Header{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           TransactionalBit | ControlBit,
		BaseTimestamp:        timestamp,
		MaxTimestamp:         timestamp,
		ProducerID:           producerID,
		ProducerEpoch:        epoch,
		BaseSequence:         -1,
		NumRecords:           1,
	}
	out := appendHeader(make([]byte, 0, HeaderSize+32), &h)
	out = AppendRecord(out, &rec)
	finish(out)
	return out
}

// ControlType reports whether the control batch b is a commit (true) or an
// abort (false) marker. It reads the first record's key; ErrNotControl is
// returned for a batch without the control attribute and ErrNotMarker for a
// control record of another type (KRaft's leader-change and snapshot
// records are control records too).
func ControlType(b []byte) (commit bool, err error) {
	h, err := ParseHeader(b)
	if err != nil {
		return false, err
	}
	if !h.IsControl() {
		return false, ErrNotControl
	}
	if h.NumRecords < 1 {
		return false, ErrRecordCount
	}
	// A marker is a few dozen bytes; nothing legitimate needs more.
	_, data, err := recordsSection(b, 1<<16)
	if err != nil {
		return false, err
	}
	var r Record
	if _, err := decodeRecord(data, &r, false); err != nil {
		return false, err
	}
	if len(r.Key) < 4 || int16(binary.BigEndian.Uint16(r.Key)) < 0 {
		return false, ErrNotMarker
	}
	switch binary.BigEndian.Uint16(r.Key[2:]) {
	case controlAbort:
		return false, nil
	case controlCommit:
		return true, nil
	}
	return false, ErrNotMarker
}
