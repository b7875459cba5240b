package acl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzValidate: Validate never panics; a valid binding alone in a set
// decides exactly the request it describes, as its permission says.
func FuzzValidate(f *testing.F) {
	f.Add(int8(2), "orders", int8(3), "User:alice", "*", int8(3), int8(3))
	f.Add(int8(4), "kafka-cluster", int8(4), "User:*", "10.0.0.1", int8(2), int8(2))
	f.Add(int8(1), "*", int8(2), "alice", "", int8(1), int8(1))
	f.Fuzz(func(t *testing.T, res int8, name string, pt int8, principal, host string, op, perm int8) {
		b := ace(Pattern{Type: ResourceType(res), Name: name, PatternType: PatternType(pt)}, principal, host, Operation(op), Permission(perm))
		err := b.Validate()
		if err != nil {
			var ve *ValidationError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Message == "" {
				t.Fatalf("Validate(%v) = %v: not a *ValidationError", b, err)
			}
			return
		}
		s, err := NewSet(Config{}, []Binding{b})
		if err != nil {
			t.Fatalf("NewSet of a valid binding: %v", err)
		}
		qp, qh, qop, qname := principal, host, Operation(op), name
		if qp == WildcardPrincipal {
			qp = "User:someone"
		}
		if qh == "*" {
			qh = "192.0.2.1"
		}
		if qop == OpAll {
			qop = OpRead
		}
		if PatternType(pt) == PatternPrefixed || name == "*" {
			qname += "-suffix"
		}
		if got := s.Authorize(qp, qh, qop, ResourceType(res), qname); got != (Permission(perm) == PermAllow) {
			t.Fatalf("Authorize(%s, %s, %s, %q) = %v under %v", qp, qh, qop, qname, got, b)
		}
		if m := s.Match(Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpAny, Permission: PermAny}); len(m) != 1 || m[0] != b {
			t.Fatalf("Match(any) = %v", m)
		}
	})
}

// FuzzParseSuperUsers: every parsed principal is trimmed, non-empty and has
// a colon; joining and parsing again is the identity.
func FuzzParseSuperUsers(f *testing.F) {
	f.Add("User:admin;User:bob")
	f.Add(" User:a ; ;User:b:c;")
	f.Add("admin")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSuperUsers(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPrincipal) {
				t.Fatalf("error %v does not wrap ErrInvalidPrincipal", err)
			}
			return
		}
		for _, p := range got {
			if p == "" || p != strings.TrimSpace(p) || !strings.Contains(p, ":") || strings.Contains(p, ";") {
				t.Fatalf("ParseSuperUsers(%q) gave %q", s, p)
			}
		}
		again, err := ParseSuperUsers(strings.Join(got, ";"))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("round trip of %q: %q, %v", got, again, err)
		}
		if _, err := NewSet(Config{SuperUsers: got}, nil); err != nil {
			t.Fatalf("NewSet with parsed super users: %v", err)
		}
	})
}

// FuzzParsePrincipal: a principal parses iff it has a colon, and type:name
// rebuilds it.
func FuzzParsePrincipal(f *testing.F) {
	f.Add("User:alice")
	f.Add("User:")
	f.Add("alice")
	f.Fuzz(func(t *testing.T, s string) {
		typ, name, err := ParsePrincipal(s)
		if (err == nil) != strings.Contains(s, ":") {
			t.Fatalf("ParsePrincipal(%q) error %v", s, err)
		}
		if err == nil && (typ+":"+name != s || strings.Contains(typ, ":")) {
			t.Fatalf("ParsePrincipal(%q) = %q, %q", s, typ, name)
		}
	})
}
