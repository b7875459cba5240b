package restproxy

import (
	stdbase64 "encoding/base64"

	asmbase64 "github.com/segmentio/asm/base64"
)

// The BINARY data of streaming produce is base64-decoded by
// github.com/segmentio/asm/base64, which decodes 32 characters at a time
// with AVX2 (NEON on arm64) and leaves what it does not take (the last
// quantum, padding, any byte outside the alphabet) to encoding/base64; on
// other CPUs it is encoding/base64. On 1 KiB values it is about ten
// times as fast as encoding/base64.
//
// Its errors give offsets into the part encoding/base64 saw, so any error
// is answered by encoding/base64 decoding the whole input again: answers
// are exactly encoding/base64's (FuzzDecodeBase64 checks it).

// decodeBase64 decodes src (standard encoding, padded) into dst, which
// holds base64.StdEncoding.DecodedLen(len(src)) bytes, exactly as
// base64.StdEncoding.Decode does.
func decodeBase64(dst, src []byte) (int, error) {
	n, err := asmbase64.StdEncoding.Decode(dst, src)
	if err != nil {
		return stdbase64.StdEncoding.Decode(dst, src) // its error, at its offset
	}
	return n, nil
}

// base64Len is how many bytes src decodes to if it holds only characters
// of the alphabet and padding; -1 if its length is not a multiple of 4.
func base64Len(src []byte) int {
	if len(src)%4 != 0 {
		return -1
	}
	n := len(src) / 4 * 3
	for i := len(src) - 1; i >= 0 && i >= len(src)-2 && src[i] == '='; i-- {
		n--
	}
	return n
}
