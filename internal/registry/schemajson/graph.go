package schemajson

import "github.com/santhosh-tekuri/jsonschema/v6"

// contextFree reports whether validating any subschema of root on its own
// gives the same answer as validating it in place. That fails with a
// cycle of in-place applicators ($ref, allOf, not, if, ... without
// descending into the instance), where the validator fails the schema
// met again and so the answer depends on where validation started, and
// with $dynamicRef/$recursiveRef, which resolve against the path taken.
// Check decides finite writers by validating values only when both
// schemas are context-free.
func contextFree(root *sch) bool {
	const (
		white = iota
		grey
		black
	)
	color := map[*sch]int{}
	var all []*sch
	seen := map[*sch]bool{}
	queue := []*sch{root}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		all = append(all, s)
		if s.RecursiveRef != nil || s.DynamicRef != nil {
			return false
		}
		queue = append(queue, inPlace(s)...)
		queue = append(queue, descending(s)...)
	}
	var cyclic func(s *sch) bool
	cyclic = func(s *sch) bool {
		switch color[s] {
		case grey:
			return true
		case black:
			return false
		}
		color[s] = grey
		for _, t := range inPlace(s) {
			if t != nil && cyclic(t) {
				return true
			}
		}
		color[s] = black
		return false
	}
	for _, s := range all {
		if cyclic(s) {
			return false
		}
	}
	return true
}

// inPlace lists the subschemas s applies to the same instance.
func inPlace(s *sch) []*sch {
	out := append([]*sch{s.Ref, s.Not, s.If, s.Then, s.Else}, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	for _, d := range s.DependentSchemas {
		out = append(out, d)
	}
	for _, d := range s.Dependencies {
		if d, ok := d.(*jsonschema.Schema); ok {
			out = append(out, d)
		}
	}
	return out
}

// descending lists the subschemas s applies to members of the instance.
func descending(s *sch) []*sch {
	out := []*sch{s.PropertyNames, s.Contains, s.Items2020, s.UnevaluatedProperties, s.UnevaluatedItems, s.ContentSchema}
	for _, p := range s.Properties {
		out = append(out, p)
	}
	for _, p := range s.PatternProperties {
		out = append(out, p)
	}
	out = append(out, s.PrefixItems...)
	for _, v := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
		switch v := v.(type) {
		case *jsonschema.Schema:
			out = append(out, v)
		case []*jsonschema.Schema:
			out = append(out, v...)
		}
	}
	return out
}
