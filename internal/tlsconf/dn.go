package tlsconf

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrBadName is returned by FormatDN for DER that is not an RDNSequence.
var ErrBadName = errors.New("tlsconf: malformed distinguished name")

// FormatDN writes a certificate's subject (or issuer), the DER of an X.501
// RDNSequence such as x509.Certificate.RawSubject, as Java's
// X500Principal.getName() does (RFC 2253), which is what Kafka's principal
// mapping sees: the most specific RDN first ("CN=alice,OU=eng,O=Example,
// C=US"), the values of a multi-valued RDN joined by "+" in their encoded
// order, the RFC 2253 keywords CN, L, ST, O, OU, C, STREET, DC and UID, and
// any other attribute as its dotted OID with "#" and the hex of the value's
// DER. String values (PrintableString, UTF8String, IA5String, T61String,
// BMPString, GeneralString) are decoded as UTF-8, as Java does, and
// escaped as Java does: a backslash before , = + < > # ; " and \, before a
// leading or trailing space or carriage return, and NUL as \00.
func FormatDN(der []byte) (string, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return "", ErrBadName
	}
	var rdns []string
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return "", ErrBadName
		}
		var avas []string
		for !set.Empty() {
			ava, err := formatAVA(&set)
			if err != nil {
				return "", err
			}
			avas = append(avas, ava)
		}
		rdns = append(rdns, strings.Join(avas, "+"))
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		b.WriteString(rdns[i])
		if i > 0 {
			b.WriteByte(',')
		}
	}
	return b.String(), nil
}

// formatAVA reads one AttributeTypeAndValue and writes it.
func formatAVA(set *cryptobyte.String) (string, error) {
	var ava, oid, value cryptobyte.String
	var tag cbasn1.Tag
	if !set.ReadASN1(&ava, cbasn1.SEQUENCE) || !ava.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
		!ava.ReadAnyASN1Element(&value, &tag) || !ava.Empty() {
		return "", ErrBadName
	}
	dotted, err := dottedOID(oid)
	if err != nil {
		return "", err
	}
	keyword := rfc2253Keyword(dotted)
	if keyword == "" || !javaString(tag) {
		if keyword == "" {
			keyword = dotted
		}
		return keyword + "=#" + hex.EncodeToString(value), nil
	}
	var content cryptobyte.String
	if !value.ReadAnyASN1(&content, &tag) {
		return "", ErrBadName
	}
	return keyword + "=" + escapeValue(javaUTF8(content)), nil
}

// rfc2253Keyword is the RFC 2253 keyword Java writes for an OID, or "".
func rfc2253Keyword(dotted string) string {
	switch dotted {
	case "2.5.4.3":
		return "CN"
	case "2.5.4.6":
		return "C"
	case "2.5.4.7":
		return "L"
	case "2.5.4.8":
		return "ST"
	case "2.5.4.9":
		return "STREET"
	case "2.5.4.10":
		return "O"
	case "2.5.4.11":
		return "OU"
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	}
	return ""
}

// javaString reports whether Java writes a value of this tag as a string.
func javaString(tag cbasn1.Tag) bool {
	switch tag {
	case cbasn1.PrintableString, cbasn1.T61String, cbasn1.IA5String, cbasn1.GeneralString, 30 /* BMPString */, cbasn1.UTF8String:
		return true
	}
	return false
}

// dottedOID writes an OBJECT IDENTIFIER's content in dotted form.
func dottedOID(b []byte) (string, error) {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return "", ErrBadName
	}
	var parts []string
	for len(b) > 0 {
		if b[0] == 0x80 {
			return "", ErrBadName // not minimal
		}
		n := new(big.Int)
		for {
			c := b[0]
			b = b[1:]
			n.Lsh(n, 7).Or(n, big.NewInt(int64(c&0x7f)))
			if c&0x80 == 0 {
				break
			}
		}
		if parts == nil {
			first := min(n.Int64()/40, 2)
			if !n.IsInt64() {
				first = 2
			}
			parts = append(parts, big.NewInt(first).String())
			n.Sub(n, big.NewInt(40*first))
		}
		parts = append(parts, n.String())
	}
	return strings.Join(parts, "."), nil
}

// escapeValue escapes a decoded value as Java's AVA.toRFC2253String.
func escapeValue(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case strings.ContainsRune(`,=+<>#;"\`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	lead := len(s) - len(strings.TrimLeft(s, " \r"))
	trail := len(strings.TrimRight(s, " \r"))
	if lead == 0 && trail == len(s) {
		return s
	}
	if lead == len(s) {
		trail = 0
	}
	b.Reset()
	for i := 0; i < len(s); i++ {
		if i < lead || i >= trail {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// javaUTF8 decodes b as Java's new String(b, UTF_8) does, replacing
// malformed input with U+FFFD in the same places.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for i := 0; i < len(b); {
		r, n, stop := javaRune(b[i:])
		out.WriteRune(r)
		if stop {
			break
		}
		i += n
	}
	return out.String()
}

// javaRune decodes one character at the start of b (non-empty): the rune,
// the bytes consumed, and whether Java stops decoding there (a truncated
// sequence at the end).
func javaRune(b []byte) (rune, int, bool) {
	c := b[0]
	cont := func(i int) bool { return i < len(b) && b[i]&0xc0 == 0x80 }
	switch {
	case c < 0x80:
		return rune(c), 1, false
	case c >= 0xc2 && c <= 0xdf:
		if len(b) < 2 {
			return utf8.RuneError, 1, true
		}
		if !cont(1) {
			return utf8.RuneError, 1, false
		}
		return rune(c&0x1f)<<6 | rune(b[1]&0x3f), 2, false
	case c >= 0xe0 && c <= 0xef:
		return javaRune3(b)
	case c >= 0xf0 && c <= 0xf7:
		return javaRune4(b)
	}
	return utf8.RuneError, 1, false
}

func javaRune3(b []byte) (rune, int, bool) {
	c := b[0]
	overlong := func(b2 byte) bool { return c == 0xe0 && b2&0xe0 == 0x80 }
	if len(b) < 3 {
		if len(b) == 2 && (overlong(b[1]) || b[1]&0xc0 != 0x80) {
			return utf8.RuneError, 1, false
		}
		return utf8.RuneError, len(b), true
	}
	if overlong(b[1]) || b[1]&0xc0 != 0x80 {
		return utf8.RuneError, 1, false
	}
	if b[2]&0xc0 != 0x80 {
		return utf8.RuneError, 2, false
	}
	r := rune(c&0x0f)<<12 | rune(b[1]&0x3f)<<6 | rune(b[2]&0x3f)
	if r >= 0xd800 && r <= 0xdfff {
		return utf8.RuneError, 3, false
	}
	return r, 3, false
}

func javaRune4(b []byte) (rune, int, bool) {
	c := b[0]
	badSecond := func(b2 byte) bool {
		return c > 0xf4 || (c == 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (c == 0xf4 && b2&0xf0 != 0x80) || b2&0xc0 != 0x80
	}
	if len(b) < 4 {
		if c > 0xf4 || (len(b) > 1 && badSecond(b[1])) {
			return utf8.RuneError, 1, false
		}
		if len(b) > 2 && b[2]&0xc0 != 0x80 {
			return utf8.RuneError, 2, false
		}
		return utf8.RuneError, len(b), true
	}
	r := rune(c&0x07)<<18 | rune(b[1]&0x3f)<<12 | rune(b[2]&0x3f)<<6 | rune(b[3]&0x3f)
	if b[1]&0xc0 != 0x80 || b[2]&0xc0 != 0x80 || b[3]&0xc0 != 0x80 || r < 0x10000 || r > 0x10ffff {
		switch {
		case badSecond(b[1]):
			return utf8.RuneError, 1, false
		case b[2]&0xc0 != 0x80:
			return utf8.RuneError, 2, false
		}
		return utf8.RuneError, 3, false
	}
	return r, 4, false
}
