package log

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/samsa-streaming/samsa/internal/batch"
)

var errBadRecords = errors.New("log: malformed records section")

// walkMaxDecompressed bounds the records section of one compressed batch
// that walkRecords decompresses (a batch is at most message.max.bytes
// compressed; this is what it may expand to).
const walkMaxDecompressed = 64 << 20

// walkRecords calls fn with the offset and timestamp of each record of a
// batch, in order, until fn returns false. A compressed batch is
// decompressed first (at most walkMaxDecompressed bytes), as Kafka's
// record iterator does. It decodes only the length, timestamp delta and
// offset delta of each record (the v2 record layout), bounding every
// length by the bytes present. For batches with LogAppendTime it reports
// the batch's max timestamp for every record, as Kafka's readers do.
func walkRecords(b []byte, h *batch.Header, fn func(offset, ts int64) bool) error {
	p := b[batch.HeaderSize:]
	if h.Codec() != batch.CodecNone {
		var err error
		if p, err = batch.Decompress(h.Codec(), p, walkMaxDecompressed); err != nil {
			return fmt.Errorf("log: batch at offset %d: %w", h.BaseOffset, err)
		}
	}
	for len(p) > 0 {
		l, n := binary.Varint(p)
		if n <= 0 || l < 0 || l > int64(len(p)-n) {
			return errBadRecords
		}
		rec := p[n : n+int(l)]
		p = p[n+int(l):]
		if len(rec) < 1 {
			return errBadRecords
		}
		rec = rec[1:] // attributes
		td, n := binary.Varint(rec)
		if n <= 0 {
			return errBadRecords
		}
		od, n := binary.Varint(rec[n:])
		if n <= 0 {
			return errBadRecords
		}
		ts := h.BaseTimestamp + td
		if h.LogAppendTime() {
			ts = h.MaxTimestamp
		}
		if !fn(h.BaseOffset+od, ts) {
			return nil
		}
	}
	return nil
}
