package schemajson

import (
	"fmt"
)

// arrayView is a schema's item keywords in one shape for all drafts:
// prefix (items array / prefixItems) and rest (additionalItems / items /
// unevaluatedItems, nil when absent), with their paths.
type arrayView struct {
	prefix     []*sch
	prefixPath string
	rest       *sch
	restClosed bool
	restPath   string
}

// viewArray views s's item keywords. unevaluatedItems stands for the
// rest only on the reader's side (where it makes the reader stricter, so
// the verdict conservative); a writer's is ignored, since allOf members
// and other subschemas may evaluate items it would otherwise forbid.
func viewArray(s *sch, reader bool) arrayView {
	v := arrayView{prefixPath: "/prefixItems", restPath: "/items"}
	switch it := s.Items.(type) {
	case []*sch:
		v.prefix, v.prefixPath, v.restPath = it, "/items", "/additionalItems"
		v.rest, v.restClosed, _ = additionalOf(s.AdditionalItems)
		if b, ok := s.AdditionalItems.(bool); ok && b {
			v.rest = nil
		}
		return v.withUnevaluated(s, reader)
	case *sch:
		v.rest, v.restClosed = it, isFalse(it)
		return v
	}
	v.prefix = s.PrefixItems
	if s.Items2020 != nil {
		v.rest, v.restClosed = s.Items2020, isFalse(s.Items2020)
		return v
	}
	return v.withUnevaluated(s, reader)
}

func (v arrayView) withUnevaluated(s *sch, reader bool) arrayView {
	if reader && v.rest == nil && !v.restClosed && s.UnevaluatedItems != nil {
		v.rest, v.restClosed, v.restPath = s.UnevaluatedItems, isFalse(s.UnevaluatedItems), "/unevaluatedItems"
	}
	return v
}

// writerItem is the writer's constraints on the item at index i (rest
// when i < 0 means "beyond every prefix"); forbidden: the writer never
// writes an item there.
func writerItem(ws []*sch, i int) (cons []*sch, inPrefix, forbidden bool) {
	for _, w := range ws {
		if w.MaxItems != nil && *w.MaxItems <= i {
			return nil, false, true
		}
		v := viewArray(w, false)
		if i < len(v.prefix) {
			cons, inPrefix = append(cons, v.prefix[i]), true
			continue
		}
		if v.restClosed {
			return nil, inPrefix, true
		}
		if v.rest != nil {
			cons = append(cons, v.rest)
		}
	}
	for _, s := range cons {
		if isFalse(s) {
			return nil, inPrefix, true
		}
	}
	return cons, inPrefix, false
}

// arrays checks the reader's array keywords, when the writer can produce
// arrays.
func (c *checker) arrays(r *sch, ws []*sch) []inc {
	if writerTypes(ws)&tArray == 0 {
		return nil
	}
	var res []inc
	rv := viewArray(r, true)
	n := len(rv.prefix)
	for _, w := range ws {
		n = max(n, len(viewArray(w, false).prefix))
	}
	for i := 0; i < n; i++ {
		item, stop := c.item(rv, ws, i)
		res = append(res, item...)
		if stop {
			return append(res, c.arrayBounds(r, ws)...)
		}
	}
	res = append(res, c.restItems(rv, ws, n)...)
	return append(res, c.arrayBounds(r, ws)...)
}

// item checks index i of a tuple; stop: the writer writes no item there.
func (c *checker) item(rv arrayView, ws []*sch, i int) (res []inc, stop bool) {
	wcons, wPrefix, forbidden := writerItem(ws, i)
	if forbidden {
		return nil, true
	}
	rPrefix := i < len(rv.prefix)
	var rs *sch
	switch {
	case rPrefix:
		rs = rv.prefix[i]
	case rv.restClosed:
		return []inc{{Path: fmt.Sprintf("%s/%d", rv.prefixPath, i), Rule: ruleItemRemovedFromClosed, Writer: fmt.Sprint(i),
			Detail: fmt.Sprintf("The writer may write an item at index %d, which the reader's closed tuple does not allow.", i)}}, false
	case rv.rest != nil:
		rs = rv.rest
	default:
		return nil, false
	}
	sr := c.child(rs, wcons)
	if len(sr) == 0 {
		return nil, false
	}
	path := fmt.Sprintf("%s/%d", rv.prefixPath, i)
	switch {
	case rPrefix && wPrefix:
		return prefix(path, sr), false
	case rPrefix && len(wcons) == 0:
		return []inc{{Path: path, Rule: ruleItemAddedToOpen, Reader: fmt.Sprint(i),
			Detail: fmt.Sprintf("The writer's open tuple may write any item at index %d, which the reader's schema for it rejects.", i)}}, false
	case rPrefix:
		return []inc{{Path: path, Rule: ruleItemAddedNotCovered, Reader: fmt.Sprint(i),
			Detail: fmt.Sprintf("The writer's schema for further items allows items at index %d that the reader's schema for it rejects.", i)}}, false
	}
	return []inc{{Path: path, Rule: ruleItemRemovedNotCovered, Writer: fmt.Sprint(i),
		Detail: fmt.Sprintf("The writer's item at index %d is not valid under the reader's schema for further items.", i)}}, false
}

// restItems checks the items beyond every tuple prefix.
func (c *checker) restItems(rv arrayView, ws []*sch, n int) []inc {
	if rv.rest == nil && !rv.restClosed {
		return nil
	}
	wcons, _, forbidden := writerItem(ws, n)
	if forbidden {
		return nil
	}
	if rv.restClosed {
		return []inc{{Path: rv.restPath, Rule: ruleAdditionalItemsRemoved, Reader: "false", Writer: additionalString(wcons),
			Detail: fmt.Sprintf("The writer may write items from index %d on, which the reader does not allow.", n)}}
	}
	return prefix(rv.restPath, c.child(rv.rest, wcons))
}

// arrayBounds checks minItems, maxItems, uniqueItems and contains.
func (c *checker) arrayBounds(r *sch, ws []*sch) []inc {
	var res []inc
	res = append(res, lowerInt("/minItems", r.MinItems, ws, func(w *sch) *int { return w.MinItems },
		ruleMinItemsAdded, ruleMinItemsIncreased, "number of items")...)
	res = append(res, upperInt("/maxItems", r.MaxItems, ws, func(w *sch) *int { return w.MaxItems },
		ruleMaxItemsAdded, ruleMaxItemsDecreased, "number of items")...)
	if r.UniqueItems && !writerUnique(ws) {
		res = append(res, inc{Path: "/uniqueItems", Rule: ruleUniqueItemsAdded, Reader: "true", Writer: "false",
			Detail: "The reader requires unique items; the writer's arrays may repeat items."})
	}
	if r.Contains != nil {
		res = append(res, c.contains(r, ws)...)
	}
	return res
}

func writerUnique(ws []*sch) bool {
	for _, w := range ws {
		if w.UniqueItems || (w.MaxItems != nil && *w.MaxItems <= 1) {
			return true
		}
	}
	return false
}

// contains: the writer guarantees enough items valid under the reader's
// contains, through a contains of its own.
func (c *checker) contains(r *sch, ws []*sch) []inc {
	rmin := 1
	if r.MinContains != nil {
		rmin = *r.MinContains
	}
	if rmin == 0 && r.MaxContains == nil {
		return nil
	}
	var best []inc
	for _, w := range ws {
		if w.Contains == nil {
			continue
		}
		sr := c.child(r.Contains, []*sch{w.Contains})
		if len(sr) > 0 {
			best = prefix("/contains", sr)
			continue
		}
		wmin := 1
		if w.MinContains != nil {
			wmin = *w.MinContains
		}
		var res []inc
		if wmin < rmin {
			res = append(res, inc{Path: "/minContains", Rule: ruleMinContainsIncreased, Reader: fmt.Sprint(rmin), Writer: fmt.Sprint(wmin),
				Detail: "The reader needs more matching items than the writer guarantees."})
		}
		if r.MaxContains != nil {
			// The reader's items that match contains may be more than the
			// writer's, whatever the writer's maxContains: only equal
			// contains schemas make the writer's bound apply.
			same := len(c.child(w.Contains, []*sch{r.Contains})) == 0
			if !same || w.MaxContains == nil || *w.MaxContains > *r.MaxContains {
				res = append(res, inc{Path: "/maxContains", Rule: ruleMaxContainsDecreased, Reader: fmt.Sprint(*r.MaxContains),
					Detail: "The writer's arrays may hold more matching items than the reader allows."})
			}
		}
		return res
	}
	if best != nil {
		return []inc{{Path: "/contains", Rule: ruleContainsChanged, Reader: "contains", Writer: "contains",
			Detail: "The writer's contains does not guarantee an item valid under the reader's contains."}}
	}
	return []inc{{Path: "/contains", Rule: ruleContainsAdded, Reader: "contains",
		Detail: "The reader requires an item the writer's arrays need not contain."}}
}
