package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// `samsa acl` manages ACLs with kafka-acls' flags. The flags become
// resource rules (a resource and the operations on it; --producer and
// --consumer expand into several), and the rules, crossed with the
// principals and hosts, become ACL bindings to create or filters to list
// and delete (acl_run.go sends them). The requests are built with kmsg
// rather than kadm's ACLBuilder, which cannot express the USER resource
// type of --user-principal.

// aclMode is what the flags are for.
type aclMode int

const (
	aclCreate aclMode = iota
	aclList
	aclDelete
)

// clusterResourceName is the name of Kafka's one CLUSTER resource.
const clusterResourceName = "kafka-cluster"

// aclFlags are kafka-acls' options.
type aclFlags struct {
	allowPrincipals, denyPrincipals []string
	allowHosts, denyHosts           []string
	operations                      []string
	topics, groups, txnIDs, tokens  []string
	userPrincipals                  []string
	cluster                         bool
	pattern                         string
	producer, consumer, idempotent  bool
	force                           bool
}

func (f *aclFlags) register(fs *pflag.FlagSet, mode aclMode) {
	fs.StringArrayVar(&f.allowPrincipals, "allow-principal", nil, "principal to allow, TYPE:NAME such as User:alice (repeatable)")
	fs.StringArrayVar(&f.denyPrincipals, "deny-principal", nil, "principal to deny, TYPE:NAME (repeatable)")
	hostDefault := "any host"
	if mode == aclCreate {
		hostDefault = "*, every host"
	}
	fs.StringArrayVar(&f.allowHosts, "allow-host", nil, "host (IP address) the allowed principals connect from (repeatable; default: "+hostDefault+")")
	fs.StringArrayVar(&f.denyHosts, "deny-host", nil, "host (IP address) the denied principals connect from (repeatable; default: "+hostDefault+")")
	fs.StringArrayVar(&f.operations, "operation", nil, "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens or All (repeatable)")
	fs.StringArrayVar(&f.topics, "topic", nil, "topic resource (repeatable; * is every topic)")
	fs.StringArrayVar(&f.groups, "group", nil, "consumer group resource (repeatable)")
	fs.BoolVar(&f.cluster, "cluster", false, "the cluster resource")
	fs.StringArrayVar(&f.txnIDs, "transactional-id", nil, "transactional id resource (repeatable)")
	fs.StringArrayVar(&f.tokens, "delegation-token", nil, "delegation token resource (repeatable)")
	fs.StringArrayVar(&f.userPrincipals, "user-principal", nil, "user resource, a principal such as User:alice (repeatable; for CreateTokens, DescribeTokens)")
	switch mode {
	case aclCreate:
		fs.StringVar(&f.pattern, "resource-pattern-type", "LITERAL", "LITERAL or PREFIXED")
	case aclList:
		fs.StringVar(&f.pattern, "resource-pattern-type", "ANY", "ANY (exact name, any pattern), MATCH (every ACL that applies to the name), LITERAL or PREFIXED")
	case aclDelete:
		fs.StringVar(&f.pattern, "resource-pattern-type", "LITERAL", "LITERAL, PREFIXED, ANY (exact name, any pattern) or MATCH (every ACL that applies to the name: use with care)")
	}
	if mode != aclList {
		fs.BoolVar(&f.producer, "producer", false, "the producer's ACLs: Write, Describe, Create on --topic; Write, Describe on --transactional-id")
		fs.BoolVar(&f.consumer, "consumer", false, "the consumer's ACLs: Read, Describe on --topic; Read on --group")
		fs.BoolVar(&f.idempotent, "idempotent", false, "with --producer: IdempotentWrite on the cluster")
	}
	if mode == aclDelete {
		fs.BoolVar(&f.force, "force", false, "delete the matching ACLs (default: only show them)")
	}
}

// aclEntry is one ACL binding, or, to list or delete, one filter in which
// an empty principal, host or name matches any.
type aclEntry struct {
	perm      kmsg.ACLPermissionType
	principal string
	host      string
	op        kmsg.ACLOperation
	typ       kmsg.ACLResourceType
	name      string
	pattern   kmsg.ACLResourcePatternType
}

// String is the entry in one line, for tests and messages.
func (e aclEntry) String() string {
	orAny := func(s string) string {
		if s == "" {
			return "<any>"
		}
		return s
	}
	return fmt.Sprintf("%s %s from %s %s on %s %s (%s)", e.perm, orAny(e.principal), orAny(e.host), e.op, e.typ, orAny(e.name), e.pattern)
}

// aclRule is a resource and the operations on it.
type aclRule struct {
	typ  kmsg.ACLResourceType
	name string // "" in a filter: any
	ops  []kmsg.ACLOperation
}

// aclGrant is who an ACL is for: a permission, principal and host ("" in a
// filter: any).
type aclGrant struct {
	perm            kmsg.ACLPermissionType
	principal, host string
}

// entries crosses the rules with the grants: the ACLs to create (mode
// aclCreate) or the filters to list or delete.
func (f *aclFlags) entries(mode aclMode) ([]aclEntry, error) {
	pattern, err := parseACLPattern(f.pattern, mode)
	if err != nil {
		return nil, err
	}
	rules, err := f.rules(mode)
	if err != nil {
		return nil, err
	}
	grants, err := f.grants(mode)
	if err != nil {
		return nil, err
	}
	var out []aclEntry
	for _, r := range rules {
		for _, op := range r.ops {
			for _, g := range grants {
				out = append(out, aclEntry{perm: g.perm, principal: g.principal, host: g.host, op: op, typ: r.typ, name: r.name, pattern: pattern})
			}
		}
	}
	return out, nil
}

// parseACLPattern parses --resource-pattern-type.
func parseACLPattern(s string, mode aclMode) (kmsg.ACLResourcePatternType, error) {
	p, err := kmsg.ParseACLResourcePatternType(s)
	switch {
	case err == nil && mode == aclCreate && (p == kmsg.ACLResourcePatternTypeLiteral || p == kmsg.ACLResourcePatternTypePrefixed):
		return p, nil
	case mode == aclCreate:
		return 0, fmt.Errorf("invalid --resource-pattern-type %q: want LITERAL or PREFIXED", s)
	case err == nil && p != kmsg.ACLResourcePatternTypeUnknown:
		return p, nil
	}
	return 0, fmt.Errorf("invalid --resource-pattern-type %q: want ANY, MATCH, LITERAL or PREFIXED", s)
}

// rules turns the resource, operation and convenience flags into rules.
func (f *aclFlags) rules(mode aclMode) ([]aclRule, error) {
	if f.idempotent && !f.producer {
		return nil, errors.New("--idempotent needs --producer")
	}
	if f.producer || f.consumer {
		return f.convenienceRules()
	}
	ops, err := parseACLOperations(f.operations, mode)
	if err != nil {
		return nil, err
	}
	res, err := f.resources()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		switch mode {
		case aclCreate:
			return nil, errors.New("no resource: give --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal")
		case aclDelete:
			return nil, errors.New("no resource: give the --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal whose ACLs to delete")
		}
		return []aclRule{{typ: kmsg.ACLResourceTypeAny, ops: ops}}, nil
	}
	var rules []aclRule
	for _, r := range res {
		if mode == aclCreate {
			if err := checkOperations(r.typ, ops); err != nil {
				return nil, err
			}
		}
		r.ops = ops
		rules = append(rules, r)
	}
	return rules, nil
}

// resources lists the resources the flags name, without operations.
func (f *aclFlags) resources() ([]aclRule, error) {
	var out []aclRule
	for _, src := range []struct {
		flag  string
		typ   kmsg.ACLResourceType
		names []string
	}{
		{"--topic", kmsg.ACLResourceTypeTopic, f.topics},
		{"--group", kmsg.ACLResourceTypeGroup, f.groups},
		{"--transactional-id", kmsg.ACLResourceTypeTransactionalId, f.txnIDs},
		{"--delegation-token", kmsg.ACLResourceTypeDelegationToken, f.tokens},
		{"--user-principal", kmsg.ACLResourceTypeUser, f.userPrincipals},
	} {
		for _, n := range src.names {
			n = strings.TrimSpace(n)
			if n == "" {
				return nil, fmt.Errorf("invalid %s \"\": want a name", src.flag)
			}
			out = append(out, aclRule{typ: src.typ, name: n})
		}
	}
	if f.cluster {
		out = append(out, aclRule{typ: kmsg.ACLResourceTypeCluster, name: clusterResourceName})
	}
	return out, nil
}

// convenienceRules expands --producer and --consumer as kafka-acls does.
func (f *aclFlags) convenienceRules() ([]aclRule, error) {
	switch {
	case len(f.operations) > 0:
		return nil, errors.New("--operation cannot be used with --producer or --consumer")
	case len(f.denyPrincipals) > 0 || len(f.denyHosts) > 0:
		return nil, errors.New("--deny-principal and --deny-host cannot be used with --producer or --consumer")
	case f.cluster || len(f.tokens) > 0 || len(f.userPrincipals) > 0:
		return nil, errors.New("--cluster, --delegation-token and --user-principal cannot be used with --producer or --consumer")
	case len(f.topics) == 0:
		return nil, errors.New("--producer and --consumer need --topic")
	case f.consumer && len(f.groups) == 0:
		return nil, errors.New("--consumer needs --group")
	case !f.consumer && len(f.groups) > 0:
		return nil, errors.New("--group needs --consumer (or --operation)")
	case !f.producer && len(f.txnIDs) > 0:
		return nil, errors.New("--transactional-id needs --producer (or --operation)")
	}
	res, err := f.resources()
	if err != nil {
		return nil, err
	}
	var topicOps []kmsg.ACLOperation
	if f.producer {
		topicOps = append(topicOps, kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe, kmsg.ACLOperationCreate)
	}
	if f.consumer {
		topicOps = append(topicOps, kmsg.ACLOperationRead)
		if !f.producer {
			topicOps = append(topicOps, kmsg.ACLOperationDescribe)
		}
	}
	for i := range res {
		switch res[i].typ {
		case kmsg.ACLResourceTypeTopic:
			res[i].ops = topicOps
		case kmsg.ACLResourceTypeTransactionalId:
			res[i].ops = []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe}
		case kmsg.ACLResourceTypeGroup:
			res[i].ops = []kmsg.ACLOperation{kmsg.ACLOperationRead}
		}
	}
	if f.idempotent {
		res = append(res, aclRule{typ: kmsg.ACLResourceTypeCluster, name: clusterResourceName, ops: []kmsg.ACLOperation{kmsg.ACLOperationIdempotentWrite}})
	}
	return res, nil
}

// parseACLOperations parses --operation; to list or delete, none means any.
func parseACLOperations(names []string, mode aclMode) ([]kmsg.ACLOperation, error) {
	if len(names) == 0 {
		if mode == aclCreate {
			return nil, errors.New("no operation: give --operation (repeatable), or --producer or --consumer")
		}
		return []kmsg.ACLOperation{kmsg.ACLOperationAny}, nil
	}
	var ops []kmsg.ACLOperation
	for _, n := range names {
		op, err := kmsg.ParseACLOperation(n)
		if err != nil || op == kmsg.ACLOperationUnknown || (op == kmsg.ACLOperationAny && mode == aclCreate) {
			return nil, fmt.Errorf("invalid --operation %q: want Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens or All", n)
		}
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	return ops, nil
}

// aclResourceOps are the operations each resource type has, Kafka's
// (AclEntry.supportedOperations); All fits every type.
var aclResourceOps = map[kmsg.ACLResourceType][]kmsg.ACLOperation{
	kmsg.ACLResourceTypeTopic: {kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe,
		kmsg.ACLOperationDelete, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs},
	kmsg.ACLResourceTypeGroup: {kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete},
	kmsg.ACLResourceTypeCluster: {kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe},
	kmsg.ACLResourceTypeTransactionalId: {kmsg.ACLOperationDescribe, kmsg.ACLOperationWrite},
	kmsg.ACLResourceTypeDelegationToken: {kmsg.ACLOperationDescribe},
	kmsg.ACLResourceTypeUser:            {kmsg.ACLOperationCreateTokens, kmsg.ACLOperationDescribeTokens},
}

// checkOperations rejects an operation the resource type does not have, as
// kafka-acls does.
func checkOperations(typ kmsg.ACLResourceType, ops []kmsg.ACLOperation) error {
	valid := aclResourceOps[typ]
	for _, op := range ops {
		if op != kmsg.ACLOperationAll && !slices.Contains(valid, op) {
			names := make([]string, 0, len(valid)+1)
			for _, v := range valid {
				names = append(names, v.String())
			}
			return fmt.Errorf("operation %s does not apply to resource type %s: want %s or ALL", op, typ, strings.Join(names, ", "))
		}
	}
	return nil
}

// grants turns the principal and host flags into grants. To create, hosts
// default to * and a principal is needed; to list or delete, what is not
// given matches any.
func (f *aclFlags) grants(mode aclMode) ([]aclGrant, error) {
	for _, p := range slices.Concat(f.allowPrincipals, f.denyPrincipals) {
		if typ, name, ok := strings.Cut(p, ":"); !ok || strings.TrimSpace(typ) == "" || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("invalid principal %q: want TYPE:NAME such as User:alice", p)
		}
	}
	if mode != aclCreate && len(f.allowPrincipals)+len(f.denyPrincipals)+len(f.allowHosts)+len(f.denyHosts) == 0 {
		return []aclGrant{{perm: kmsg.ACLPermissionTypeAny}}, nil
	}
	if mode == aclCreate {
		switch {
		case len(f.allowHosts) > 0 && len(f.allowPrincipals) == 0:
			return nil, errors.New("--allow-host needs --allow-principal")
		case len(f.denyHosts) > 0 && len(f.denyPrincipals) == 0:
			return nil, errors.New("--deny-host needs --deny-principal")
		case len(f.allowPrincipals)+len(f.denyPrincipals) == 0:
			return nil, errors.New("no principal: give --allow-principal or --deny-principal (such as User:alice)")
		}
	}
	allow := crossGrants(kmsg.ACLPermissionTypeAllow, f.allowPrincipals, f.allowHosts, mode)
	deny := crossGrants(kmsg.ACLPermissionTypeDeny, f.denyPrincipals, f.denyHosts, mode)
	return append(allow, deny...), nil
}

// crossGrants crosses principals with hosts for one permission. To create,
// no hosts means *; to filter, no principals or no hosts means any.
func crossGrants(perm kmsg.ACLPermissionType, principals, hosts []string, mode aclMode) []aclGrant {
	if len(principals) == 0 && (mode == aclCreate || len(hosts) == 0) {
		return nil
	}
	if len(hosts) == 0 {
		hosts = []string{""}
		if mode == aclCreate {
			hosts = []string{"*"}
		}
	}
	if len(principals) == 0 {
		principals = []string{""}
	}
	var out []aclGrant
	for _, p := range principals {
		for _, h := range hosts {
			out = append(out, aclGrant{perm: perm, principal: strings.TrimSpace(p), host: strings.TrimSpace(h)})
		}
	}
	return out
}
