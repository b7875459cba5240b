package schemajson

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// Value classes, disjoint: "number" is tInt|tFrac, "integer" is tInt.
const (
	tNull = 1 << iota
	tBool
	tInt
	tFrac
	tString
	tArray
	tObject

	tNumber = tInt | tFrac
	tAll    = tNull | tBool | tNumber | tString | tArray | tObject
)

func typesOf(s *sch) int {
	if s.Types == nil {
		return tAll
	}
	t := 0
	for _, name := range s.Types.ToStrings() {
		switch name {
		case "null":
			t |= tNull
		case "boolean":
			t |= tBool
		case "integer":
			t |= tInt
		case "number":
			t |= tNumber
		case "string":
			t |= tString
		case "array":
			t |= tArray
		case "object":
			t |= tObject
		}
	}
	return t
}

func classOf(v any) int {
	switch v := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBool
	case json.Number:
		if r, ok := new(big.Rat).SetString(string(v)); ok && r.IsInt() {
			return tInt
		}
		return tFrac
	case string:
		return tString
	case []any:
		return tArray
	case map[string]any:
		return tObject
	}
	return tAll
}

// writerTypes is the set of value classes a writer conjunction can
// produce, from its types, enums and consts.
func writerTypes(ws []*sch) int {
	t := tAll
	for _, w := range ws {
		t &= typesOf(w)
		if w.Enum != nil {
			e := 0
			for _, v := range w.Enum.Values {
				e |= classOf(v)
			}
			t &= e
		}
		if w.Const != nil {
			t &= classOf(*w.Const)
		}
	}
	return t
}

func typeString(t int) string {
	if t == tAll {
		return "any"
	}
	var names []string
	for _, c := range []struct {
		bits int
		name string
	}{{tNull, "null"}, {tBool, "boolean"}, {tInt, "integer"}, {tFrac, "number"}, {tString, "string"}, {tArray, "array"}, {tObject, "object"}} {
		if t&c.bits == 0 || (c.bits == tInt && t&tFrac != 0) {
			continue
		}
		names = append(names, c.name)
	}
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return "[" + strings.Join(names, " ") + "]"
}

// types checks the reader's "type".
func (c *checker) types(r *sch, ws []*sch) []inc {
	if r.Types == nil {
		return nil
	}
	rt, wt := typesOf(r), writerTypes(ws)
	missing := wt &^ rt
	if wt == 0 || missing == 0 {
		return nil
	}
	i := inc{Path: "/type", Rule: ruleTypeNarrowed, Reader: typeString(rt), Writer: typeString(wt),
		Detail: fmt.Sprintf("The writer's %s values are not accepted by the reader's type %s.", typeString(missing), typeString(rt))}
	if wt&rt == 0 {
		i.Rule = ruleTypeChanged
	}
	return []inc{i}
}

// finiteValues returns the values a writer conjunction with an enum or
// const (or of nulls and booleans only) can produce: the smallest such
// list, filtered by the whole conjunction.
func (c *checker) finiteValues(ws []*sch) ([]any, bool) {
	if !c.validates {
		return nil, false
	}
	var cand []any
	found := false
	for _, w := range ws {
		var vs []any
		switch {
		case w.Const != nil:
			vs = []any{*w.Const}
		case w.Enum != nil:
			vs = w.Enum.Values
		default:
			continue
		}
		if !found || len(vs) < len(cand) {
			cand, found = vs, true
		}
	}
	if !found {
		// A writer of nulls and booleans only is finite too.
		t := writerTypes(ws)
		if t&^(tNull|tBool) != 0 {
			return nil, false
		}
		if t&tNull != 0 {
			cand = append(cand, nil)
		}
		if t&tBool != 0 {
			cand = append(cand, false, true)
		}
	}
	if len(cand) > maxFinite || !c.spend(len(cand)*len(ws)) {
		return nil, false
	}
	var out []any
	for _, v := range cand {
		ok := true
		for _, w := range ws {
			if w.Validate(v) != nil {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, true
}

func (c *checker) allValid(r *sch, vals []any) bool {
	if !c.spend(len(vals)) {
		return false
	}
	for _, v := range vals {
		if r.Validate(v) != nil {
			return false
		}
	}
	return true
}

// enumConst checks the reader's "enum" and "const".
func (c *checker) enumConst(r *sch, ws []*sch) []inc {
	if r.Enum == nil && r.Const == nil {
		return nil
	}
	vals, finite := c.finiteValues(ws)
	var res []inc
	if r.Enum != nil {
		res = append(res, enumCheck(r.Enum.Values, vals, finite)...)
	}
	if r.Const != nil {
		cv := *r.Const
		switch {
		case !finite:
			res = append(res, inc{Path: "/const", Rule: ruleConstAdded, Reader: fmtValue(cv),
				Detail: "The reader allows one value where the writer allows many."})
		default:
			for _, v := range vals {
				if !equalJSON(v, cv) {
					res = append(res, inc{Path: "/const", Rule: ruleConstChanged, Reader: fmtValue(cv), Writer: fmtValues(vals),
						Detail: fmt.Sprintf("The writer's value %s is not the reader's const.", fmtValue(v))})
					break
				}
			}
		}
	}
	return res
}

func enumCheck(rvals, wvals []any, finite bool) []inc {
	if !finite {
		return []inc{{Path: "/enum", Rule: ruleEnumAdded, Reader: fmtValues(rvals),
			Detail: "The reader restricts to an enumeration values the writer does not restrict."}}
	}
	var missing []any
	for _, v := range wvals {
		if !containsJSON(rvals, v) {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	i := inc{Path: "/enum", Rule: ruleEnumNarrowed, Reader: fmtValues(rvals), Writer: fmtValues(wvals),
		Detail: fmt.Sprintf("The writer's values %s are missing from the reader's enum.", fmtValues(missing))}
	if len(missing) == len(wvals) {
		i.Rule = ruleEnumChanged
	}
	return []inc{i}
}

func containsJSON(vs []any, v any) bool {
	for _, x := range vs {
		if equalJSON(x, v) {
			return true
		}
	}
	return false
}

// equalJSON is JSON Schema equality: numbers by value, objects
// regardless of member order.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			if bv, ok := bm[k]; !ok || !equalJSON(v, bv) {
				return false
			}
		}
		return true
	case []any:
		ba, ok := b.([]any)
		if !ok || len(a) != len(ba) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], ba[i]) {
				return false
			}
		}
		return true
	case json.Number:
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, ok1 := new(big.Rat).SetString(string(a))
		y, ok2 := new(big.Rat).SetString(string(bn))
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	return a == b
}

func fmtValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// fmtValues renders values as "[a b 1]": strings bare, others as JSON.
func fmtValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if s, ok := v.(string); ok {
			parts[i] = s
		} else {
			parts[i] = fmtValue(v)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// strings checks the reader's string keywords, when the writer can
// produce strings.
func (c *checker) strings(r *sch, ws []*sch) []inc {
	if writerTypes(ws)&tString == 0 {
		return nil
	}
	var res []inc
	res = append(res, lowerInt("/minLength", r.MinLength, ws, func(w *sch) *int { return w.MinLength },
		ruleMinLengthAdded, ruleMinLengthIncreased, "length")...)
	res = append(res, upperInt("/maxLength", r.MaxLength, ws, func(w *sch) *int { return w.MaxLength },
		ruleMaxLengthAdded, ruleMaxLengthDecreased, "length")...)
	if r.Pattern != nil {
		res = append(res, sameName("/pattern", r.Pattern.String(), ws, func(w *sch) string {
			if w.Pattern == nil {
				return ""
			}
			return w.Pattern.String()
		}, rulePatternAdded, rulePatternChanged)...)
	}
	if r.Format != nil {
		res = append(res, sameName("/format", r.Format.Name, ws, func(w *sch) string {
			if w.Format == nil {
				return ""
			}
			return w.Format.Name
		}, ruleFormatAdded, ruleFormatChanged)...)
	}
	return res
}

// sameName passes when some writer conjunct has the reader's value (a
// pattern's source, a format's name).
func sameName(path, rv string, ws []*sch, get func(*sch) string, added, changed string) []inc {
	var wv string
	for _, w := range ws {
		v := get(w)
		if v == rv {
			return nil
		}
		if v != "" && wv == "" {
			wv = v
		}
	}
	kw := path[1:]
	if wv == "" {
		return []inc{{Path: path, Rule: added, Reader: rv,
			Detail: fmt.Sprintf("The reader adds %s %q, which the writer's strings need not match.", kw, rv)}}
	}
	return []inc{{Path: path, Rule: changed, Reader: rv, Writer: wv,
		Detail: fmt.Sprintf("The reader's %s %q differs from the writer's %q.", kw, rv, wv)}}
}

// lowerInt checks a reader lower bound (minLength, minItems, ...)
// against the writer's tightest one. A reader bound of 0 is no bound.
func lowerInt(path string, rv *int, ws []*sch, get func(*sch) *int, added, increased, what string) []inc {
	if rv == nil || *rv <= 0 {
		return nil
	}
	var wv *int
	for _, w := range ws {
		if v := get(w); v != nil && (wv == nil || *v > *wv) {
			wv = v
		}
	}
	if wv == nil {
		return []inc{{Path: path, Rule: added, Reader: fmt.Sprint(*rv),
			Detail: fmt.Sprintf("The reader requires a minimum %s of %d, which the writer does not.", what, *rv)}}
	}
	if *wv < *rv {
		return []inc{{Path: path, Rule: increased, Reader: fmt.Sprint(*rv), Writer: fmt.Sprint(*wv),
			Detail: fmt.Sprintf("The reader's minimum %s %d is above the writer's %d.", what, *rv, *wv)}}
	}
	return nil
}

// upperInt checks a reader upper bound (maxLength, maxItems, ...).
func upperInt(path string, rv *int, ws []*sch, get func(*sch) *int, added, decreased, what string) []inc {
	if rv == nil {
		return nil
	}
	var wv *int
	for _, w := range ws {
		if v := get(w); v != nil && (wv == nil || *v < *wv) {
			wv = v
		}
	}
	if wv == nil {
		return []inc{{Path: path, Rule: added, Reader: fmt.Sprint(*rv),
			Detail: fmt.Sprintf("The reader limits the %s to %d, which the writer does not.", what, *rv)}}
	}
	if *wv > *rv {
		return []inc{{Path: path, Rule: decreased, Reader: fmt.Sprint(*rv), Writer: fmt.Sprint(*wv),
			Detail: fmt.Sprintf("The reader's maximum %s %d is below the writer's %d.", what, *rv, *wv)}}
	}
	return nil
}

// bound is a numeric bound, exclusive or not.
type bound struct {
	v    *big.Rat
	excl bool
}

// writerBound is the writer's tightest lower (upper when upper) bound.
func writerBound(ws []*sch, upper bool) *bound {
	var b *bound
	consider := func(v *big.Rat, excl bool) {
		if v == nil {
			return
		}
		cmp := 0
		if b != nil {
			cmp = v.Cmp(b.v)
			if upper {
				cmp = -cmp
			}
		}
		if b == nil || cmp > 0 || (cmp == 0 && excl) {
			b = &bound{v, excl}
		}
	}
	for _, w := range ws {
		if upper {
			consider(w.Maximum, false)
			consider(w.ExclusiveMaximum, true)
		} else {
			consider(w.Minimum, false)
			consider(w.ExclusiveMinimum, true)
		}
	}
	return b
}

// numbers checks the reader's numeric keywords, when the writer can
// produce numbers.
func (c *checker) numbers(r *sch, ws []*sch) []inc {
	wt := writerTypes(ws)
	if wt&tNumber == 0 {
		return nil
	}
	lo, hi := writerBound(ws, false), writerBound(ws, true)
	var res []inc
	res = append(res, numBound("/minimum", r.Minimum, false, lo, false, ruleMinimumAdded, ruleMinimumIncreased)...)
	res = append(res, numBound("/exclusiveMinimum", r.ExclusiveMinimum, true, lo, false, ruleExclusiveMinimumAdded, ruleExclusiveMinimumIncreased)...)
	res = append(res, numBound("/maximum", r.Maximum, false, hi, true, ruleMaximumAdded, ruleMaximumDecreased)...)
	res = append(res, numBound("/exclusiveMaximum", r.ExclusiveMaximum, true, hi, true, ruleExclusiveMaximumAdded, ruleExclusiveMaximumDecreased)...)
	if m := r.MultipleOf; m != nil && !multipleOK(m, ws, wt) {
		i := inc{Path: "/multipleOf", Rule: ruleMultipleOfAdded, Reader: m.RatString(),
			Detail: fmt.Sprintf("The writer's numbers need not be multiples of %s.", m.RatString())}
		for _, w := range ws {
			if w.MultipleOf != nil {
				i.Rule, i.Writer = ruleMultipleOfChanged, w.MultipleOf.RatString()
				break
			}
		}
		res = append(res, i)
	}
	return res
}

// numBound checks one reader bound rv (exclusive when rex) against the
// writer's bound wb on the same side.
func numBound(path string, rv *big.Rat, rex bool, wb *bound, upper bool, added, tightened string) []inc {
	if rv == nil {
		return nil
	}
	if wb == nil {
		return []inc{{Path: path, Rule: added, Reader: rv.RatString(),
			Detail: fmt.Sprintf("The reader adds %s %s, which the writer does not have.", path[1:], rv.RatString())}}
	}
	cmp := wb.v.Cmp(rv) // > 0: writer's bound is inside the reader's
	if upper {
		cmp = -cmp
	}
	if cmp > 0 || (cmp == 0 && (!rex || wb.excl)) {
		return nil
	}
	w := wb.v.RatString()
	if wb.excl {
		w = "exclusive " + w
	}
	return []inc{{Path: path, Rule: tightened, Reader: rv.RatString(), Writer: w,
		Detail: fmt.Sprintf("The reader's %s %s excludes numbers the writer's bound %s allows.", path[1:], rv.RatString(), w)}}
}

// multipleOK: every writer number is a multiple of m.
func multipleOK(m *big.Rat, ws []*sch, wt int) bool {
	if m.Sign() <= 0 {
		return false
	}
	divides := func(k *big.Rat) bool { return new(big.Rat).Quo(k, m).IsInt() }
	if wt&tFrac == 0 && divides(big.NewRat(1, 1)) {
		return true
	}
	for _, w := range ws {
		if w.MultipleOf != nil && divides(w.MultipleOf) {
			return true
		}
	}
	return false
}
