package schemajson

import (
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// rcon is one reader constraint on a member (a property or an item):
// where it is and what it is; closed marks a false schema written as
// additionalProperties/additionalItems: false.
type rcon struct {
	path   string
	s      *sch
	closed bool
	kind   byte // 'd' declared, 'p' patternProperties, 'a' additional, 'u' unevaluated
}

// isFalse reports a false schema.
func isFalse(s *sch) bool { return s != nil && s.Bool != nil && !*s.Bool }

// additionalOf splits an additionalProperties/additionalItems value
// (nil, bool or *Schema) into its schema and whether it is false.
func additionalOf(v any) (s *sch, closed, present bool) {
	switch v := v.(type) {
	case bool:
		return nil, !v, !v
	case *jsonschema.Schema:
		return v, isFalse(v), true
	}
	return nil, false, false
}

// writerProp is the writer's constraints on property p: the conjuncts'
// properties, matching patternProperties and otherwise
// additionalProperties (or unevaluatedProperties). forbidden: the writer
// never writes p.
func writerProp(ws []*sch, p string) (cons []*sch, declared, forbidden bool) {
	evaluated := false
	for _, w := range ws {
		if _, ok := w.Properties[p]; ok {
			evaluated = true
		}
		for re := range w.PatternProperties {
			if re.MatchString(p) {
				evaluated = true
			}
		}
		if w.AdditionalProperties != nil {
			evaluated = true
		}
	}
	for _, w := range ws {
		matched := false
		if s, ok := w.Properties[p]; ok {
			cons, declared, matched = append(cons, s), true, true
		}
		for re, s := range w.PatternProperties {
			if re.MatchString(p) {
				cons, matched = append(cons, s), true
			}
		}
		if matched {
			continue
		}
		if s, closed, ok := additionalOf(w.AdditionalProperties); ok {
			if closed {
				return nil, declared, true
			}
			cons = append(cons, s)
		} else if u := writerUnevaluated(w, ws); u != nil && !evaluated {
			if isFalse(u) {
				return nil, declared, true
			}
			cons = append(cons, u)
		}
	}
	for _, s := range cons {
		if isFalse(s) {
			return nil, declared, true
		}
	}
	return cons, declared, false
}

// writerUnevaluated is w's unevaluatedProperties when it can stand for
// additionalProperties: only when no conjunct has anyOf, oneOf,
// if/then/else or dependentSchemas, which could evaluate further
// properties (then it is ignored, which is conservative).
func writerUnevaluated(w *sch, ws []*sch) *sch {
	if w.UnevaluatedProperties == nil || w.AdditionalProperties != nil {
		return nil
	}
	for _, x := range ws {
		if len(x.AnyOf) > 0 || len(x.OneOf) > 0 || x.If != nil || len(x.DependentSchemas) > 0 || len(x.Dependencies) > 0 {
			return nil
		}
	}
	return w.UnevaluatedProperties
}

// readerProp is the reader's constraints on property p.
func readerProp(r *sch, p string) []rcon {
	var out []rcon
	if s, ok := r.Properties[p]; ok {
		out = append(out, rcon{path: "/properties" + pathToken(p), s: s, kind: 'd'})
	}
	for _, re := range sortedPatterns(r.PatternProperties) {
		if re.MatchString(p) {
			out = append(out, rcon{path: "/patternProperties" + pathToken(re.String()), s: r.PatternProperties[re], kind: 'p'})
		}
	}
	if len(out) > 0 {
		return out
	}
	if s, closed, ok := additionalOf(r.AdditionalProperties); ok {
		return []rcon{{path: "/additionalProperties", s: s, closed: closed, kind: 'a'}}
	}
	if u := r.UnevaluatedProperties; u != nil && !declaredInConjuncts(r, p) {
		return []rcon{{path: "/unevaluatedProperties", s: u, closed: isFalse(u), kind: 'u'}}
	}
	return nil
}

// declaredInConjuncts: r's allOf members or $ref targets declare p, so
// unevaluatedProperties does not apply to it (an approximation: anyOf,
// oneOf and if/then/else members are not consulted).
func declaredInConjuncts(r *sch, p string) bool {
	ws, _ := flatten([]*sch{r})
	for _, w := range ws {
		if _, ok := w.Properties[p]; ok {
			return true
		}
		for re := range w.PatternProperties {
			if re.MatchString(p) {
				return true
			}
		}
	}
	return false
}

func sortedPatterns(m map[jsonschema.Regexp]*sch) []jsonschema.Regexp {
	out := make([]jsonschema.Regexp, 0, len(m))
	for re := range m {
		out = append(out, re)
	}
	slices.SortFunc(out, func(a, b jsonschema.Regexp) int {
		if a.String() < b.String() {
			return -1
		}
		if a.String() > b.String() {
			return 1
		}
		return 0
	})
	return out
}

// objects checks the reader's object keywords, when the writer can
// produce objects.
func (c *checker) objects(r *sch, ws []*sch) []inc {
	if writerTypes(ws)&tObject == 0 {
		return nil
	}
	var res []inc
	for _, p := range propertyNames(r, ws) {
		res = append(res, c.property(r, ws, p)...)
	}
	res = append(res, c.patterns(r, ws)...)
	res = append(res, c.additional(r, ws)...)
	res = append(res, required(r, ws)...)
	res = append(res, lowerInt("/minProperties", r.MinProperties, ws, writerMinProperties,
		ruleMinPropertiesAdded, ruleMinPropertiesIncreased, "number of properties")...)
	res = append(res, upperInt("/maxProperties", r.MaxProperties, ws, func(w *sch) *int { return w.MaxProperties },
		ruleMaxPropertiesAdded, ruleMaxPropertiesDecreased, "number of properties")...)
	res = append(res, dependentRequired(r, ws)...)
	res = append(res, c.dependentSchemas(r, ws)...)
	res = append(res, c.propertyNamesCheck(r, ws)...)
	return res
}

// writerMinProperties counts required names as a lower bound too.
func writerMinProperties(w *sch) *int {
	if w.MinProperties == nil && len(w.Required) == 0 {
		return nil
	}
	n := len(w.Required)
	if w.MinProperties != nil && *w.MinProperties > n {
		n = *w.MinProperties
	}
	return &n
}

// propertyNames lists, sorted, the properties either side declares.
func propertyNames(r *sch, ws []*sch) []string {
	set := map[string]bool{}
	for p := range r.Properties {
		set[p] = true
	}
	for _, w := range ws {
		for p := range w.Properties {
			set[p] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// property checks one declared property name.
func (c *checker) property(r *sch, ws []*sch, p string) []inc {
	patterns := len(r.PatternProperties)
	for _, w := range ws {
		patterns += len(w.PatternProperties)
	}
	cost := 1 + patterns/64
	if !c.spend(cost) {
		return nil // Check reports CHECK_TOO_COMPLEX
	}
	wcons, wDeclared, forbidden := writerProp(ws, p)
	if forbidden {
		return nil
	}
	var res []inc
	tok := "/properties" + pathToken(p)
	for _, rc := range readerProp(r, p) {
		var sr []inc
		if !rc.closed {
			sr = c.child(rc.s, wcons)
			if len(sr) == 0 {
				continue
			}
		}
		switch {
		case rc.kind == 'd' && wDeclared:
			res = append(res, prefix(rc.path, sr)...)
		case rc.kind == 'd' && len(wcons) == 0:
			res = append(res, inc{Path: tok, Rule: rulePropertyAddedToOpen, Reader: p,
				Detail: fmt.Sprintf("The writer's open content model may write %q with any value, which the reader's schema for it rejects.", p)})
		case rc.kind == 'd':
			res = append(res, inc{Path: tok, Rule: rulePropertyAddedNotCovered, Reader: p,
				Detail: fmt.Sprintf("The writer's schema for undeclared properties allows values of %q the reader's schema for it rejects.", p)})
		case rc.closed:
			res = append(res, inc{Path: tok, Rule: rulePropertyRemovedFromClosed, Writer: p,
				Detail: fmt.Sprintf("The writer may write %q, which the reader's closed content model does not allow.", p)})
		case wDeclared && rc.kind != 'p' || !hasDeclared(r, p):
			res = append(res, inc{Path: tok, Rule: rulePropertyRemovedNotCovered, Writer: p,
				Detail: fmt.Sprintf("The writer may write values of %q that the reader's %s rejects.", p, rc.path[1:])})
		default:
			res = append(res, prefix(rc.path, sr)...)
		}
	}
	return res
}

func hasDeclared(r *sch, p string) bool {
	_, ok := r.Properties[p]
	return ok
}

// patterns checks the reader's patternProperties for names neither side
// declares. The writer's constraint on such names is its
// patternProperties with the same source, or (when it has no patterns)
// its additionalProperties; otherwise nothing (conservative).
func (c *checker) patterns(r *sch, ws []*sch) []inc {
	var res []inc
	for _, re := range sortedPatterns(r.PatternProperties) {
		var cons []*sch
		forbidden := false
		for _, w := range ws {
			same := false
			for wre, s := range w.PatternProperties {
				if wre.String() == re.String() {
					cons, same = append(cons, s), true
				}
			}
			if same || len(w.PatternProperties) > 0 {
				continue
			}
			if s, closed, ok := additionalOf(w.AdditionalProperties); ok {
				if closed {
					forbidden = true
				} else {
					cons = append(cons, s)
				}
			}
		}
		if forbidden {
			continue
		}
		if sr := c.child(r.PatternProperties[re], cons); len(sr) > 0 {
			res = append(res, prefix("/patternProperties"+pathToken(re.String()), sr)...)
		}
	}
	return res
}

// additional checks the reader's additionalProperties (or
// unevaluatedProperties) for names neither side declares: those the
// writer leaves to its own additionalProperties, and those matching a
// writer pattern the reader does not have.
func (c *checker) additional(r *sch, ws []*sch) []inc {
	rs, closed, ok := additionalOf(r.AdditionalProperties)
	path := "/additionalProperties"
	if !ok && r.UnevaluatedProperties != nil {
		rs, closed, ok, path = r.UnevaluatedProperties, isFalse(r.UnevaluatedProperties), true, "/unevaluatedProperties"
	}
	if !ok {
		return nil
	}
	var res []inc
	var wcons []*sch
	forbidden := false
	for _, w := range ws {
		if s, wclosed, ok := additionalOf(w.AdditionalProperties); ok {
			if wclosed {
				forbidden = true
			} else {
				wcons = append(wcons, s)
			}
		} else if u := writerUnevaluated(w, ws); u != nil {
			if isFalse(u) {
				forbidden = true
			} else {
				wcons = append(wcons, u)
			}
		}
	}
	if !forbidden {
		switch {
		case closed:
			res = append(res, inc{Path: path, Rule: ruleAdditionalPropertiesRemoved, Reader: "false", Writer: additionalString(wcons),
				Detail: "The reader closes the content model: the writer may write properties the reader does not declare."})
		case len(wcons) == 0:
			if sr := c.child(rs, nil); len(sr) > 0 {
				res = append(res, inc{Path: path, Rule: ruleAdditionalPropertiesNarrowed, Reader: "schema", Writer: "true",
					Detail: "The reader constrains undeclared properties the writer leaves open."})
			}
		default:
			res = append(res, prefix(path, c.child(rs, wcons))...)
		}
	}
	return append(res, c.writerPatternsToAdditional(r, ws, rs, closed)...)
}

// writerPatternsToAdditional checks the writer's patternProperties the
// reader does not have: names matching them fall to the reader's
// additionalProperties (rs, or closed).
func (c *checker) writerPatternsToAdditional(r *sch, ws []*sch, rs *sch, closed bool) []inc {
	var res []inc
	rpats := map[string]bool{}
	for re := range r.PatternProperties {
		rpats[re.String()] = true
	}
	for _, w := range ws {
		for _, wre := range sortedPatterns(w.PatternProperties) {
			if rpats[wre.String()] {
				continue
			}
			wp := "/patternProperties" + pathToken(wre.String())
			if closed {
				if !isFalse(w.PatternProperties[wre]) {
					res = append(res, inc{Path: wp, Rule: rulePropertyRemovedFromClosed, Writer: wre.String(),
						Detail: "The writer may write properties matching this pattern, which the reader's closed content model does not allow."})
				}
				continue
			}
			if sr := c.child(rs, []*sch{w.PatternProperties[wre]}); len(sr) > 0 {
				res = append(res, inc{Path: wp, Rule: rulePropertyRemovedNotCovered, Writer: wre.String(),
					Detail: "The writer's properties matching this pattern are not all valid under the reader's schema for undeclared properties."})
			}
		}
	}
	return res
}

func additionalString(cons []*sch) string {
	if len(cons) == 0 {
		return "true"
	}
	return "schema"
}

// required checks that the writer requires every name the reader does.
func required(r *sch, ws []*sch) []inc {
	wreq := map[string]bool{}
	for _, w := range ws {
		for _, n := range w.Required {
			wreq[n] = true
		}
	}
	var res []inc
	for _, n := range r.Required {
		if wreq[n] {
			continue
		}
		_, declared, forbidden := writerProp(ws, n)
		i := inc{Path: "/required", Reader: n}
		switch {
		case declared && !forbidden:
			i.Rule = ruleRequiredAttributeAdded
			i.Detail = fmt.Sprintf("The reader requires %q, which the writer's documents may omit.", n)
		case forbidden:
			i.Rule = ruleRequiredPropertyAddedToUnopen
			i.Detail = fmt.Sprintf("The reader requires %q, which the writer's closed content model never writes.", n)
		default:
			i.Rule = ruleRequiredPropertyAddedToOpen
			i.Detail = fmt.Sprintf("The reader requires %q, which the writer does not declare or require.", n)
		}
		res = append(res, i)
	}
	return res
}

// depArrays merges draft-4 "dependencies" arrays and "dependentRequired".
func depArrays(s *sch) map[string][]string {
	out := map[string][]string{}
	for p, v := range s.Dependencies {
		if names, ok := v.([]string); ok {
			out[p] = append(out[p], names...)
		}
	}
	for p, names := range s.DependentRequired {
		out[p] = append(out[p], names...)
	}
	return out
}

// depSchemas merges "dependencies" schemas and "dependentSchemas".
func depSchemas(s *sch) map[string]*sch {
	out := map[string]*sch{}
	for p, v := range s.Dependencies {
		if d, ok := v.(*jsonschema.Schema); ok {
			out[p] = d
		}
	}
	for p, d := range s.DependentSchemas {
		out[p] = d
	}
	return out
}

func depPath(s *sch, p string) string {
	if _, ok := s.Dependencies[p]; ok {
		return "/dependencies" + pathToken(p)
	}
	if _, ok := s.DependentSchemas[p]; ok {
		return "/dependentSchemas" + pathToken(p)
	}
	return "/dependentRequired" + pathToken(p)
}

// dependentRequired: when the writer writes p, it also writes the names
// the reader's dependency on p lists.
func dependentRequired(r *sch, ws []*sch) []inc {
	rdeps := depArrays(r)
	var res []inc
	for _, p := range sortedKeys(rdeps) {
		if _, _, forbidden := writerProp(ws, p); forbidden {
			continue
		}
		have := map[string]bool{}
		var wHas []string
		for _, w := range ws {
			for _, n := range w.Required {
				have[n] = true
			}
			if names, ok := depArrays(w)[p]; ok {
				wHas = append(wHas, names...)
				for _, n := range names {
					have[n] = true
				}
			}
		}
		var missing []string
		for _, n := range rdeps[p] {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			continue
		}
		i := inc{Path: depPath(r, p), Rule: ruleDependencyArrayAdded, Reader: fmt.Sprint(rdeps[p]),
			Detail: fmt.Sprintf("When %q is present the reader requires %v, which the writer need not write.", p, missing)}
		if wHas != nil {
			i.Rule, i.Writer = ruleDependencyArrayExtended, fmt.Sprint(wHas)
		}
		res = append(res, i)
	}
	return res
}

func (c *checker) dependentSchemas(r *sch, ws []*sch) []inc {
	rdeps := depSchemas(r)
	var res []inc
	for _, p := range sortedKeys(rdeps) {
		if _, _, forbidden := writerProp(ws, p); forbidden {
			continue
		}
		if len(c.sub(rdeps[p], ws)) == 0 {
			continue
		}
		var wds []*sch
		for _, w := range ws {
			if d, ok := depSchemas(w)[p]; ok {
				wds = append(wds, d)
			}
		}
		if len(wds) == 0 {
			res = append(res, inc{Path: depPath(r, p), Rule: ruleDependencySchemaAdded, Reader: p,
				Detail: fmt.Sprintf("When %q is present the reader applies a schema the writer's documents need not satisfy.", p)})
			continue
		}
		res = append(res, prefix(depPath(r, p), c.sub(rdeps[p], append(slices.Clone(ws), wds...)))...)
	}
	return res
}

// propertyNamesCheck: every name the writer writes is valid under the
// reader's propertyNames.
func (c *checker) propertyNamesCheck(r *sch, ws []*sch) []inc {
	n := r.PropertyNames
	if n == nil || (n.Bool != nil && *n.Bool) {
		return nil
	}
	var wpn []*sch
	for _, w := range ws {
		if w.PropertyNames != nil {
			wpn = append(wpn, w.PropertyNames)
		}
	}
	if len(wpn) > 0 {
		return prefix("/propertyNames", c.child(n, wpn))
	}
	if closedNames(ws) && c.validates {
		ok := true
		for _, p := range propertyNames(&sch{}, ws) {
			if !c.spend(1) {
				return nil // Check reports CHECK_TOO_COMPLEX
			}
			if _, _, forbidden := writerProp(ws, p); !forbidden && n.Validate(p) != nil {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	return []inc{{Path: "/propertyNames", Rule: rulePropertyNamesAdded, Reader: "propertyNames",
		Detail: "The reader restricts property names the writer does not restrict."}}
}

// closedNames: the writer writes only the properties it declares.
func closedNames(ws []*sch) bool {
	for _, w := range ws {
		if _, closed, _ := additionalOf(w.AdditionalProperties); closed && len(w.PatternProperties) == 0 {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
