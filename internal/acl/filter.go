package acl

import "strings"

// Filter selects bindings: Kafka's AclBindingFilter, the filter of
// DescribeAcls and of each DeleteAcls filter. A nil Name, Principal or
// Host matches any; ResourceAny, OpAny and PermAny match any value.
//
// PatternType decides how Name matches a binding's pattern:
//
//   - PatternAny: any pattern type; the name (when set) equals the
//     binding's name exactly.
//   - PatternLiteral, PatternPrefixed: that pattern type; the name (when
//     set) equals the binding's name exactly.
//   - PatternMatch: the bindings that would apply to a resource named
//     Name: LITERAL with that name, LITERAL "*", and PREFIXED whose name
//     is a prefix of Name. With a nil Name, every binding.
//
// Principal and host compare exactly: a filter for "User:alice" does not
// select "User:*" bindings.
type Filter struct {
	ResourceType ResourceType
	Name         *string
	PatternType  PatternType
	Principal    *string
	Host         *string
	Operation    Operation
	Permission   Permission
}

// Validate rejects a filter with UNKNOWN elements, as Kafka's
// AclControlManager.validateFilter, with a *ValidationError.
func (f Filter) Validate() error {
	if !f.ResourceType.Known() || !f.PatternType.Known() {
		return invalid("Unknown patternFilter.")
	}
	if !f.Operation.Known() || !f.Permission.Known() {
		return invalid("Unknown entryFilter.")
	}
	return nil
}

// Matches reports whether f selects b.
func (f Filter) Matches(b Binding) bool {
	return f.matchesPattern(b.Pattern) && f.matchesEntry(b.Entry)
}

func (f Filter) matchesPattern(p Pattern) bool {
	if f.ResourceType != ResourceAny && f.ResourceType != p.Type {
		return false
	}
	if f.PatternType != PatternAny && f.PatternType != PatternMatch && f.PatternType != p.PatternType {
		return false
	}
	if f.Name == nil {
		return true
	}
	name := *f.Name
	if f.PatternType != PatternMatch {
		return name == p.Name
	}
	if p.PatternType == PatternPrefixed {
		return strings.HasPrefix(name, p.Name)
	}
	return name == p.Name || p.Name == Wildcard
}

func (f Filter) matchesEntry(e Entry) bool {
	return (f.Principal == nil || *f.Principal == e.Principal) &&
		(f.Host == nil || *f.Host == e.Host) &&
		(f.Operation == OpAny || f.Operation == e.Operation) &&
		(f.Permission == PermAny || f.Permission == e.Permission)
}

// Match returns the bindings f selects, in the set's order (Bindings).
// A filter Validate rejects selects nothing.
func (s *Set) Match(f Filter) []Binding {
	if f.Validate() != nil {
		return nil
	}
	candidates := s.all
	if f.ResourceType != ResourceAny {
		candidates = nil
		if int(f.ResourceType) < len(s.types) && s.types[f.ResourceType] != nil {
			candidates = s.types[f.ResourceType].all
		}
	}
	var out []Binding
	for _, b := range candidates {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	return out
}
