package schemaavro

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// defaultKey is a memo key of defaults.valid.
type defaultKey struct {
	n   *node
	v   *jval
	top bool
}

// defaults checks default values. Verdicts are memoised: a record's
// default takes the defaults of the fields it omits, which may take
// others, and without the memo nested records would cost exponential time.
type defaults struct {
	memo map[defaultKey]bool
}

// validDefault is Avro Java's (1.12) Schema.isValidDefault: whether the
// JSON value v is a valid default for a field of type n. A union's
// default may match any branch. top marks a field's own default, where
// Avro Java also accepts a string for a float or double ("NaN").
func validDefault(n *node, v *jval) bool {
	d := &defaults{memo: map[defaultKey]bool{}}
	return d.valid(n, v, true, 0)
}

func (d *defaults) valid(n *node, v *jval, top bool, depth int) bool {
	k := defaultKey{n, v, top}
	if ok, seen := d.memo[k]; seen {
		return ok
	}
	d.memo[k] = false // a default that needs itself is not valid
	ok := d.check(n, v, top, depth)
	d.memo[k] = ok
	return ok
}

func (d *defaults) check(n *node, v *jval, top bool, depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	switch n.kind {
	case kString, kBytes, kEnum, kFixed:
		return v.kind == jString
	case kInt:
		return integral(v, 32)
	case kLong:
		return integral(v, 64)
	case kFloat, kDouble:
		if top && v.kind == jString {
			_, err := strconv.ParseFloat(javaFloatText(v.s), 64)
			return err == nil
		}
		return v.kind == jNumber
	case kBoolean:
		return v.kind == jBool
	case kNull:
		return v.kind == jNull
	case kArray:
		if v.kind != jArray {
			return false
		}
		for _, e := range v.arr {
			if !d.valid(n.items, e, false, depth+1) {
				return false
			}
		}
		return true
	case kMap:
		if v.kind != jObject {
			return false
		}
		for _, m := range v.obj {
			if !d.valid(n.items, m.val, false, depth+1) {
				return false
			}
		}
		return true
	case kUnion:
		for _, b := range n.branches {
			if d.valid(b, v, false, depth+1) {
				return true
			}
		}
		return false
	case kRecord:
		return d.validRecord(n, v, depth)
	}
	return false
}

func (d *defaults) validRecord(n *node, v *jval, depth int) bool {
	if v.kind != jObject {
		return false
	}
	for _, f := range n.fields {
		fv := v.get(f.name)
		if fv == nil {
			fv = f.def
		}
		if fv == nil || !d.valid(f.typ, fv, false, depth+1) {
			return false
		}
	}
	return true
}

// integral reports whether v is an integer literal that fits in bits.
func integral(v *jval, bits int) bool {
	if v.kind != jNumber || strings.ContainsAny(v.s, ".eE") {
		return false
	}
	i, ok := new(big.Int).SetString(v.s, 10)
	if !ok || !i.IsInt64() {
		return false
	}
	if bits == 32 {
		return i.Int64() >= math.MinInt32 && i.Int64() <= math.MaxInt32
	}
	return true
}

// javaFloatText maps Java's spellings of the special doubles to Go's.
func javaFloatText(s string) string {
	switch s {
	case "NaN":
		return "NaN"
	case "Infinity", "+Infinity":
		return "+Inf"
	case "-Infinity":
		return "-Inf"
	}
	if strings.ContainsAny(strings.ToLower(s), "ni") { // Go's inf/nan spellings are not Java's
		return "x"
	}
	return strings.TrimSpace(s)
}

// jsonText renders v compactly for an error message, shortened.
func jsonText(v *jval) string {
	var b bytes.Buffer
	writeJSON(&b, v, false)
	s := b.String()
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// javaDoubleDefault is what Avro Java makes of a float or double field's
// default given as a string: it parses it (Double.parseDouble) and keeps
// the number, which Jackson writes as Double.toString does, or as a
// quoted "NaN", "Infinity" or "-Infinity". ok is false when s is no
// number.
func javaDoubleDefault(s string) (v *jval, ok bool) {
	f, err := strconv.ParseFloat(javaFloatText(s), 64)
	if err != nil {
		return nil, false
	}
	switch {
	case math.IsNaN(f):
		return &jval{kind: jString, s: "NaN"}, true
	case math.IsInf(f, 1):
		return &jval{kind: jString, s: "Infinity"}, true
	case math.IsInf(f, -1):
		return &jval{kind: jString, s: "-Infinity"}, true
	}
	return &jval{kind: jNumber, s: javaDoubleString(f)}, true
}

// javaDoubleString formats f as Java's Double.toString: plain decimal
// with at least one fractional digit for 1e-3 <= |f| < 1e7, else
// "d.dddE[-]n".
func javaDoubleString(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1.5e+10, 2e-05
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
