package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Byte positions of the fields in a v2 record batch header.
const (
	posBaseOffset      = 0
	posLength          = 8
	posLeaderEpoch     = 12
	posMagic           = 16
	posCRC             = 17
	posAttributes      = 21
	posLastOffsetDelta = 23
	posBaseTimestamp   = 27
	posMaxTimestamp    = 35
	posProducerID      = 43
	posProducerEpoch   = 51
	posBaseSequence    = 53
	posRecordCount     = 57

	// HeaderSize is the size of a v2 batch header; records follow it.
	HeaderSize = 61
	// LogOverhead is the size of the base offset and length fields, which the
	// batch length does not count.
	LogOverhead = 12
)

// Attribute bits.
const (
	CompressionMask        = 0x07
	TimestampTypeBit       = 0x08
	TransactionalBit       = 0x10
	ControlBit             = 0x20
	DeleteHorizonBit       = 0x40
	NoProducerID     int64 = -1
)

// Codec is a batch compression codec as stored in the attributes.
type Codec int8

// Compression codecs, numbered as Kafka numbers them.
const (
	CodecNone Codec = iota
	CodecGzip
	CodecSnappy
	CodecLZ4
	CodecZstd
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned by Parse and Validate. The broker maps them to Kafka error
// codes (CORRUPT_MESSAGE, INVALID_RECORD, UNSUPPORTED_FOR_MESSAGE_FORMAT).
var (
	ErrShort       = errors.New("batch: shorter than a v2 header")
	ErrLength      = errors.New("batch: length field disagrees with bytes present")
	ErrMagic       = errors.New("batch: magic is not 2")
	ErrCRC         = errors.New("batch: CRC-32C mismatch")
	ErrRecordCount = errors.New("batch: record count disagrees with last offset delta")
	ErrCodec       = errors.New("batch: unknown compression codec")
)

// Header is a view of a v2 batch header. It holds the decoded fields; Raw
// aliases the whole batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the full size of the batch on disk, including the offset and
// length fields.
func (h *Header) Size() int64 { return int64(h.Length) + LogOverhead }

// LastOffset is the offset of the batch's last record.
func (h *Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset following the batch.
func (h *Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Codec is the batch's compression codec.
func (h *Header) Codec() Codec { return Codec(h.Attributes & CompressionMask) }

// IsTransactional reports the transactional attribute.
func (h *Header) IsTransactional() bool { return h.Attributes&TransactionalBit != 0 }

// IsControl reports whether the batch holds a control record.
func (h *Header) IsControl() bool { return h.Attributes&ControlBit != 0 }

// LogAppendTime reports whether the batch's timestamps are log-append times.
func (h *Header) LogAppendTime() bool { return h.Attributes&TimestampTypeBit != 0 }

// HasProducerID reports whether the batch was written by an idempotent or
// transactional producer.
func (h *Header) HasProducerID() bool { return h.ProducerID >= 0 }

// LastSequence is the sequence number of the last record, wrapping at
// MaxInt32 as Kafka does.
func (h *Header) LastSequence() int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	s := int64(h.BaseSequence) + int64(h.LastOffsetDelta)
	if s > 0x7fffffff {
		s -= 0x80000000
	}
	return int32(s)
}

// ParseHeader decodes the header at the start of b. It checks only that the
// header is present; b may hold more than one batch, or a partial one.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, ErrShort
	}
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[posBaseOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[posLength:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[posLeaderEpoch:]))
	h.Magic = int8(b[posMagic])
	h.CRC = binary.BigEndian.Uint32(b[posCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[posAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[posLastOffsetDelta:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[posBaseTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[posMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[posProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[posProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[posBaseSequence:]))
	h.NumRecords = int32(binary.BigEndian.Uint32(b[posRecordCount:]))
	return h, nil
}

// CheckCRC verifies the CRC-32C of a whole batch.
func CheckCRC(b []byte) error {
	if len(b) < HeaderSize {
		return ErrShort
	}
	if crc32.Checksum(b[posAttributes:], castagnoli) != binary.BigEndian.Uint32(b[posCRC:]) {
		return ErrCRC
	}
	return nil
}

// Validate checks that b is exactly one well-formed v2 batch: header present,
// length consistent with len(b), magic 2, CRC correct, a known codec, and a
// record count that matches the last offset delta. It returns the header.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: record batches must have magic version 2, not %d", ErrMagic, h.Magic)
	}
	if h.Length < HeaderSize-LogOverhead || int64(h.Length)+LogOverhead != int64(len(b)) {
		return h, ErrLength
	}
	if err := CheckCRC(b); err != nil {
		return h, err
	}
	if h.Codec() > CodecZstd {
		return h, fmt.Errorf("%w: unknown compression type id: %d", ErrCodec, h.Codec())
	}
	if h.NumRecords <= 0 || h.LastOffsetDelta != h.NumRecords-1 {
		// Compaction may leave LastOffsetDelta above NumRecords-1, but a
		// producer never does; an empty batch is never valid from a client.
		return h, fmt.Errorf("%w: offset range [%d, %d] and count of records %d", ErrRecordCount, h.BaseOffset, h.LastOffset(), h.NumRecords)
	}
	return h, nil
}

// SetBaseOffset writes the base offset into a batch. The field lies outside
// the CRC-covered range.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[posBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch writes the partition leader epoch into a batch. The
// field lies outside the CRC-covered range.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[posLeaderEpoch:], uint32(epoch))
}

// SetMaxTimestampLogAppend marks the batch's timestamps as log-append time,
// sets the base and max timestamps to ts and recomputes the CRC. The records'
// own timestamp deltas are left alone; consumers use the batch timestamp for
// log-append-time batches, as Kafka's do.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[posAttributes:]) | TimestampTypeBit
	binary.BigEndian.PutUint16(b[posAttributes:], attrs)
	binary.BigEndian.PutUint64(b[posMaxTimestamp:], uint64(ts))
	UpdateCRC(b)
}

// SetCreateTime marks the batch's timestamps as create time with max
// timestamp ts and recomputes the CRC, as Kafka does when a producer's
// batch on a CreateTime topic claims another max timestamp than its records
// hold, or claims log-append time.
func SetCreateTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[posAttributes:]) &^ TimestampTypeBit
	binary.BigEndian.PutUint16(b[posAttributes:], attrs)
	binary.BigEndian.PutUint64(b[posMaxTimestamp:], uint64(ts))
	UpdateCRC(b)
}

// UpdateCRC recomputes and stores the CRC-32C of a batch.
func UpdateCRC(b []byte) {
	binary.BigEndian.PutUint32(b[posCRC:], crc32.Checksum(b[posAttributes:], castagnoli))
}
