package acl

import (
	"slices"
)

// Reason is why a Decision went the way it did.
type Reason uint8

// The reasons.
const (
	// ReasonSuperUser: the principal is in super.users.
	ReasonSuperUser Reason = iota + 1
	// ReasonDenyACL: an ACL denies (Decision.ACL is one).
	ReasonDenyACL
	// ReasonAllowACL: an ACL allows and none denies (Decision.ACL is one).
	ReasonAllowACL
	// ReasonNoMatch: ACLs exist on the resource but none applies to this
	// principal, host and operation.
	ReasonNoMatch
	// ReasonNoACLs: no ACL's pattern matches the resource at all;
	// allow.everyone.if.no.acl.found decided.
	ReasonNoACLs
)

func (r Reason) String() string {
	switch r {
	case ReasonSuperUser:
		return "super user"
	case ReasonDenyACL:
		return "denied by ACL"
	case ReasonAllowACL:
		return "allowed by ACL"
	case ReasonNoMatch:
		return "no matching ACL"
	case ReasonNoACLs:
		return "no ACL on the resource"
	}
	return "unknown"
}

// Decision is the outcome of one authorization, with what decided it (for
// Kafka's audit log line).
type Decision struct {
	Allowed bool
	Reason  Reason
	// ACL is the deciding ACL for ReasonDenyACL and ReasonAllowACL.
	ACL Binding
}

// Authorize reports whether principal ("User:alice"), connecting from host
// (its IP address, compared as a string with each ACL's host), may perform
// op on the resource of type res named name. It is Decide(…).Allowed.
func (s *Set) Authorize(principal, host string, op Operation, res ResourceType, name string) bool {
	return s.Decide(principal, host, op, res, name).Allowed
}

// Decide is Kafka's StandardAuthorizer:
//
//   - A super user is allowed everything.
//   - The ACLs considered are those of type res whose pattern matches name:
//     LITERAL name, LITERAL "*", and PREFIXED patterns name starts with.
//   - Of those, an ACL applies when its principal is principal or
//     "User:*", its host is host or "*", and its operation matches op: ALL
//     matches every op; an ALLOW of READ, WRITE, DELETE or ALTER also
//     matches DESCRIBE, an ALLOW of ALTER_CONFIGS also DESCRIBE_CONFIGS; a
//     DENY matches only its own op (and ALL).
//   - An applying DENY wins; else an applying ALLOW allows.
//   - Else, when no ACL's pattern matches the resource at all, whatever
//     its principal, host, operation or permission (Kafka's
//     hasResourceAcls), allow.everyone.if.no.acl.found decides; when some
//     do, the answer is deny.
func (s *Set) Decide(principal, host string, op Operation, res ResourceType, name string) Decision {
	if _, ok := s.super[principal]; ok {
		return Decision{Allowed: true, Reason: ReasonSuperUser}
	}
	var ti *typeIndex
	if res >= 0 && int(res) < len(s.types) {
		ti = s.types[res]
	}
	var m matcher
	m.principal, m.host, m.op = principal, host, op
	if ti != nil {
		if deny, ok := m.check(ti.literal[name]); ok {
			return deny
		}
		for _, l := range ti.prefixLens {
			if l > len(name) {
				break
			}
			if deny, ok := m.check(ti.prefixed[name[:l]]); ok {
				return deny
			}
		}
		if deny, ok := m.check(ti.wildcard); ok {
			return deny
		}
	}
	switch {
	case m.allowed:
		return Decision{Allowed: true, Reason: ReasonAllowACL, ACL: m.allow}
	case m.found:
		return Decision{Reason: ReasonNoMatch}
	}
	return Decision{Allowed: s.cfg.AllowEveryoneIfNoACL, Reason: ReasonNoACLs}
}

// matcher accumulates one authorization over the patterns matching the
// resource.
type matcher struct {
	principal, host string
	op              Operation
	found           bool // some pattern matched (Kafka's hasResourceAcls)
	allowed         bool
	allow           Binding // the first applying ALLOW
}

// check considers one pattern's bindings; it returns the decision and true
// when one of them denies.
func (m *matcher) check(group []Binding) (Decision, bool) {
	if len(group) == 0 {
		return Decision{}, false
	}
	m.found = true
	if b, ok := m.checkPrincipal(group, m.principal); ok {
		return Decision{Reason: ReasonDenyACL, ACL: b}, true
	}
	if m.principal != WildcardPrincipal {
		if b, ok := m.checkPrincipal(group, WildcardPrincipal); ok {
			return Decision{Reason: ReasonDenyACL, ACL: b}, true
		}
	}
	return Decision{}, false
}

// checkPrincipal considers the bindings of group (sorted by principal)
// whose principal is p; it returns a denying one.
func (m *matcher) checkPrincipal(group []Binding, p string) (Binding, bool) {
	lo, hi := 0, len(group)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if group[m].Entry.Principal < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(group) && group[i].Entry.Principal == p; i++ {
		e := &group[i].Entry
		if (e.Host != Wildcard && e.Host != m.host) || !opMatches(e.Operation, e.Permission, m.op) {
			continue
		}
		if e.Permission == PermDeny {
			return group[i], true
		}
		if !m.allowed {
			m.allowed, m.allow = true, group[i]
		}
	}
	return Binding{}, false
}

// opMatches is Kafka's operation rule: does an ACL with operation aclOp
// and permission perm apply to op?
func opMatches(aclOp Operation, perm Permission, op Operation) bool {
	if aclOp == OpAll || aclOp == op {
		return true
	}
	if perm != PermAllow {
		return false
	}
	switch op {
	case OpDescribe:
		return aclOp == OpRead || aclOp == OpWrite || aclOp == OpDelete || aclOp == OpAlter
	case OpDescribeConfigs:
		return aclOp == OpAlterConfigs
	}
	return false
}

// AuthorizeAny is Kafka's Authorizer.authorizeByResourceType: may
// principal perform op on some resource of type res? KafkaApis asks it for
// InitProducerId without a transactional id (WRITE on any topic, KIP-679).
// Allowed when op on a resource named "hardcode" is allowed (so super users
// and allow.everyone.if.no.acl.found count); else, over res's ACLs whose
// principal is principal or "User:*", whose host is host or "*" and whose
// operation is op or ALL (no implied operations here): denied by a DENY
// on LITERAL "*"; allowed by an ALLOW on LITERAL "*"; allowed by an ALLOW
// on a LITERAL name no DENY names literally and no DENY prefixes, or on a
// PREFIXED name no DENY PREFIXED name prefixes; else denied. Operation and
// resource type Any or Unknown are denied.
func (s *Set) AuthorizeAny(principal, host string, op Operation, res ResourceType) bool {
	if !op.Known() || op == OpAny || !res.Known() || res == ResourceAny {
		return false
	}
	if s.Authorize(principal, host, op, res, "hardcode") {
		return true
	}
	ti := s.types[res]
	return ti != nil && ti.anyAllowed(principal, host, op)
}

// anyAllowed is AuthorizeAny past the "hardcode" probe.
func (ti *typeIndex) anyAllowed(principal, host string, op Operation) bool {
	applies := func(e Entry) bool {
		return (e.Principal == principal || e.Principal == WildcardPrincipal) &&
			(e.Host == host || e.Host == Wildcard) && (e.Operation == op || e.Operation == OpAll)
	}
	denyLiteral, denyPrefixed := map[string]bool{}, map[string]bool{}
	var allows []Pattern
	wildAllow := false
	for _, b := range ti.all {
		if !applies(b.Entry) {
			continue
		}
		p := b.Pattern
		switch {
		case b.Entry.Permission == PermDeny && p.PatternType == PatternLiteral && p.Name == Wildcard:
			return false
		case b.Entry.Permission == PermDeny && p.PatternType == PatternLiteral:
			denyLiteral[p.Name] = true
		case b.Entry.Permission == PermDeny:
			denyPrefixed[p.Name] = true
		case p.PatternType == PatternLiteral && p.Name == Wildcard:
			wildAllow = true
		default:
			allows = append(allows, p)
		}
	}
	if wildAllow {
		return true
	}
	for _, p := range allows {
		if p.PatternType == PatternLiteral && denyLiteral[p.Name] {
			continue
		}
		if !hasPrefixIn(p.Name, denyPrefixed) {
			return true
		}
	}
	return false
}

// hasPrefixIn reports whether a non-empty prefix of name (name included)
// is in set.
func hasPrefixIn(name string, set map[string]bool) bool {
	for l := 1; l <= len(name); l++ {
		if set[name[:l]] {
			return true
		}
	}
	return false
}

// supportedOps are the operations Kafka reports in authorized-operations
// bit fields, per resource type (AclEntry.supportedOperations).
var supportedOps = [...][]Operation{
	ResourceTopic:           {OpRead, OpWrite, OpCreate, OpDescribe, OpDelete, OpAlter, OpDescribeConfigs, OpAlterConfigs},
	ResourceGroup:           {OpRead, OpDescribe, OpDelete, OpDescribeConfigs, OpAlterConfigs},
	ResourceCluster:         {OpCreate, OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite, OpAlter, OpDescribe},
	ResourceTransactionalID: {OpDescribe, OpWrite},
	ResourceDelegationToken: {OpDescribe},
	ResourceUser:            {OpCreateTokens, OpDescribeTokens},
}

// SupportedOperations are the operations Kafka defines on a resource type
// (AclEntry.supportedOperations); nil for Any and Unknown.
func SupportedOperations(res ResourceType) []Operation {
	if res < 0 || int(res) >= len(supportedOps) {
		return nil
	}
	return slices.Clone(supportedOps[res])
}

// AuthorizedOperations is the bit field Kafka answers in
// *AuthorizedOperations fields (Metadata, DescribeGroups, DescribeCluster,
// ConsumerGroupDescribe, DescribeTopicPartitions): bit 1<<op for each of
// the resource type's supported operations the principal may perform on
// the resource.
func (s *Set) AuthorizedOperations(principal, host string, res ResourceType, name string) int32 {
	if res < 0 || int(res) >= len(supportedOps) {
		return 0
	}
	var bits int32
	for _, op := range supportedOps[res] {
		if s.Authorize(principal, host, op, res, name) {
			bits |= 1 << op
		}
	}
	return bits
}
