package batch

// Decoding and encoding of the records inside a v2 batch.
//
// A record is:
//
//	length          varint  (bytes that follow, up to the end of the record)
//	attributes      int8
//	timestampDelta  varlong
//	offsetDelta     varint
//	keyLength       varint  (-1: null key)
//	key             bytes
//	valueLength     varint  (-1: null value)
//	value           bytes
//	headerCount     varint
//	headers         [headerKeyLength varint, headerKey, headerValueLength varint, headerValue]
//
// Varints are zig-zag encoded as in protobuf, which is what encoding/binary's
// Varint does. Every length is checked against the bytes present before use.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrRecord reports a record that does not decode.
var ErrRecord = errors.New("batch: malformed record")

// minRecordSize is the smallest encoding of a record: one byte each for the
// length, attributes, timestamp delta, offset delta, key length, value
// length and header count.
const minRecordSize = 7

// Record is one decoded record. Key and Value are nil for null; decoded
// slices alias the batch (uncompressed) or the decompressed buffer, and are
// capacity-limited so appending to them never overwrites a neighbour.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// RecordHeader is one record header. Header keys are never null in Kafka;
// a nil Value is a null value.
type RecordHeader struct {
	Key   string
	Value []byte
}

// Records decodes the records of one batch. It checks the header's magic,
// length and codec, decompresses at most maxDecompressed bytes, and requires
// exactly NumRecords records that use up the records section. It does not
// check the CRC; call Validate first for bytes from a client or a disk.
func Records(b []byte, maxDecompressed int) ([]Record, error) {
	h, data, err := recordsSection(b, maxDecompressed)
	if err != nil {
		return nil, err
	}
	n := int(h.NumRecords)
	recs := make([]Record, 0, min(n, len(data)/minRecordSize))
	for i := 0; i < n; i++ {
		var r Record
		if data, err = decodeRecord(data, &r, true); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		recs = append(recs, r)
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrRecord, len(data))
	}
	return recs, nil
}

// recordsSection checks the parts of the header that decoding depends on and
// returns the header and the decompressed records section.
func recordsSection(b []byte, maxDecompressed int) (Header, []byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, nil, err
	}
	if h.Magic != 2 {
		return h, nil, ErrMagic
	}
	if int64(h.Length)+LogOverhead != int64(len(b)) {
		return h, nil, ErrLength
	}
	if h.Codec() > CodecZstd {
		return h, nil, ErrCodec
	}
	if h.NumRecords < 0 {
		return h, nil, ErrRecordCount
	}
	data, err := Decompress(h.Codec(), b[HeaderSize:], maxDecompressed)
	return h, data, err
}

// checkRecords walks the records of a records section without keeping them,
// requiring exactly n that use up data.
func checkRecords(data []byte, n int32) error {
	var r Record
	var err error
	for i := int32(0); i < n; i++ {
		if data, err = decodeRecord(data, &r, false); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	if len(data) != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrRecord, len(data))
	}
	return nil
}

func recordErr(what string) error { return fmt.Errorf("%w: %s", ErrRecord, what) }

// readVarint reads a zig-zag varint that must fit an int32. The one-byte
// encoding, which most record fields use, is decoded inline.
func readVarint(b []byte) (int32, []byte, bool) {
	if len(b) > 0 && b[0] < 0x80 {
		return int32(b[0]>>1) ^ -int32(b[0]&1), b[1:], true
	}
	return readVarintSlow(b)
}

func readVarintSlow(b []byte) (int32, []byte, bool) {
	v, n := binary.Varint(b)
	if n <= 0 || n > binary.MaxVarintLen32 || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, b, false
	}
	return int32(v), b[n:], true
}

// readVarlong reads a zig-zag varint of up to 64 bits.
func readVarlong(b []byte) (int64, []byte, bool) {
	if len(b) > 0 && b[0] < 0x80 {
		return int64(b[0]>>1) ^ -int64(b[0]&1), b[1:], true
	}
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, b, false
	}
	return v, b[n:], true
}

// readVarBytes reads a varint length and that many bytes; -1 is null when
// nullable.
func readVarBytes(b []byte, nullable bool) ([]byte, []byte, bool) {
	l, b, ok := readVarint(b)
	if !ok {
		return nil, b, false
	}
	if l < 0 {
		if l == -1 && nullable {
			return nil, b, true
		}
		return nil, b, false
	}
	if int(l) > len(b) {
		return nil, b, false
	}
	return b[:l:l], b[l:], true
}

// decodeRecord decodes the record at the start of b into r and returns what
// follows it. Headers are kept only when keep is set.
func decodeRecord(b []byte, r *Record, keep bool) ([]byte, error) {
	length, b, ok := readVarint(b)
	if !ok {
		return nil, recordErr("length")
	}
	if length < 0 || int(length) > len(b) {
		return nil, recordErr("length exceeds the bytes present")
	}
	body, rest := b[:length], b[length:]
	return rest, decodeRecordBody(body, r, keep)
}

// decodeRecordBody decodes a record's bytes after its length into r.
// Headers are kept only when keep is set, in r.Headers' backing array when
// it is large enough.
func decodeRecordBody(body []byte, r *Record, keep bool) error {
	var ok bool
	if len(body) < 1 {
		return recordErr("attributes")
	}
	r.Attributes = int8(body[0])
	body = body[1:]
	if r.TimestampDelta, body, ok = readVarlong(body); !ok {
		return recordErr("timestamp delta")
	}
	if r.OffsetDelta, body, ok = readVarint(body); !ok {
		return recordErr("offset delta")
	}
	if r.Key, body, ok = readVarBytes(body, true); !ok {
		return recordErr("key")
	}
	if r.Value, body, ok = readVarBytes(body, true); !ok {
		return recordErr("value")
	}
	count, body, ok := readVarint(body)
	if !ok || count < 0 || int(count) > len(body)/2 {
		// A header takes at least two bytes.
		return recordErr("header count")
	}
	r.Headers = r.Headers[:0]
	if keep && cap(r.Headers) < int(count) {
		r.Headers = make([]RecordHeader, 0, count)
	}
	for i := 0; i < int(count); i++ {
		var key, val []byte
		if key, body, ok = readVarBytes(body, false); !ok {
			return recordErr("header key")
		}
		if val, body, ok = readVarBytes(body, true); !ok {
			return recordErr("header value")
		}
		if keep {
			r.Headers = append(r.Headers, RecordHeader{Key: string(key), Value: val})
		}
	}
	if len(body) != 0 {
		return recordErr("bytes left inside the record")
	}
	return nil
}

func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func varBytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendVarBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// recordBodySize is the size of a record after its length field.
func recordBodySize(r *Record) int {
	n := 1 + varintLen(r.TimestampDelta) + varintLen(int64(r.OffsetDelta)) +
		varBytesLen(r.Key) + varBytesLen(r.Value) + varintLen(int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		n += varintLen(int64(len(h.Key))) + len(h.Key) + varBytesLen(h.Value)
	}
	return n
}

// AppendRecord appends the encoding of r, length prefix included, to dst.
// A nil Key, Value or header Value encodes as null.
func AppendRecord(dst []byte, r *Record) []byte {
	dst = binary.AppendVarint(dst, int64(recordBodySize(r)))
	dst = append(dst, byte(r.Attributes))
	dst = binary.AppendVarint(dst, r.TimestampDelta)
	dst = binary.AppendVarint(dst, int64(r.OffsetDelta))
	dst = appendVarBytes(dst, r.Key)
	dst = appendVarBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendVarBytes(dst, h.Value)
	}
	return dst
}

// AppendRecords appends the encoding of each record, as they are, to dst:
// an uncompressed records section.
func AppendRecords(dst []byte, records []Record) []byte {
	for i := range records {
		dst = AppendRecord(dst, &records[i])
	}
	return dst
}
