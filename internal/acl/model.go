package acl

import (
	"cmp"
	"errors"
	"strings"
)

// ResourceType is the kind of resource an ACL protects. The values are
// Kafka's wire codes (kmsg.ACLResourceType converts directly); 0 and values
// Kafka does not define are UNKNOWN.
type ResourceType int8

// The resource types.
const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
	ResourceUser            ResourceType = 7
)

// PatternType is how an ACL's resource name matches. Any and Match exist
// only in filters.
type PatternType int8

// The pattern types.
const (
	PatternUnknown  PatternType = 0
	PatternAny      PatternType = 1
	PatternMatch    PatternType = 2
	PatternLiteral  PatternType = 3
	PatternPrefixed PatternType = 4
)

// Operation is what an ACL allows or denies.
type Operation int8

// The operations.
const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
)

// Permission is whether an ACL allows or denies. Any exists only in filters.
type Permission int8

// The permissions.
const (
	PermUnknown Permission = 0
	PermAny     Permission = 1
	PermDeny    Permission = 2
	PermAllow   Permission = 3
)

// Kafka's fixed names.
const (
	// ClusterName is the only name of the Cluster resource.
	ClusterName = "kafka-cluster"
	// Wildcard is the literal resource name matching every name, and the
	// host matching every host.
	Wildcard = "*"
	// WildcardPrincipal matches every principal (of any type, as Kafka).
	WildcardPrincipal = "User:*"
)

var (
	resourceNames   = [...]string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}
	patternNames    = [...]string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}
	operationNames  = [...]string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS"}
	permissionNames = [...]string{"UNKNOWN", "ANY", "DENY", "ALLOW"}
)

// enumName is names[v], or "UNKNOWN" out of range.
func enumName(names []string, v int8) string {
	if v < 0 || int(v) >= len(names) {
		return names[0]
	}
	return names[v]
}

// String is Kafka's name of the resource type ("TOPIC").
func (r ResourceType) String() string { return enumName(resourceNames[:], int8(r)) }

// String is Kafka's name of the pattern type ("PREFIXED").
func (p PatternType) String() string { return enumName(patternNames[:], int8(p)) }

// String is Kafka's name of the operation ("DESCRIBE_CONFIGS").
func (o Operation) String() string { return enumName(operationNames[:], int8(o)) }

// String is Kafka's name of the permission ("ALLOW").
func (p Permission) String() string { return enumName(permissionNames[:], int8(p)) }

// Known reports whether r is one of Kafka's codes other than UNKNOWN.
func (r ResourceType) Known() bool { return r >= ResourceAny && r <= ResourceUser }

// Known reports whether p is one of Kafka's codes other than UNKNOWN.
func (p PatternType) Known() bool { return p >= PatternAny && p <= PatternPrefixed }

// Known reports whether o is one of Kafka's codes other than UNKNOWN.
func (o Operation) Known() bool { return o >= OpAny && o <= OpDescribeTokens }

// Known reports whether p is one of Kafka's codes other than UNKNOWN.
func (p Permission) Known() bool { return p >= PermAny && p <= PermAllow }

// Pattern is the resource part of an ACL: a resource type and a name that
// is matched literally (Wildcard matching every name) or as a prefix.
type Pattern struct {
	Type        ResourceType
	Name        string
	PatternType PatternType
}

// Entry is the access part of an ACL: who ("User:alice", or
// WildcardPrincipal), from where (an IP address as the broker renders the
// client's, or Wildcard), what, and whether it is allowed or denied.
type Entry struct {
	Principal  string
	Host       string
	Operation  Operation
	Permission Permission
}

// Binding is one ACL: Kafka's AclBinding.
type Binding struct {
	Pattern Pattern
	Entry   Entry
}

// Errors. ErrInvalid is Kafka's INVALID_REQUEST: CreateAcls answers it per
// creation, DescribeAcls and DeleteAcls for a filter with UNKNOWN
// elements. The error's text after "acl: " is Kafka's message; a
// *ValidationError carries it alone.
var (
	ErrInvalid          = errors.New("acl: invalid request")
	ErrInvalidPrincipal = errors.New("acl: invalid principal")
)

// ValidationError is a binding or filter Kafka rejects with
// INVALID_REQUEST. errors.Is(err, ErrInvalid) holds.
type ValidationError struct {
	// Message is Kafka's error message for the response.
	Message string
}

func (e *ValidationError) Error() string { return "acl: " + e.Message }

// Is makes a *ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(msg string) error { return &ValidationError{Message: msg} }

// ParsePrincipal splits "Type:name" at its first colon, as Kafka's
// SecurityUtils.parseKafkaPrincipal: the type and the name may be empty
// (Kafka accepts "User:"), but the colon must be there.
func ParsePrincipal(s string) (typ, name string, err error) {
	typ, name, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", &principalError{s}
	}
	return typ, name, nil
}

// principalError is ParsePrincipal's error, with Kafka's message.
type principalError struct{ principal string }

func (e *principalError) Error() string {
	return "acl: expected a string in format principalType:principalName but got `" + e.principal + "`"
}

func (e *principalError) Is(target error) bool { return target == ErrInvalidPrincipal }

// Validate checks b as Kafka checks an ACL creation (CreateAclsRequest,
// KafkaApis and the controller's AclControlManager.validateNewAcl), and
// returns a *ValidationError with Kafka's message, or nil. Beyond Kafka,
// a PREFIXED pattern named "*" is rejected: "*" is the wildcard only as a
// LITERAL name, and a prefix "*" is always a mistake.
func (b Binding) Validate() error {
	p, e := b.Pattern, b.Entry
	switch {
	case !p.Type.Known() || !p.PatternType.Known() || !e.Operation.Known() || !e.Permission.Known():
		return invalid("CreatableAcls contain unknown elements")
	case p.Type == ResourceAny:
		return invalid("Invalid resourceType " + p.Type.String())
	case p.PatternType != PatternLiteral && p.PatternType != PatternPrefixed:
		return invalid("Invalid patternType " + p.PatternType.String())
	case e.Operation == OpAny:
		return invalid("Invalid operation " + e.Operation.String())
	case e.Permission == PermAny:
		return invalid("Invalid permissionType " + e.Permission.String())
	case p.Name == "":
		return invalid("Resource name should not be empty")
	case p.Type == ResourceCluster && p.Name != ClusterName:
		return invalid("The only valid name for the CLUSTER resource is " + ClusterName)
	case p.PatternType == PatternPrefixed && p.Name == Wildcard:
		return invalid("The resource name `*` is the wildcard only with pattern type LITERAL; a PREFIXED pattern may not be `*`")
	}
	if _, _, err := ParsePrincipal(e.Principal); err != nil {
		return invalid("Could not parse principal from `" + e.Principal + "` (no colon is present separating the principal type from the principal name)")
	}
	return nil
}

// String renders b as Kafka's AclBinding does, for logs.
func (b Binding) String() string {
	var sb strings.Builder
	sb.WriteString("(pattern=ResourcePattern(resourceType=")
	sb.WriteString(b.Pattern.Type.String())
	sb.WriteString(", name=")
	sb.WriteString(b.Pattern.Name)
	sb.WriteString(", patternType=")
	sb.WriteString(b.Pattern.PatternType.String())
	sb.WriteString("), entry=(principal=")
	sb.WriteString(b.Entry.Principal)
	sb.WriteString(", host=")
	sb.WriteString(b.Entry.Host)
	sb.WriteString(", operation=")
	sb.WriteString(b.Entry.Operation.String())
	sb.WriteString(", permissionType=")
	sb.WriteString(b.Entry.Permission.String())
	sb.WriteString("))")
	return sb.String()
}

// compareBindings orders bindings by resource type, pattern type, name,
// principal, host, operation and permission: a Set's order.
func compareBindings(a, b Binding) int {
	if c := cmp.Compare(int8(a.Pattern.Type), int8(b.Pattern.Type)); c != 0 {
		return c
	}
	if c := cmp.Compare(int8(a.Pattern.PatternType), int8(b.Pattern.PatternType)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Pattern.Name, b.Pattern.Name); c != 0 {
		return c
	}
	return compareEntries(a.Entry, b.Entry)
}

func compareEntries(a, b Entry) int {
	if c := strings.Compare(a.Principal, b.Principal); c != 0 {
		return c
	}
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if c := cmp.Compare(int8(a.Operation), int8(b.Operation)); c != 0 {
		return c
	}
	return cmp.Compare(int8(a.Permission), int8(b.Permission))
}
