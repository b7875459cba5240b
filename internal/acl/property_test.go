package acl

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveDecide is the authorizer written straight from Kafka's rules, a
// linear pass over every binding.
func naiveDecide(cfg Config, bs []Binding, principal, host string, op Operation, res ResourceType, name string) (bool, Reason) {
	if slices.Contains(cfg.SuperUsers, principal) {
		return true, ReasonSuperUser
	}
	onResource, allowed := false, false
	for _, b := range bs {
		p, e := b.Pattern, b.Entry
		nameMatches := (p.PatternType == PatternLiteral && (p.Name == name || p.Name == "*")) ||
			(p.PatternType == PatternPrefixed && strings.HasPrefix(name, p.Name))
		if p.Type != res || !nameMatches {
			continue
		}
		onResource = true
		if e.Principal != principal && e.Principal != "User:*" {
			continue
		}
		if e.Host != host && e.Host != "*" {
			continue
		}
		if e.Permission == PermDeny && (e.Operation == op || e.Operation == OpAll) {
			return false, ReasonDenyACL
		}
		implied := (op == OpDescribe && (e.Operation == OpRead || e.Operation == OpWrite || e.Operation == OpDelete || e.Operation == OpAlter)) ||
			(op == OpDescribeConfigs && e.Operation == OpAlterConfigs)
		if e.Permission == PermAllow && (e.Operation == op || e.Operation == OpAll || implied) {
			allowed = true
		}
	}
	switch {
	case allowed:
		return true, ReasonAllowACL
	case onResource:
		return false, ReasonNoMatch
	}
	return cfg.AllowEveryoneIfNoACL, ReasonNoACLs
}

// naiveMatches is Kafka's AclBindingFilter.matches, written again from
// Kafka's rules.
func naiveMatches(f Filter, b Binding) bool {
	if f.ResourceType != ResourceAny && f.ResourceType != b.Pattern.Type {
		return false
	}
	if f.Principal != nil && *f.Principal != b.Entry.Principal || f.Host != nil && *f.Host != b.Entry.Host {
		return false
	}
	if f.Operation != OpAny && f.Operation != b.Entry.Operation || f.Permission != PermAny && f.Permission != b.Entry.Permission {
		return false
	}
	switch f.PatternType {
	case PatternAny:
		return f.Name == nil || *f.Name == b.Pattern.Name
	case PatternMatch:
		if f.Name == nil {
			return true
		}
		if b.Pattern.PatternType == PatternLiteral {
			return *f.Name == b.Pattern.Name || b.Pattern.Name == "*"
		}
		return strings.HasPrefix(*f.Name, b.Pattern.Name)
	}
	return f.PatternType == b.Pattern.PatternType && (f.Name == nil || *f.Name == b.Pattern.Name)
}

// gen draws from small alphabets so that names, prefixes, principals and
// hosts collide often.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) name() string { return g.pick("a", "ab", "abc", "abd", "b", "ba", "*", "a*", "x") }

func (g gen) principal() string {
	return g.pick("User:alice", "User:bob", "User:*", "Group:ops", "User:ANONYMOUS", "User:admin")
}

func (g gen) host() string { return g.pick("*", "10.0.0.1", "10.0.0.2") }

func (g gen) binding() Binding {
	res := ResourceType(2 + g.r.IntN(6))
	pt := PatternLiteral
	if g.r.IntN(3) == 0 {
		pt = PatternPrefixed
	}
	name := g.name()
	if res == ResourceCluster {
		name = ClusterName
	}
	if pt == PatternPrefixed && name == "*" {
		name = "a"
	}
	return ace(Pattern{Type: res, Name: name, PatternType: pt}, g.principal(), g.host(),
		Operation(2+g.r.IntN(13)), Permission(2+g.r.IntN(2)))
}

func (g gen) set(t *testing.T) (Config, []Binding, *Set) {
	cfg := Config{AllowEveryoneIfNoACL: g.r.IntN(2) == 0}
	if g.r.IntN(3) == 0 {
		cfg.SuperUsers = []string{"User:admin"}
	}
	bs := make([]Binding, g.r.IntN(40))
	for i := range bs {
		bs[i] = g.binding()
	}
	return cfg, bs, mustSet(t, cfg, bs...)
}

func TestPropertyDecideMatchesNaive(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(7, 11))}
	for range 3000 {
		cfg, bs, s := g.set(t)
		for range 30 {
			principal, host := g.principal(), g.host()
			if host == "*" {
				host = "10.0.0.3"
			}
			op, res, name := Operation(1+g.r.IntN(14)), ResourceType(1+g.r.IntN(7)), g.pick(g.name(), ClusterName, "abcd", "")
			d := s.Decide(principal, host, op, res, name)
			wantAllowed, wantReason := naiveDecide(cfg, bs, principal, host, op, res, name)
			if d.Allowed != wantAllowed || d.Reason != wantReason {
				t.Fatalf("Decide(%s, %s, %s, %s, %q) = %v (%v); naive %v (%v)\nconfig %+v\nACLs %v",
					principal, host, op, res, name, d.Allowed, d.Reason, wantAllowed, wantReason, cfg, bs)
			}
			if d.Reason == ReasonAllowACL || d.Reason == ReasonDenyACL {
				if ok, r := naiveDecide(Config{}, []Binding{d.ACL}, principal, host, op, res, name); ok != d.Allowed || r != d.Reason || !slices.Contains(bs, d.ACL) {
					t.Fatalf("Decision.ACL %v does not decide alone (%v %v)", d.ACL, ok, r)
				}
			}
		}
	}
}

func TestPropertyMatchMatchesNaive(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(3, 5))}
	optional := func(s string) *string {
		if g.r.IntN(3) == 0 {
			return nil
		}
		return &s
	}
	for range 2000 {
		_, bs, s := g.set(t)
		all := s.Bindings()
		if !slices.IsSortedFunc(all, compareBindings) {
			t.Fatalf("Bindings not sorted: %v", all)
		}
		for range 20 {
			f := Filter{
				ResourceType: ResourceType(1 + g.r.IntN(7)), Name: optional(g.pick(g.name(), "abcd", ClusterName)),
				PatternType: PatternType(1 + g.r.IntN(4)), Principal: optional(g.principal()), Host: optional(g.host()),
				Operation: Operation(1 + g.r.IntN(14)), Permission: Permission(1 + g.r.IntN(3)),
			}
			if g.r.IntN(2) == 0 {
				f.ResourceType, f.Operation, f.Permission = ResourceAny, OpAny, PermAny
			}
			var want []Binding
			for _, b := range all {
				if naiveMatches(f, b) {
					want = append(want, b)
				}
			}
			if got := s.Match(f); !slices.Equal(got, want) {
				t.Fatalf("Match(%+v) = %v; naive %v\nACLs %v", f, got, want, bs)
			}
		}
	}
}
