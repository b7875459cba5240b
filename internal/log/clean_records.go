package log

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// cleanRecord is one record of a decompressed records section, decoded as
// far as the cleaner needs: the key, whether the value is null, and the
// bytes to copy or re-encode.
type cleanRecord struct {
	raw      []byte // the whole record, length prefix included
	attrs    byte
	tsDelta  int64
	rest     []byte // the record after the timestamp delta
	offDelta int32
	key      []byte
	hasKey   bool
	hasValue bool
}

// parseCleanRecord decodes the record at the start of p and returns what
// follows it. Every length is bounded by the bytes present; the headers
// are not decoded (they are copied as they are).
func parseCleanRecord(p []byte) (cleanRecord, []byte, error) {
	var r cleanRecord
	l, n := binary.Varint(p)
	if n <= 0 || l < 1 || l > int64(len(p)-n) {
		return r, nil, fmt.Errorf("%w: record length", batch.ErrRecord)
	}
	end := n + int(l)
	body := p[n:end]
	r.raw, r.attrs = p[:end], body[0]
	q := body[1:]
	ts, k := binary.Varint(q)
	if k <= 0 {
		return r, nil, fmt.Errorf("%w: timestamp delta", batch.ErrRecord)
	}
	r.tsDelta, q = ts, q[k:]
	r.rest = q
	od, k := binary.Varint(q)
	if k <= 0 || od < math.MinInt32 || od > math.MaxInt32 {
		return r, nil, fmt.Errorf("%w: offset delta", batch.ErrRecord)
	}
	r.offDelta, q = int32(od), q[k:]
	kl, k := binary.Varint(q)
	if k <= 0 || kl < -1 || kl > int64(len(q)-k) {
		return r, nil, fmt.Errorf("%w: key", batch.ErrRecord)
	}
	q = q[k:]
	if kl >= 0 {
		r.key, r.hasKey, q = q[:kl], true, q[kl:]
	}
	vl, k := binary.Varint(q)
	if k <= 0 || vl < -1 || vl > int64(len(q)-k) {
		return r, nil, fmt.Errorf("%w: value", batch.ErrRecord)
	}
	r.hasValue = vl >= 0
	return r, p[end:], nil
}

// appendRebased appends r with its timestamp delta replaced.
func appendRebased(dst []byte, r *cleanRecord, tsDelta int64) []byte {
	var tb [binary.MaxVarintLen64]byte
	tn := binary.PutVarint(tb[:], tsDelta)
	dst = binary.AppendVarint(dst, int64(1+tn+len(r.rest)))
	dst = append(dst, r.attrs)
	dst = append(dst, tb[:tn]...)
	return append(dst, r.rest...)
}

// appendBatchHeader appends a v2 batch header with h's fields; the length
// and CRC are set by finishBatch. The layout is Kafka's
// (DefaultRecordBatch).
func appendBatchHeader(dst []byte, h *batch.Header) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.BaseOffset))
	dst = binary.BigEndian.AppendUint32(dst, 0) // length
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.PartitionLeaderEpoch))
	dst = append(dst, 2)                        // magic
	dst = binary.BigEndian.AppendUint32(dst, 0) // CRC
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.Attributes))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.BaseTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.ProducerID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.BaseSequence))
	return binary.BigEndian.AppendUint32(dst, uint32(h.NumRecords))
}

// finishBatch sets the length field of the batch b and its CRC.
func finishBatch(b []byte) {
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-batch.LogOverhead))
	batch.UpdateCRC(b)
}

// offsetMap is the cleaner's key -> latest offset map (Kafka's
// SkimpyOffsetMap): keys are stored as 128-bit hashes, so its memory is
// bounded by the entry count whatever the key sizes. A hash collision
// makes the older of two keys look superseded, as in Kafka (which uses
// MD5); at 128 bits that is not a practical concern.
type offsetMap struct {
	s1, s2 maphash.Seed
	m      map[[2]uint64]int64
	limit  int // entries the dedupe buffer allows
}

// mapEntryBytes is the memory accounted per entry: a 16-byte hash and an
// 8-byte offset plus the Go map's overhead.
const mapEntryBytes = 32

func newOffsetMap(limit int) *offsetMap {
	return &offsetMap{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), m: make(map[[2]uint64]int64), limit: max(limit, 1)}
}

func (o *offsetMap) hash(key []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(o.s1, key), maphash.Bytes(o.s2, key)}
}

// put records off for the key hash h unless a later offset is known.
func (o *offsetMap) put(h [2]uint64, off int64) {
	if cur, ok := o.m[h]; !ok || off > cur {
		o.m[h] = off
	}
}

func (o *offsetMap) get(key []byte) (int64, bool) {
	off, ok := o.m[o.hash(key)]
	return off, ok
}
