package schemajson

import (
	"math/big"
	"slices"
	"strings"
)

// Keyword classes, in every draft this package accepts. normalizeSchema
// walks only through schema positions, so that data (enum, const,
// default, examples, unknown keywords) is never mistaken for a schema.

// isSchemaKeyword: the value is one schema.
func isSchemaKeyword(k string) bool {
	switch k {
	case "not", "if", "then", "else", "additionalProperties", "additionalItems",
		"unevaluatedProperties", "unevaluatedItems", "contains", "propertyNames",
		"contentSchema", "items":
		return true
	}
	return false
}

// isSchemaArrayKeyword: the value is an array of schemas.
func isSchemaArrayKeyword(k string) bool {
	switch k {
	case "allOf", "anyOf", "oneOf", "prefixItems", "items":
		return true
	}
	return false
}

// isSchemaMapKeyword: the value is an object whose member values are
// schemas ("dependencies" members may also be arrays of names).
func isSchemaMapKeyword(k string) bool {
	switch k {
	case "properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies":
		return true
	}
	return false
}

// normalize returns a copy of n, a schema, in normalized form:
//
//   - object members sorted by name, recursively (data included);
//   - "required", "type" and the array values of "dependentRequired"
//     and "dependencies" sorted and deduplicated, and a one-element
//     "type" array written as its string;
//   - numbers whose value is an integer written as plain integers
//     ("1.0", "1e2" → "1", "100"), other numbers as written.
func normalize(n *node) *node {
	return normalizeSchema(n)
}

func normalizeSchema(n *node) *node {
	if n.kind != 'o' {
		return normalizeData(n)
	}
	out := &node{kind: 'o'}
	for i, k := range n.keys {
		v := n.elems[i]
		var nv *node
		switch {
		case (k == "required" || k == "type") && v.kind == 'a':
			nv = normalizeStringSet(v, k == "type")
		case k == "dependentRequired" && v.kind == 'o':
			nv = mapValues(v, func(e *node) *node { return normalizeStringSet(e, false) })
		case k == "dependencies" && v.kind == 'o':
			nv = mapValues(v, func(e *node) *node {
				if e.kind == 'a' {
					return normalizeStringSet(e, false)
				}
				return normalizeSchema(e)
			})
		case isSchemaMapKeyword(k) && v.kind == 'o':
			nv = mapValues(v, normalizeSchema)
		case isSchemaArrayKeyword(k) && v.kind == 'a':
			nv = &node{kind: 'a'}
			for _, e := range v.elems {
				nv.elems = append(nv.elems, normalizeSchema(e))
			}
		case isSchemaKeyword(k):
			nv = normalizeSchema(v)
		default:
			nv = normalizeData(v)
		}
		out.keys = append(out.keys, k)
		out.elems = append(out.elems, nv)
	}
	sortMembers(out)
	return out
}

// mapValues copies an object, normalizing each member value with f and
// sorting the members.
func mapValues(v *node, f func(*node) *node) *node {
	out := &node{kind: 'o', keys: slices.Clone(v.keys)}
	for _, e := range v.elems {
		out.elems = append(out.elems, f(e))
	}
	sortMembers(out)
	return out
}

// normalizeStringSet sorts and deduplicates an array of strings; an array
// holding anything else is only normalized as data.
func normalizeStringSet(v *node, unwrapSingle bool) *node {
	var ss []string
	for _, e := range v.elems {
		if e.kind != 's' {
			return normalizeData(v)
		}
		ss = append(ss, e.text)
	}
	slices.Sort(ss)
	ss = slices.Compact(ss)
	if unwrapSingle && len(ss) == 1 {
		return &node{kind: 's', text: ss[0]}
	}
	out := &node{kind: 'a'}
	for _, s := range ss {
		out.elems = append(out.elems, &node{kind: 's', text: s})
	}
	return out
}

// normalizeData copies a data value with object members sorted and
// integral numbers in plain spelling.
func normalizeData(n *node) *node {
	switch n.kind {
	case 'o':
		return mapValues(n, normalizeData)
	case 'a':
		out := &node{kind: 'a'}
		for _, e := range n.elems {
			out.elems = append(out.elems, normalizeData(e))
		}
		return out
	case 'n':
		return &node{kind: 'n', text: normalizeNumber(n.text)}
	}
	return n
}

// normalizeNumber spells an integral number as a plain integer. Parse has
// bounded the number's exponent, so the conversion is cheap.
func normalizeNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || len(r.Num().String()) > maxNumberLen {
		return s
	}
	return r.Num().String()
}

func sortMembers(n *node) {
	idx := make([]int, len(n.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(n.keys[a], n.keys[b]) })
	keys := make([]string, len(idx))
	elems := make([]*node, len(idx))
	for i, j := range idx {
		keys[i], elems[i] = n.keys[j], n.elems[j]
	}
	n.keys, n.elems = keys, elems
}
