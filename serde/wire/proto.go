package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MaxProtoIndexes bounds the message indexes ParseProtoIndexes accepts: a
// message nested deeper than this is not one a schema would define (the
// registry's Protobuf parser bounds nesting likewise).
const MaxProtoIndexes = 64

// ErrIndexes reports malformed Protobuf message indexes.
var ErrIndexes = errors.New("wire: malformed protobuf message indexes")

// AppendProtoIndexes appends the message indexes idx to dst: a zig-zag
// varint count, then each index as a zig-zag varint, except that [0] (and
// an empty idx, which names the same first message) is the single byte
// 0x00. Indexes are written as given; ParseProtoIndexes refuses negative
// ones.
func AppendProtoIndexes(dst []byte, idx []int) []byte {
	if len(idx) == 0 || len(idx) == 1 && idx[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(idx)))
	for _, i := range idx {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}

// ParseProtoIndexes reads the message indexes at the start of b (the bytes
// after a header) and returns them with the rest of b, the Protobuf
// message. A count of zero is [0]. The count must be at most
// MaxProtoIndexes and at most the bytes left (an index takes at least
// one); indexes must lie in [0, math.MaxInt32].
func ParseProtoIndexes(b []byte) (idx []int, rest []byte, err error) {
	n, k := binary.Varint(b)
	switch {
	case k == 0:
		return nil, nil, fmt.Errorf("%w: no index count", ErrIndexes)
	case k < 0:
		return nil, nil, fmt.Errorf("%w: the index count overflows 64 bits", ErrIndexes)
	case n == 0:
		return []int{0}, b[k:], nil
	case n < 0:
		return nil, nil, fmt.Errorf("%w: negative index count %d", ErrIndexes, n)
	case n > MaxProtoIndexes:
		return nil, nil, fmt.Errorf("%w: %d indexes, at most %d are accepted", ErrIndexes, n, MaxProtoIndexes)
	case n > int64(len(b)-k):
		return nil, nil, fmt.Errorf("%w: %d indexes but only %d bytes follow the count", ErrIndexes, n, len(b)-k)
	}
	b = b[k:]
	idx = make([]int, n)
	for i := range idx {
		v, k := binary.Varint(b)
		switch {
		case k == 0:
			return nil, nil, fmt.Errorf("%w: index %d of %d is missing", ErrIndexes, i, n)
		case k < 0:
			return nil, nil, fmt.Errorf("%w: index %d overflows 64 bits", ErrIndexes, i)
		case v < 0 || v > math.MaxInt32:
			return nil, nil, fmt.Errorf("%w: index %d is %d, outside [0, %d]", ErrIndexes, i, v, math.MaxInt32)
		}
		idx[i], b = int(v), b[k:]
	}
	return idx, b, nil
}
