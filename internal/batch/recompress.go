package batch

import (
	"encoding/binary"
	"fmt"
)

// Recompress returns a new batch holding b's records compressed with to.
// Every header field is kept (base offset, partition leader epoch,
// timestamps, producer fields, attributes other than the codec bits); the
// length and CRC are recomputed. b should have passed Validate; Recompress
// still checks the header fields it relies on, decompresses at most
// maxDecompressed bytes, and requires the records section to hold exactly
// NumRecords well-formed records, so a batch whose records are garbage is
// refused rather than re-wrapped.
//
// The broker calls it when a topic's compression.type names a codec
// ("uncompressed" meaning CodecNone) that differs from the producer's;
// compression.type=producer never recompresses.
func Recompress(b []byte, to Codec, maxDecompressed int) ([]byte, error) {
	if to < CodecNone || to > CodecZstd {
		return nil, ErrCodec
	}
	h, raw, err := recordsSection(b, maxDecompressed)
	if err != nil {
		return nil, err
	}
	if err := checkRecords(raw, h.NumRecords); err != nil {
		return nil, fmt.Errorf("recompress: %w", err)
	}
	out := make([]byte, HeaderSize, HeaderSize+len(raw)/2+64)
	copy(out, b[:HeaderSize])
	if out, err = Compress(to, out, raw); err != nil {
		return nil, err
	}
	attrs := uint16(h.Attributes)&^CompressionMask | uint16(to)
	binary.BigEndian.PutUint16(out[posAttributes:], attrs)
	finish(out)
	return out, nil
}
