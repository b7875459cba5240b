package convert

import (
	"encoding/base64"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/samsa-streaming/samsa/connect"
)

// This file writes JSON text as Jackson does for Kafka's JsonConverter:
// no whitespace, strings escaped only where JSON requires it (control
// characters as \uXXXX with upper-case hex, except \b \t \n \f \r), doubles
// and floats as Java's Double.toString / Float.toString, NaN and the
// infinities quoted (Jackson's QUOTE_NON_NUMERIC_NUMBERS), binary as
// standard padded base64, BigDecimal as BigDecimal.toString.

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			const hex = "0123456789ABCDEF"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
	}
	return append(b, '"')
}

func appendBase64(b []byte, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// appendJavaFloat appends f as Jackson writes a Java double (bits 64) or
// float (bits 32).
func appendJavaFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return append(b, JavaFloatString(f, bits)...)
}

// JavaFloatString formats f as Java's Double.toString (bits 64) or
// Float.toString (bits 32): the shortest digits that round-trip, plain
// notation with at least one fractional digit for 1e-3 ≤ |f| < 1e7,
// otherwise computerized scientific notation such as 1.0E10 or 1.5E-4.
func JavaFloatString(f float64, bits int) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// 'e' with shortest precision: d.dddde±XX
	s := strconv.FormatFloat(f, 'e', -1, bits)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -3 && exp < 7 {
		if exp >= 0 {
			intPart := digits
			frac := ""
			if len(digits) > exp+1 {
				intPart, frac = digits[:exp+1], digits[exp+1:]
			} else {
				intPart = digits + strings.Repeat("0", exp+1-len(digits))
			}
			if frac == "" {
				frac = "0"
			}
			out = intPart + "." + frac
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		frac := digits[1:]
		if frac == "" {
			frac = "0"
		}
		out = digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
	}
	if neg {
		return "-" + out
	}
	return out
}

// DecimalString renders d as Java's BigDecimal.toString: plain when the
// scale is not negative and the adjusted exponent is at least -6,
// otherwise scientific (1.2345E+6, 1E-10).
func DecimalString(d connect.Decimal) string {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	coeff := new(big.Int).Abs(u).String()
	neg := u.Sign() < 0
	scale := int64(d.Scale)
	adjusted := -scale + int64(len(coeff)-1)
	var out string
	if scale >= 0 && adjusted >= -6 {
		switch {
		case scale == 0:
			out = coeff
		case int64(len(coeff)) > scale:
			out = coeff[:int64(len(coeff))-scale] + "." + coeff[int64(len(coeff))-scale:]
		default:
			out = "0." + strings.Repeat("0", int(scale-int64(len(coeff)))) + coeff
		}
	} else {
		out = coeff[:1]
		if len(coeff) > 1 {
			out += "." + coeff[1:]
		}
		out += "E"
		if adjusted >= 0 {
			out += "+"
		}
		out += strconv.FormatInt(adjusted, 10)
	}
	if neg {
		return "-" + out
	}
	return out
}

// ParseDecimal reads a JSON or Java number literal as Java's
// new BigDecimal(text) does, keeping the literal's own scale.
func ParseDecimal(s string) (connect.Decimal, bool) {
	if len(s) > 4096 {
		return connect.Decimal{}, false
	}
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return connect.Decimal{}, false
		}
		mant, exp = s[:i], e
	}
	scale := int64(0)
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale = int64(len(mant) - i - 1)
		mant = mant[:i] + mant[i+1:]
	}
	if mant == "" || mant == "-" || mant == "+" {
		return connect.Decimal{}, false
	}
	u, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return connect.Decimal{}, false
	}
	scale -= exp
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return connect.Decimal{}, false
	}
	return connect.Decimal{Unscaled: u, Scale: int32(scale)}, true
}

// TwosComplement returns x as Java's BigInteger.toByteArray: big-endian
// two's complement in the fewest bytes (at least one).
func TwosComplement(x *big.Int) []byte {
	if x == nil || x.Sign() == 0 {
		return []byte{0}
	}
	if x.Sign() > 0 {
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -x - 1, inverted.
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// FromTwosComplement is Java's new BigInteger(byte[]); it needs at least
// one byte.
func FromTwosComplement(b []byte) (*big.Int, bool) {
	if len(b) == 0 {
		return nil, false
	}
	x := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return x, true
}

func bigPow10(n int64) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil)
}
