package batch

import (
	"encoding/binary"
	"errors"
)

// ErrNoRecords reports an attempt to build a batch without records, which
// no Kafka client sends and Validate rejects.
var ErrNoRecords = errors.New("batch: no records")

// BuildOptions are the header fields Build does not derive from the records.
//
// The producer fields follow one rule, so that the zero value builds the
// plain batch a non-idempotent producer sends: the batch carries ProducerID,
// ProducerEpoch and BaseSequence when Idempotent or Transactional is set, or
// when any of the three is non-zero and ProducerID is not negative. Otherwise
// all three are -1. Producer ID 0 with epoch 0 and sequence 0 therefore
// needs Idempotent.
type BuildOptions struct {
	BaseOffset    int64
	BaseTimestamp int64
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	Idempotent    bool
	Transactional bool
	// LogAppendTime sets the timestamp-type attribute.
	LogAppendTime bool
	// PartitionLeaderEpoch defaults to -1 (what producers send) when zero;
	// the broker overwrites it on append anyway.
	PartitionLeaderEpoch int32
}

func (o *BuildOptions) producer() (id int64, epoch int16, seq int32) {
	has := o.Idempotent || o.Transactional ||
		o.ProducerID != 0 || o.ProducerEpoch != 0 || o.BaseSequence != 0
	if !has || o.ProducerID < 0 {
		return NoProducerID, -1, -1
	}
	return o.ProducerID, o.ProducerEpoch, o.BaseSequence
}

// Build returns a complete, valid batch holding records compressed with
// codec. Offset deltas are assigned 0, 1, 2, ... whatever the records say;
// the max timestamp is BaseTimestamp plus the largest timestamp delta.
func Build(codec Codec, records []Record, opts BuildOptions) ([]byte, error) {
	if len(records) == 0 {
		return nil, ErrNoRecords
	}
	if codec < CodecNone || codec > CodecZstd {
		return nil, ErrCodec
	}
	raw := make([]byte, 0, 64*len(records))
	maxDelta := records[0].TimestampDelta
	for i := range records {
		r := records[i] // copy: the caller's records are not modified
		r.OffsetDelta = int32(i)
		raw = AppendRecord(raw, &r)
		maxDelta = max(maxDelta, r.TimestampDelta)
	}
	attrs := int16(codec)
	if opts.Transactional {
		attrs |= TransactionalBit
	}
	if opts.LogAppendTime {
		attrs |= TimestampTypeBit
	}
	pid, epoch, seq := opts.producer()
	leaderEpoch := opts.PartitionLeaderEpoch
	if leaderEpoch == 0 {
		leaderEpoch = -1
	}
	h := Header{
		BaseOffset:           opts.BaseOffset,
		PartitionLeaderEpoch: leaderEpoch,
		Magic:                2,
		Attributes:           attrs,
		LastOffsetDelta:      int32(len(records) - 1),
		BaseTimestamp:        opts.BaseTimestamp,
		MaxTimestamp:         opts.BaseTimestamp + maxDelta,
		ProducerID:           pid,
		ProducerEpoch:        epoch,
		BaseSequence:         seq,
		NumRecords:           int32(len(records)),
	}
	out := appendHeader(make([]byte, 0, HeaderSize+len(raw)), &h)
	out, err := Compress(codec, out, raw)
	if err != nil {
		return nil, err
	}
	finish(out)
	return out, nil
}

// appendHeader appends a v2 header with h's fields; Length and CRC are left
// for finish.
func appendHeader(dst []byte, h *Header) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.BaseOffset))
	dst = binary.BigEndian.AppendUint32(dst, 0) // length, set by finish
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.PartitionLeaderEpoch))
	dst = append(dst, byte(h.Magic))
	dst = binary.BigEndian.AppendUint32(dst, 0) // CRC, set by finish
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.Attributes))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.BaseTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.ProducerID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.BaseSequence))
	return binary.BigEndian.AppendUint32(dst, uint32(h.NumRecords))
}

// finish sets the length field from len(b) and recomputes the CRC.
func finish(b []byte) {
	binary.BigEndian.PutUint32(b[posLength:], uint32(len(b)-LogOverhead))
	UpdateCRC(b)
}
