package schemajson

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Bounds on one Check.
const (
	maxCheckDepth = 200    // nested sub calls
	maxCheckCalls = 100000 // comparison steps in all
	maxConjuncts  = 64     // schemas in one writer conjunction
	maxAlts       = 64     // writer alternatives expanded from anyOf/oneOf
	maxFinite     = 1000   // enum values checked one by one
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
	c := &checker{memo: map[string]*memoEntry{}, strip: map[*sch]*sch{}, ids: map[*sch]int{},
		validates: contextFree(r.compiled) && contextFree(w.compiled)}
	res := c.sub(r.compiled, []*sch{w.compiled})
	// A bound hit inside a trial comparison (whose result was dropped)
	// still makes the verdict incompatible.
	if c.calls > maxCheckCalls {
		res = append(res, tooComplex())
	}
	if c.tooDeep {
		res = append(res, tooDeep())
	}
	if c.cycled && len(res) > 0 {
		res = append(res, inc{Path: "#", Rule: ruleReferenceCycle,
			Detail: "A schema refers to itself at one instance location; such references were taken to accept nothing on the reader's side, which may make this verdict conservative."})
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
	level     int // document levels descended, see child
	alts      int // writer alternatives entered, see withAlt
	calls     int
	exhausted bool
	tooDeep   bool
	strip     map[*sch]*sch // stripped copies, see stripped
	ids       map[*sch]int  // see id
	validates bool          // subschemas may be validated on their own, see contextFree
	cycled    bool          // a reference cycle at one instance location was met
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
	done  bool
	level int // c.level when the comparison started
	alts  int // c.alts when the comparison started
	res   []inc
}

// child compares the schemas of a member (property, item, property
// name) of the document: one level down.
func (c *checker) child(r *sch, w []*sch) []inc {
	c.level++
	defer func() { c.level-- }()
	return c.sub(r, w)
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
	key := c.memoKey(r, ws)
	if e, ok := c.memo[key]; ok {
		if !e.done && e.level == c.level {
			// Back at the same pair without descending into the
			// document: the reader (and perhaps the writer) went
			// round a reference cycle at one instance location, which
			// the validator fails. Whether the writer's side is empty
			// too is not tracked, so the verdict is incompatible.
			c.cycled = true
			return []inc{{Path: "", Rule: ruleReferenceCycle, Reader: "$ref",
				Detail: "The reader's schema refers to itself without constraining anything, which no document satisfies."}}
		}
		// In progress: a cycle through $ref; assume it holds (any
		// counterexample is a finite document, found without it).
		return e.res
	}
	e := &memoEntry{level: c.level, alts: c.alts}
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

// memoKey names the pair (r, ws), ws as a set.
func (c *checker) memoKey(r *sch, ws []*sch) string {
	ids := make([]int, 0, len(ws))
	for _, w := range ws {
		ids = append(ids, c.id(w))
	}
	slices.Sort(ids)
	b := strconv.AppendInt(nil, int64(c.id(r)), 36)
	for _, id := range ids {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(id), 36)
	}
	return string(b)
}

// id numbers schemas in the order the check meets them.
func (c *checker) id(s *sch) int {
	if id, ok := c.ids[s]; ok {
		return id
	}
	id := len(c.ids)
	c.ids[s] = id
	return id
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
// join it, true schemas leave it, as do schemas with nothing of their own
// but references. empty reports that the writer accepts nothing: a false
// member, or a cycle through allOf/$ref (the validator fails a schema met
// again at the same instance location). Conjuncts beyond maxConjuncts are
// dropped, which only makes the writer look more permissive.
func flatten(w []*sch) (ws []*sch, empty bool) {
	done := map[*sch]bool{}
	onPath := map[*sch]bool{}
	var visit func(s *sch, depth int) bool
	visit = func(s *sch, depth int) bool {
		if s == nil || done[s] {
			return true
		}
		if onPath[s] {
			return false
		}
		if depth > maxCheckDepth {
			return true // too long a chain: drop the rest (conservative)
		}
		if s.Bool != nil {
			done[s] = true
			return *s.Bool
		}
		onPath[s] = true
		for _, t := range append(slices.Clone(s.AllOf), refTargets(s)...) {
			if !visit(t, depth+1) {
				return false
			}
		}
		delete(onPath, s)
		done[s] = true
		if len(ws) < maxConjuncts && !onlyRefs(s) {
			ws = append(ws, s)
		}
		return true
	}
	for _, s := range w {
		if !visit(s, 0) {
			return nil, true
		}
	}
	return ws, false
}

// onlyRefs: s asserts nothing of its own beyond its $ref targets (which
// flatten adds), so it need not be a conjunct. Keeping such schemas out
// keeps the memo keys of equivalent conjunctions equal.
func onlyRefs(s *sch) bool {
	return s.Types == nil && s.Enum == nil && s.Const == nil && s.Not == nil &&
		len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0 && s.If == nil && s.Format == nil &&
		s.MaxProperties == nil && s.MinProperties == nil && len(s.Required) == 0 && s.PropertyNames == nil &&
		s.Properties == nil && s.PatternProperties == nil && s.AdditionalProperties == nil &&
		s.Dependencies == nil && s.DependentRequired == nil && s.DependentSchemas == nil &&
		s.UnevaluatedProperties == nil && s.MinItems == nil && s.MaxItems == nil && !s.UniqueItems &&
		s.Contains == nil && s.Items == nil && s.AdditionalItems == nil && s.PrefixItems == nil &&
		s.Items2020 == nil && s.UnevaluatedItems == nil && s.MinLength == nil && s.MaxLength == nil &&
		s.Pattern == nil && s.ContentEncoding == nil && s.ContentMediaType == nil && s.ContentSchema == nil &&
		s.Maximum == nil && s.Minimum == nil && s.ExclusiveMaximum == nil && s.ExclusiveMinimum == nil &&
		s.MultipleOf == nil && len(s.Extensions) == 0
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
// conjunction with the chosen subschemas in place of the combinations.
// index is the subschema taken from the first combination (for messages);
// oneOfOwner/oneOfIndex name the first oneOf and the subschema taken.
type alt struct {
	ws         []*sch
	index      int
	oneOfOwner *sch
	oneOfIndex int
}

// dim is one writer conjunct with anyOf and/or oneOf: its choices are one
// subschema of each.
type dim struct {
	owner   *sch
	choices [][]*sch
	oneIdx  []int // the oneOf subschema of each choice, or -1
}

// dims lists the writer's combinations; a conjunct with more than
// maxAlts choices is left unexpanded (conservative).
func dims(ws []*sch) []dim {
	var out []dim
	for _, w := range ws {
		if len(w.AnyOf) == 0 && len(w.OneOf) == 0 {
			continue
		}
		anys, ones := w.AnyOf, w.OneOf
		if len(anys) == 0 {
			anys = []*sch{nil}
		}
		if len(ones) == 0 {
			ones = []*sch{nil}
		}
		if len(anys)*len(ones) > maxAlts {
			continue
		}
		d := dim{owner: w}
		for _, a := range anys {
			for oi, o := range ones {
				var ch []*sch
				if a != nil {
					ch = append(ch, a)
				}
				idx := -1
				if o != nil {
					ch, idx = append(ch, o), oi
				}
				d.choices = append(d.choices, ch)
				d.oneIdx = append(d.oneIdx, idx)
			}
		}
		out = append(out, d)
	}
	return out
}

// stripped is w without its anyOf and oneOf, the same copy every time so
// that memo keys stay stable.
func (c *checker) stripped(w *sch) *sch {
	if s, ok := c.strip[w]; ok {
		return s
	}
	cp := *w
	cp.AnyOf, cp.OneOf = nil, nil
	c.strip[w] = &cp
	return &cp
}

// expand is the product of the choices of ds: nil when empty or larger
// than maxAlts. Alternatives that are false are left out.
func (c *checker) expand(ws []*sch, ds []dim) []alt {
	n := 1
	for _, d := range ds {
		n *= len(d.choices)
		if n > maxAlts {
			return nil
		}
	}
	if len(ds) == 0 {
		return nil
	}
	base := slices.Clone(ws)
	for _, d := range ds {
		for i, w := range base {
			if w == d.owner {
				base[i] = c.stripped(w)
			}
		}
	}
	var out []alt
	idx := make([]int, len(ds))
	for {
		a := alt{ws: slices.Clone(base), index: idx[0], oneOfIndex: -1}
		for d, i := range idx {
			a.ws = append(a.ws, ds[d].choices[i]...)
			if ds[d].oneIdx[i] >= 0 && a.oneOfOwner == nil {
				a.oneOfOwner, a.oneOfIndex = ds[d].owner, ds[d].oneIdx[i]
			}
		}
		if fw, empty := flatten(a.ws); !empty {
			a.ws = fw
			out = append(out, a)
		}
		d := 0
		for d < len(ds) {
			idx[d]++
			if idx[d] < len(ds[d].choices) {
				break
			}
			idx[d] = 0
			d++
		}
		if d == len(ds) {
			return out
		}
	}
}

// withAlt runs f on a writer alternative.
func (c *checker) withAlt(f func()) {
	c.alts++
	defer func() { c.alts-- }()
	f()
}

// perOwnerHolds: for some single writer combination, test holds for every
// one of its alternatives (the rest of the writer kept whole). This is
// sound and avoids expanding the product of all combinations.
func (c *checker) perOwnerHolds(ws []*sch, ds []dim, test func(alt) bool) bool {
	for _, d := range ds {
		alts := c.expand(ws, []dim{d})
		if alts == nil {
			continue
		}
		ok := true
		for _, a := range alts {
			c.withAlt(func() { ok = test(a) })
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// base checks r's own keywords, group by group. A group that fails
// against the writer's conjunction is retried against the alternatives
// of the writer's anyOf/oneOf: it holds if it holds for all of them.
func (c *checker) base(r *sch, ws []*sch) []inc {
	groups := []func(*sch, []*sch) []inc{
		c.types, c.enumConst, c.strings, c.numbers, c.objects, c.arrays,
	}
	ds := dims(ws)
	var res []inc
	for _, g := range groups {
		gr := g(r, ws)
		if len(gr) == 0 || len(ds) == 0 {
			res = append(res, gr...)
			continue
		}
		if c.perOwnerHolds(ws, ds, func(a alt) bool { return len(g(r, a.ws)) == 0 }) {
			continue
		}
		alts := c.expand(ws, ds)
		if alts == nil {
			res = append(res, gr...)
			continue
		}
		for _, a := range alts {
			c.withAlt(func() { res = append(res, g(r, a.ws)...) })
		}
	}
	return res
}

// matchSum is the reader subschema (of anyOf/oneOf items) a writer
// alternative is valid under, preferring the same index; -1 if none.
func (c *checker) matchSum(items []*sch, a alt) int {
	if a.index < len(items) && len(c.sub(items[a.index], a.ws)) == 0 {
		return a.index
	}
	for j := range items {
		if j != a.index && len(c.sub(items[j], a.ws)) == 0 {
			return j
		}
	}
	return -1
}

// sum checks r's anyOf or oneOf: every writer alternative must be valid
// under one of the reader's subschemas (and, for oneOf, under no other).
func (c *checker) sum(items []*sch, kw string, ws []*sch) []inc {
	ds := dims(ws)
	if c.perOwnerHolds(ws, ds, func(a alt) bool {
		j := c.matchSum(items, a)
		return j >= 0 && (kw != "oneOf" || len(c.oneOfOverlaps(items, j, a)) == 0)
	}) {
		return nil
	}
	var res []inc
	each := func(a alt) {
		found := c.matchSum(items, a)
		switch {
		case found < 0:
			res = append(res, c.sumMissing(items, kw, ws, a.index))
		case kw == "oneOf":
			res = append(res, c.oneOfOverlaps(items, found, a)...)
		}
	}
	alts := c.expand(ws, ds)
	if alts == nil {
		each(alt{ws: ws, index: 0, oneOfIndex: -1})
		return res
	}
	for _, a := range alts {
		c.withAlt(func() { each(a) })
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
