package acl

import (
	"fmt"
	"slices"
	"strings"
)

// Config is the authorizer's configuration, Kafka's property names.
type Config struct {
	// SuperUsers (super.users) are principals allowed everything, ACLs
	// notwithstanding. Compared exactly: "User:*" here is no wildcard.
	SuperUsers []string
	// AllowEveryoneIfNoACL (allow.everyone.if.no.acl.found) decides for a
	// resource no ACL's pattern matches. Kafka's default is false.
	AllowEveryoneIfNoACL bool
}

// ParseSuperUsers parses super.users as Kafka does: principals separated
// by ';', each trimmed, empty ones skipped, each of the form "Type:name".
// The error wraps ErrInvalidPrincipal.
func ParseSuperUsers(s string) ([]string, error) {
	var out []string
	for v := range strings.SplitSeq(s, ";") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if _, _, err := ParsePrincipal(v); err != nil {
			return nil, fmt.Errorf("super.users: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Validate checks the super users' form. The error wraps
// ErrInvalidPrincipal.
func (c Config) Validate() error {
	for _, p := range c.SuperUsers {
		if _, _, err := ParsePrincipal(p); err != nil {
			return fmt.Errorf("super.users: %w", err)
		}
	}
	return nil
}

// Set is an immutable snapshot of the ACLs and the authorizer's
// configuration. Build one with NewSet; Add and Remove return new Sets and
// leave the receiver as it was. All methods are safe for concurrent use.
type Set struct {
	cfg   Config
	super map[string]struct{}
	// all holds the bindings, deduplicated and in compareBindings order,
	// so the bindings of one resource type, and of one pattern, are
	// contiguous and sorted by entry (principal first).
	all   []Binding
	types [ResourceUser + 1]*typeIndex
}

// typeIndex is one resource type's ACLs. Every []Binding is a subslice of
// Set.all holding exactly one pattern's bindings.
type typeIndex struct {
	all        []Binding
	literal    map[string][]Binding // literal names but Wildcard
	wildcard   []Binding            // literal Wildcard
	prefixed   map[string][]Binding
	prefixLens []int // the distinct lengths of prefixed names, ascending
}

// NewSet validates bindings (Binding.Validate) and cfg, and indexes them;
// duplicates are kept once, as Kafka keeps one of equal ACLs.
func NewSet(cfg Config, bindings []Binding) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, b := range bindings {
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("%v: %w", b, err)
		}
	}
	all := slices.Clone(bindings)
	slices.SortFunc(all, compareBindings)
	all = slices.CompactFunc(all, func(a, b Binding) bool { return a == b })
	return build(cfg, all), nil
}

// build indexes all, which is valid, sorted and deduplicated.
func build(cfg Config, all []Binding) *Set {
	s := &Set{cfg: cfg, all: all, super: make(map[string]struct{}, len(cfg.SuperUsers))}
	s.cfg.SuperUsers = slices.Clone(cfg.SuperUsers)
	for _, p := range cfg.SuperUsers {
		s.super[p] = struct{}{}
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].Pattern == all[i].Pattern {
			j++
		}
		s.index(all[i:j:j])
		i = j
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].Pattern.Type == all[i].Pattern.Type {
			j++
		}
		s.types[all[i].Pattern.Type].all = all[i:j:j]
		i = j
	}
	for _, ti := range s.types {
		if ti != nil {
			slices.Sort(ti.prefixLens)
			ti.prefixLens = slices.Compact(ti.prefixLens)
		}
	}
	return s
}

// index adds one pattern's bindings.
func (s *Set) index(group []Binding) {
	p := group[0].Pattern
	ti := s.types[p.Type]
	if ti == nil {
		ti = &typeIndex{literal: map[string][]Binding{}, prefixed: map[string][]Binding{}}
		s.types[p.Type] = ti
	}
	switch {
	case p.PatternType == PatternPrefixed:
		ti.prefixed[p.Name] = group
		ti.prefixLens = append(ti.prefixLens, len(p.Name))
	case p.Name == Wildcard:
		ti.wildcard = group
	default:
		ti.literal[p.Name] = group
	}
}

// Config is the configuration the set was built with.
func (s *Set) Config() Config {
	c := s.cfg
	c.SuperUsers = slices.Clone(c.SuperUsers)
	return c
}

// Len is the number of distinct bindings.
func (s *Set) Len() int { return len(s.all) }

// Bindings returns every binding in the set's deterministic order (by
// resource type, pattern type, name, principal, host, operation,
// permission).
func (s *Set) Bindings() []Binding { return slices.Clone(s.all) }

// Add returns a Set holding s's bindings and bs (validated as NewSet).
func (s *Set) Add(bs ...Binding) (*Set, error) {
	return NewSet(s.cfg, slices.Concat(s.all, bs))
}

// Remove returns a Set without the bindings equal to one of bs.
func (s *Set) Remove(bs ...Binding) *Set {
	drop := make(map[Binding]struct{}, len(bs))
	for _, b := range bs {
		drop[b] = struct{}{}
	}
	all := slices.DeleteFunc(slices.Clone(s.all), func(b Binding) bool {
		_, ok := drop[b]
		return ok
	})
	return build(s.cfg, all)
}
