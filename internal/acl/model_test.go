package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The enums are Kafka's wire codes: kmsg's values convert directly.
func TestEnumsMatchKmsg(t *testing.T) {
	for _, c := range []struct {
		ours, theirs int8
		name         string
	}{
		{int8(ResourceAny), int8(kmsg.ACLResourceTypeAny), "resource any"},
		{int8(ResourceTopic), int8(kmsg.ACLResourceTypeTopic), "topic"},
		{int8(ResourceGroup), int8(kmsg.ACLResourceTypeGroup), "group"},
		{int8(ResourceCluster), int8(kmsg.ACLResourceTypeCluster), "cluster"},
		{int8(ResourceTransactionalID), int8(kmsg.ACLResourceTypeTransactionalId), "transactional id"},
		{int8(ResourceDelegationToken), int8(kmsg.ACLResourceTypeDelegationToken), "delegation token"},
		{int8(ResourceUser), int8(kmsg.ACLResourceTypeUser), "user"},
		{int8(PatternAny), int8(kmsg.ACLResourcePatternTypeAny), "pattern any"},
		{int8(PatternMatch), int8(kmsg.ACLResourcePatternTypeMatch), "match"},
		{int8(PatternLiteral), int8(kmsg.ACLResourcePatternTypeLiteral), "literal"},
		{int8(PatternPrefixed), int8(kmsg.ACLResourcePatternTypePrefixed), "prefixed"},
		{int8(PermAny), int8(kmsg.ACLPermissionTypeAny), "permission any"},
		{int8(PermDeny), int8(kmsg.ACLPermissionTypeDeny), "deny"},
		{int8(PermAllow), int8(kmsg.ACLPermissionTypeAllow), "allow"},
	} {
		if c.ours != c.theirs {
			t.Errorf("%s: ours %d, kmsg %d", c.name, c.ours, c.theirs)
		}
	}
	for op := OpAny; op <= OpDescribeTokens; op++ {
		k, err := kmsg.ParseACLOperation(strings.ReplaceAll(strings.ToLower(op.String()), "_", ""))
		if err != nil || int8(k) != int8(op) {
			t.Errorf("operation %s: kmsg %v (%v)", op, k, err)
		}
	}
	if got := Operation(99).String(); got != "UNKNOWN" {
		t.Errorf("Operation(99) = %s", got)
	}
}

func valid() Binding {
	return Binding{
		Pattern: Pattern{Type: ResourceTopic, Name: "orders", PatternType: PatternLiteral},
		Entry:   Entry{Principal: "User:alice", Host: "*", Operation: OpRead, Permission: PermAllow},
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*Binding)
		msg    string // "" valid
	}{
		{"valid", func(*Binding) {}, ""},
		{"wildcard principal and name", func(b *Binding) { b.Entry.Principal, b.Pattern.Name = "User:*", "*" }, ""},
		{"prefixed", func(b *Binding) { b.Pattern.PatternType = PatternPrefixed }, ""},
		{"cluster", func(b *Binding) { b.Pattern.Type, b.Pattern.Name = ResourceCluster, ClusterName }, ""},
		{"empty principal name", func(b *Binding) { b.Entry.Principal = "User:" }, ""},
		{"all operation", func(b *Binding) { b.Entry.Operation = OpAll }, ""},
		{"unknown resource", func(b *Binding) { b.Pattern.Type = 0 }, "CreatableAcls contain unknown elements"},
		{"out of range operation", func(b *Binding) { b.Entry.Operation = 15 }, "CreatableAcls contain unknown elements"},
		{"unknown permission", func(b *Binding) { b.Entry.Permission = -1 }, "CreatableAcls contain unknown elements"},
		{"unknown pattern", func(b *Binding) { b.Pattern.PatternType = 5 }, "CreatableAcls contain unknown elements"},
		{"any resource", func(b *Binding) { b.Pattern.Type = ResourceAny }, "Invalid resourceType ANY"},
		{"match pattern", func(b *Binding) { b.Pattern.PatternType = PatternMatch }, "Invalid patternType MATCH"},
		{"any pattern", func(b *Binding) { b.Pattern.PatternType = PatternAny }, "Invalid patternType ANY"},
		{"any operation", func(b *Binding) { b.Entry.Operation = OpAny }, "Invalid operation ANY"},
		{"any permission", func(b *Binding) { b.Entry.Permission = PermAny }, "Invalid permissionType ANY"},
		{"empty name", func(b *Binding) { b.Pattern.Name = "" }, "Resource name should not be empty"},
		{"cluster name", func(b *Binding) { b.Pattern.Type = ResourceCluster }, "The only valid name for the CLUSTER resource is kafka-cluster"},
		{"prefixed wildcard", func(b *Binding) { b.Pattern.PatternType, b.Pattern.Name = PatternPrefixed, "*" }, "The resource name `*` is the wildcard only with pattern type LITERAL"},
		{"principal without colon", func(b *Binding) { b.Entry.Principal = "alice" }, "Could not parse principal from `alice`"},
		{"empty principal", func(b *Binding) { b.Entry.Principal = "" }, "Could not parse principal from ``"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := valid()
			c.change(&b)
			err := b.Validate()
			if c.msg == "" {
				if err != nil {
					t.Fatalf("Validate(%v) = %v", b, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || !strings.HasPrefix(ve.Message, c.msg) {
				t.Fatalf("Validate(%v) = %v; want ErrInvalid with message %q", b, err, c.msg)
			}
			if _, err := NewSet(Config{}, []Binding{valid(), b}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("NewSet with %v = %v; want ErrInvalid", b, err)
			}
		})
	}
}

func TestParsePrincipal(t *testing.T) {
	for _, c := range []struct{ in, typ, name string }{
		{"User:alice", "User", "alice"},
		{"User:CN=a:b", "User", "CN=a:b"},
		{"User:", "User", ""},
		{":x", "", "x"},
		{"User:ANONYMOUS", "User", "ANONYMOUS"},
	} {
		typ, name, err := ParsePrincipal(c.in)
		if err != nil || typ != c.typ || name != c.name {
			t.Errorf("ParsePrincipal(%q) = %q, %q, %v", c.in, typ, name, err)
		}
	}
	for _, in := range []string{"", "alice", "User-alice"} {
		if _, _, err := ParsePrincipal(in); !errors.Is(err, ErrInvalidPrincipal) {
			t.Errorf("ParsePrincipal(%q) = %v; want ErrInvalidPrincipal", in, err)
		}
	}
}

func TestParseSuperUsers(t *testing.T) {
	got, err := ParseSuperUsers(" User:admin ;User:bob;; ;User:CN=x,O=y")
	want := []string{"User:admin", "User:bob", "User:CN=x,O=y"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("ParseSuperUsers = %q, %v; want %q", got, err, want)
	}
	if got, err := ParseSuperUsers(""); err != nil || len(got) != 0 {
		t.Fatalf("ParseSuperUsers(\"\") = %q, %v", got, err)
	}
	if _, err := ParseSuperUsers("User:admin;bob"); !errors.Is(err, ErrInvalidPrincipal) {
		t.Fatalf("ParseSuperUsers with bob = %v; want ErrInvalidPrincipal", err)
	}
	if _, err := NewSet(Config{SuperUsers: []string{"admin"}}, nil); !errors.Is(err, ErrInvalidPrincipal) {
		t.Fatalf("NewSet with super user admin = %v; want ErrInvalidPrincipal", err)
	}
}

func TestBindingString(t *testing.T) {
	want := "(pattern=ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL), entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW))"
	if got := valid().String(); got != want {
		t.Fatalf("String() = %s", got)
	}
}
