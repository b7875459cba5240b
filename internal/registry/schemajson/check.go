package schemajson

import (
	"fmt"
	"slices"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Bounds on one Check.
const (
	maxCheckDepth = 200   // nested sub calls
	maxCheckCalls = 50000 // sub calls in all
	maxConjuncts  = 64    // schemas in one writer conjunction
	maxAlts       = 64    // writer alternatives expanded from anyOf/oneOf
	maxFinite     = 1000  // enum values checked one by one
)

type (
	sch = jsonschema.Schema
	inc = schema.Incompatibility
)

// Check reports why some document valid under writer is not valid under
// reader. Both must come from this package's Parse.
func (Handler) Check(reader, writer schema.Schema) []schema.Incompatibility {
	r, ok1 := reader.(*Schema)
	w, ok2 := writer.(*Schema)
	if !ok1 || !ok2 {
		return []inc{{Path: "#", Rule: ruleSchemaNotJSON, Detail: "Both schemas must be JSON schemas."}}
	}
	c := &checker{memo: map[string]*memoEntry{}}
	res := c.sub(r.compiled, []*sch{w.compiled})
	// A bound hit inside a trial comparison (whose result was dropped)
	// still makes the verdict incompatible.
	if c.calls > maxCheckCalls {
		res = append(res, tooComplex())
	}
	if c.tooDeep {
		res = append(res, tooDeep())
	}
	out := make([]inc, 0, len(res))
	seen := map[inc]bool{}
	for _, i := range res {
		if !isAbsPath(i.Path) {
			i.Path = "#" + i.Path
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// checker holds one Check's state. sub(R, ws) answers "is every document
// valid under all of ws valid under R?" and returns the reasons it is
// not, with paths relative to R (or absolute, after a $ref).
type checker struct {
	memo      map[string]*memoEntry
	depth     int
	calls     int
	exhausted bool
	tooDeep   bool
}

func tooComplex() inc {
	return inc{Path: "#", Rule: ruleCheckTooComplex,
		Detail: fmt.Sprintf("The schemas needed more than %d comparison steps; they are treated as incompatible.", maxCheckCalls)}
}

func tooDeep() inc {
	return inc{Path: "#", Rule: ruleCheckTooDeep,
		Detail: fmt.Sprintf("The comparison nested deeper than %d levels; the schemas are treated as incompatible.", maxCheckDepth)}
}

type memoEntry struct {
	done bool
	res  []inc
}

func (c *checker) sub(r *sch, w []*sch) []inc {
	ws, empty := flatten(w)
	if empty || r == nil {
		return nil
	}
	if r.Bool != nil {
		if *r.Bool {
			return nil
		}
		return []inc{{Path: "", Rule: ruleSchemaFalse, Reader: "false", Writer: typeString(writerTypes(ws)),
			Detail: "The reader's schema is false and rejects every document the writer's accepts."}}
	}
	if len(ws) == 1 && ws[0] == r {
		return nil
	}
	if !c.spend(1) {
		if c.exhausted {
			return nil
		}
		c.exhausted = true
		return []inc{tooComplex()}
	}
	if c.depth >= maxCheckDepth {
		c.tooDeep = true
		return []inc{tooDeep()}
	}
	key := memoKey(r, ws)
	if e, ok := c.memo[key]; ok {
		// In progress: a cycle through $ref; assume it holds (any
		// counterexample is a finite document, found without it).
		return e.res
	}
	e := &memoEntry{}
	c.memo[key] = e
	c.depth++
	e.res = c.subUncached(r, ws)
	c.depth--
	e.done = true
	return e.res
}

// spend takes n steps from the check's budget; false when it is used up
// (the caller then answers conservatively).
func (c *checker) spend(n int) bool {
	c.calls += n
	return c.calls <= maxCheckCalls
}

func memoKey(r *sch, ws []*sch) string {
	ps := make([]string, 0, len(ws)+1)
	for _, w := range ws {
		ps = append(ps, fmt.Sprintf("%p", w))
	}
	slices.Sort(ps)
	return fmt.Sprintf("%p|", r) + strings.Join(ps, ",")
}

func (c *checker) subUncached(r *sch, ws []*sch) []inc {
	if vals, ok := c.finiteValues(ws); ok && c.allValid(r, vals) {
		return nil
	}
	var res []inc
	res = append(res, c.base(r, ws)...)
	wAll := writerAllOfLen(ws)
	for i, a := range r.AllOf {
		sr := c.sub(a, ws)
		if len(sr) == 0 {
			continue
		}
		p := fmt.Sprintf("/allOf/%d", i)
		if wAll > 0 && i >= wAll {
			res = append(res, inc{Path: p, Rule: ruleProductTypeExtended,
				Reader: fmt.Sprint(len(r.AllOf)), Writer: fmt.Sprint(wAll),
				Detail: "The reader's allOf has a subschema the writer's documents need not satisfy."})
			continue
		}
		res = append(res, prefix(p, sr)...)
	}
	for _, t := range refTargets(r) {
		res = append(res, absolute(t, c.sub(t, ws))...)
	}
	if len(r.AnyOf) > 0 {
		res = append(res, c.sum(r.AnyOf, "anyOf", ws)...)
	}
	if len(r.OneOf) > 0 {
		res = append(res, c.sum(r.OneOf, "oneOf", ws)...)
	}
	if r.Not != nil {
		res = append(res, c.not(r.Not, ws)...)
	}
	if r.If != nil {
		res = append(res, c.cond(r, ws)...)
	}
	return res
}

// refTargets are the schemas r references; each applies alongside r's
// own keywords. Dynamic references are followed to their static target.
func refTargets(s *sch) []*sch {
	var out []*sch
	if s.Ref != nil {
		out = append(out, s.Ref)
	}
	if s.RecursiveRef != nil {
		out = append(out, s.RecursiveRef)
	}
	if s.DynamicRef != nil && s.DynamicRef.Ref != nil {
		out = append(out, s.DynamicRef.Ref)
	}
	return out
}

// flatten expands a writer conjunction: allOf members and $ref targets
// join it, true schemas leave it. empty reports a false member: the
// writer accepts nothing. Conjuncts beyond maxConjuncts are dropped,
// which only makes the writer look more permissive (conservative).
func flatten(w []*sch) (ws []*sch, empty bool) {
	seen := map[*sch]bool{}
	queue := slices.Clone(w)
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		if s.Bool != nil {
			if !*s.Bool {
				return nil, true
			}
			continue
		}
		if len(ws) < maxConjuncts {
			ws = append(ws, s)
		}
		queue = append(queue, s.AllOf...)
		queue = append(queue, refTargets(s)...)
	}
	return ws, false
}

func writerAllOfLen(ws []*sch) int {
	for _, w := range ws {
		if len(w.AllOf) > 0 {
			return len(w.AllOf)
		}
	}
	return 0
}

// alt is one alternative of a writer conjunction with anyOf/oneOf: the
// conjunction plus one subschema of each. oneOfOwner/oneOfIndex name the
// first oneOf and which of its subschemas the alternative took.
type alt struct {
	ws         []*sch
	oneOfOwner *sch
	oneOfIndex int
}

// alternatives expands the writer's anyOf/oneOf (those directly in the
// conjunction) into alternatives; nil when there are none or too many.
func alternatives(ws []*sch) []alt {
	type dim struct {
		owner *sch
		items []*sch
		one   bool
	}
	var dims []dim
	n := 1
	for _, w := range ws {
		if len(w.AnyOf) > 0 {
			dims = append(dims, dim{w, w.AnyOf, false})
			n *= len(w.AnyOf)
		}
		if len(w.OneOf) > 0 {
			dims = append(dims, dim{w, w.OneOf, true})
			n *= len(w.OneOf)
		}
		if n > maxAlts {
			return nil
		}
	}
	if len(dims) == 0 {
		return nil
	}
	var out []alt
	idx := make([]int, len(dims))
	for {
		a := alt{ws: slices.Clone(ws), oneOfIndex: -1}
		for d, i := range idx {
			a.ws = append(a.ws, dims[d].items[i])
			if dims[d].one && a.oneOfOwner == nil {
				a.oneOfOwner, a.oneOfIndex = dims[d].owner, i
			}
		}
		if fw, empty := flatten(a.ws); !empty {
			a.ws = fw
			out = append(out, a)
		}
		d := 0
		for d < len(dims) {
			idx[d]++
			if idx[d] < len(dims[d].items) {
				break
			}
			idx[d] = 0
			d++
		}
		if d == len(dims) {
			return out
		}
	}
}

func hasSums(ws []*sch) bool {
	for _, w := range ws {
		if len(w.AnyOf) > 0 || len(w.OneOf) > 0 {
			return true
		}
	}
	return false
}

// base checks r's own keywords, group by group. A group that fails
// against the writer's conjunction is retried against each of the
// writer's alternatives: it holds if it holds for all of them.
func (c *checker) base(r *sch, ws []*sch) []inc {
	groups := []func(*sch, []*sch) []inc{
		c.types, c.enumConst, c.strings, c.numbers, c.objects, c.arrays,
	}
	var res []inc
	for _, g := range groups {
		gr := g(r, ws)
		if len(gr) == 0 || !hasSums(ws) {
			res = append(res, gr...)
			continue
		}
		alts := alternatives(ws)
		if alts == nil {
			res = append(res, gr...)
			continue
		}
		for _, a := range alts {
			res = append(res, g(r, a.ws)...)
		}
	}
	return res
}

// sum checks r's anyOf or oneOf: every writer alternative must be valid
// under one of the reader's subschemas (and, for oneOf, under no other).
func (c *checker) sum(items []*sch, kw string, ws []*sch) []inc {
	alts := alternatives(ws)
	if alts == nil {
		alts = []alt{{ws: ws, oneOfIndex: -1}}
	}
	var res []inc
	for ai, a := range alts {
		found := -1
		order := make([]int, 0, len(items))
		if ai < len(items) {
			order = append(order, ai)
		}
		for j := range items {
			if j != ai {
				order = append(order, j)
			}
		}
		for _, j := range order {
			if len(c.sub(items[j], a.ws)) == 0 {
				found = j
				break
			}
		}
		if found < 0 {
			res = append(res, c.sumMissing(items, kw, ws, ai))
			continue
		}
		if kw == "oneOf" {
			res = append(res, c.oneOfOverlaps(items, found, a)...)
		}
	}
	return res
}

func (c *checker) sumMissing(items []*sch, kw string, ws []*sch, ai int) inc {
	wLen, wKind := 0, ""
	for _, w := range ws {
		if len(w.OneOf) > 0 {
			wLen, wKind = len(w.OneOf), "oneOf"
			break
		}
		if len(w.AnyOf) > 0 {
			wLen, wKind = len(w.AnyOf), "anyOf"
			break
		}
	}
	i := inc{Path: "/" + kw, Reader: fmt.Sprintf("%s of %d", kw, len(items))}
	switch {
	case wKind == "":
		i.Rule = ruleCombinedSubschemasChanged
		i.Writer = "not combined"
		i.Detail = fmt.Sprintf("The writer's documents are valid under none of the reader's %s subschemas.", kw)
	case wKind != kw && kw == "oneOf":
		i.Rule, i.Writer = ruleCombinedTypeChanged, fmt.Sprintf("%s of %d", wKind, wLen)
		i.Detail = fmt.Sprintf("The writer's %s subschema %d is valid under none of the reader's %s subschemas.", wKind, ai, kw)
	case len(items) < wLen:
		i.Rule, i.Writer = ruleSumTypeNarrowed, fmt.Sprintf("%s of %d", wKind, wLen)
		i.Detail = fmt.Sprintf("The writer's %s subschema %d is valid under none of the reader's %d %s subschemas.", wKind, ai, len(items), kw)
	default:
		i.Rule, i.Writer = ruleCombinedSubschemasChanged, fmt.Sprintf("%s of %d", wKind, wLen)
		i.Detail = fmt.Sprintf("The writer's %s subschema %d is valid under none of the reader's %s subschemas.", wKind, ai, kw)
	}
	return i
}

// oneOfOverlaps reports reader oneOf subschemas other than the matching
// one that a writer alternative's documents might also match, which
// would make them invalid under oneOf. A subschema is safe when it is
// provably disjoint from the alternative, or when it lies inside another
// subschema of the writer's own oneOf (whose documents the writer already
// excludes from this alternative).
func (c *checker) oneOfOverlaps(items []*sch, found int, a alt) []inc {
	var res []inc
	for k, it := range items {
		if k == found || c.disjoint(it, a.ws, 0) {
			continue
		}
		safe := false
		if a.oneOfOwner != nil {
			for m, wm := range a.oneOfOwner.OneOf {
				if m != a.oneOfIndex && len(c.sub(wm, []*sch{it})) == 0 {
					safe = true
					break
				}
			}
		}
		if !safe {
			res = append(res, inc{Path: fmt.Sprintf("/oneOf/%d", k), Rule: ruleOneOfOverlap,
				Reader: fmt.Sprintf("oneOf/%d", k), Writer: fmt.Sprintf("matches oneOf/%d", found),
				Detail: fmt.Sprintf("A writer document valid under the reader's oneOf subschema %d may also be valid under subschema %d, which oneOf rejects.", found, k)})
		}
	}
	return res
}

// not checks the reader's "not": no writer document may be valid under n.
func (c *checker) not(n *sch, ws []*sch) []inc {
	if c.disjoint(n, ws, 0) {
		return nil
	}
	wNot := ""
	for _, w := range ws {
		if w.Not != nil {
			wNot = "not"
			if len(c.sub(w.Not, []*sch{n})) == 0 {
				return nil
			}
		}
	}
	return []inc{{Path: "/not", Rule: ruleNotTypeExtended, Reader: "not", Writer: wNot,
		Detail: "The reader's \"not\" rejects documents the writer's schema accepts."}}
}

// cond checks the reader's if/then/else.
func (c *checker) cond(r *sch, ws []*sch) []inc {
	okThen := r.Then == nil || len(c.sub(r.Then, ws)) == 0
	okElse := r.Else == nil || len(c.sub(r.Else, ws)) == 0
	if okThen && okElse {
		return nil
	}
	if okElse && c.disjoint(r.If, ws, 0) {
		return nil
	}
	rule := ruleConditionalAdded
	for _, w := range ws {
		if w.If == nil {
			continue
		}
		rule = ruleConditionalChanged
		if len(c.sub(r.If, []*sch{w.If})) != 0 || len(c.sub(w.If, []*sch{r.If})) != 0 {
			continue
		}
		thenOK := r.Then == nil || len(c.sub(r.Then, append(slices.Clone(ws), w.If, w.Then))) == 0
		elseOK := r.Else == nil || len(c.sub(r.Else, append(slices.Clone(ws), w.Else))) == 0
		if thenOK && elseOK {
			return nil
		}
	}
	wIf := ""
	if rule == ruleConditionalChanged {
		wIf = "if"
	}
	return []inc{{Path: "/if", Rule: rule, Reader: "if", Writer: wIf,
		Detail: "The reader's if/then/else rejects documents the writer's schema accepts."}}
}

// prefix puts p before every relative path in res.
func prefix(p string, res []inc) []inc {
	out := make([]inc, len(res))
	for i, r := range res {
		if !isAbsPath(r.Path) {
			r.Path = p + r.Path
		}
		out[i] = r
	}
	return out
}

// absolute makes the relative paths in res, found under the referenced
// schema t, absolute: t's location, "#/definitions/x" in the main
// document or "address.json#/..." in a reference.
func absolute(t *sch, res []inc) []inc {
	return prefix(location(t), res)
}

func location(t *sch) string {
	return strings.TrimPrefix(t.Location, baseURL)
}

// isAbsPath tells an absolute path (after a $ref: "#/...", "x.json#/...")
// from a relative one ("" or "/...").
func isAbsPath(p string) bool { return p != "" && p[0] != '/' }

func pathToken(name string) string { return "/" + escapePointer(name) }

// disjoint reports that no document is valid under both a and the
// conjunction ws, as far as this can tell: their value classes do not
// meet, a finite side has no value valid under the other, or (for
// objects) a property one side requires is forbidden or disjoint on the
// other. false means "maybe not disjoint".
func (c *checker) disjoint(a *sch, ws []*sch, depth int) bool {
	if !c.spend(1) {
		return false
	}
	aws, aEmpty := flatten([]*sch{a})
	wws, wEmpty := flatten(ws)
	if aEmpty || wEmpty {
		return true
	}
	at, wt := writerTypes(aws), writerTypes(wws)
	if at&wt == 0 {
		return true
	}
	if vals, ok := c.finiteValues(wws); ok && c.noneValid(aws, vals) {
		return true
	}
	if vals, ok := c.finiteValues(aws); ok && c.noneValid(wws, vals) {
		return true
	}
	if at&wt != tObject || depth >= 8 {
		return false
	}
	return c.requiredDisjoint(aws, wws, depth) || c.requiredDisjoint(wws, aws, depth)
}

// requiredDisjoint: a property xs requires is forbidden by ys, or its
// values under xs and ys are disjoint.
func (c *checker) requiredDisjoint(xs, ys []*sch, depth int) bool {
	for _, x := range xs {
		for _, p := range x.Required {
			ycons, _, forbidden := writerProp(ys, p)
			if forbidden {
				return true
			}
			if len(ycons) == 0 {
				continue
			}
			xcons, _, _ := writerProp(xs, p)
			for _, xc := range xcons {
				if c.disjoint(xc, ycons, depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// noneValid: no value is valid under all of ws.
func (c *checker) noneValid(ws []*sch, vals []any) bool {
	if !c.spend(len(vals) * len(ws)) {
		return false
	}
	for _, v := range vals {
		ok := true
		for _, w := range ws {
			if w.Validate(v) != nil {
				ok = false
				break
			}
		}
		if ok {
			return false
		}
	}
	return true
}
