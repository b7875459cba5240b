package broker

import (
	"errors"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// What CreateAcls, DescribeAcls and DeleteAcls share: conversion between
// kmsg's ACL fields and internal/acl, and the image's ACLs as bindings.

// errSecurityDisabled: the ACL APIs without an authorizer (Kafka's
// SECURITY_DISABLED, "No Authorizer is configured").
const securityDisabledMsg = "No Authorizer is configured on the broker"

// validationMessage is the Kafka message of an acl validation error.
func validationMessage(err error) string {
	var ve *acl.ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	return err.Error()
}

// imageBindings returns the image's ACLs with their ids, sorted as
// internal/acl sorts bindings (deterministic responses).
func imageBindings(img *metadata.Image) ([]acl.Binding, map[acl.Binding][]metadata.Uuid) {
	ids := make(map[acl.Binding][]metadata.Uuid, len(img.ACLs))
	out := make([]acl.Binding, 0, len(img.ACLs))
	for _, m := range img.ACLs {
		b := bindingOf(m)
		if _, dup := ids[b]; !dup {
			out = append(out, b)
		}
		ids[b] = append(ids[b], m.ID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, ids
}

// filterOf converts a DescribeAcls or DeleteAcls filter.
func filterOf(rt, pt int8, name, principal, host *string, op, perm int8) acl.Filter {
	return acl.Filter{
		ResourceType: acl.ResourceType(rt), Name: name, PatternType: acl.PatternType(pt),
		Principal: principal, Host: host, Operation: acl.Operation(op), Permission: acl.Permission(perm),
	}
}

// describeACLResources groups bindings by resource pattern for
// DescribeAcls' response.
func describeACLResources(bs []acl.Binding) []kmsg.DescribeACLsResponseResource {
	var out []kmsg.DescribeACLsResponseResource
	idx := map[acl.Pattern]int{}
	for _, b := range bs {
		i, ok := idx[b.Pattern]
		if !ok {
			r := kmsg.NewDescribeACLsResponseResource()
			r.ResourceType = kmsg.ACLResourceType(b.Pattern.Type)
			r.ResourceName = b.Pattern.Name
			r.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern.PatternType)
			out = append(out, r)
			i = len(out) - 1
			idx[b.Pattern] = i
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host = b.Entry.Principal, b.Entry.Host
		a.Operation = kmsg.ACLOperation(b.Entry.Operation)
		a.PermissionType = kmsg.ACLPermissionType(b.Entry.Permission)
		out[i].ACLs = append(out[i].ACLs, a)
	}
	return out
}
