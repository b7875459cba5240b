package restproxy

import "encoding/base64"

// A base64 decoder for the BINARY data of streaming produce, about half
// as fast again as encoding/base64 on 1 KiB values: four characters are
// four lookups in tables of their bits already shifted into place, and
// one check for all of them. It decodes what has no padding and leaves
// the last quantum, and anything it does not take, to encoding/base64.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Bad marks, in a table entry, a byte outside the alphabet.
const b64Bad = 0xff000000

// b64Tables are the four tables, by position in a quantum (written at
// package initialisation, read only).
var b64Tables = func() (t [4][256]uint32) {
	for p := range t {
		for c := range t[p] {
			t[p][c] = b64Bad
		}
		for v := 0; v < len(b64Alphabet); v++ {
			t[p][b64Alphabet[v]] = uint32(v) << (18 - 6*p)
		}
	}
	return t
}()

// decodeBase64 decodes src (standard encoding, padded) into dst, which
// holds base64.StdEncoding.DecodedLen(len(src)) bytes, exactly as
// base64.StdEncoding.Decode does.
func decodeBase64(dst, src []byte) (int, error) {
	if len(src) < 8 || len(src)%4 != 0 {
		return base64.StdEncoding.Decode(dst, src)
	}
	t := &b64Tables
	body, n := len(src)-4, 0
	for i := 0; i < body; i += 4 {
		s := src[i : i+4 : i+4]
		q := t[0][s[0]] | t[1][s[1]] | t[2][s[2]] | t[3][s[3]]
		if q&b64Bad != 0 {
			return base64.StdEncoding.Decode(dst, src) // its error
		}
		o := dst[n : n+3 : n+3]
		o[0], o[1], o[2] = byte(q>>16), byte(q>>8), byte(q)
		n += 3
	}
	m, err := base64.StdEncoding.Decode(dst[n:], src[body:])
	if err != nil {
		return base64.StdEncoding.Decode(dst, src) // its error, at its offset
	}
	return n + m, nil
}
