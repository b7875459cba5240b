package broker

import (
	"github.com/samsa-streaming/samsa/internal/acl"
)

// What the data-plane handlers (produce, fetch, metadata, groups,
// transactions, topic admin) share for authorization: one ACL set per
// request, and each decision taken once however many partitions name the
// same resource.

// authorizedOpsOmitted is the *AuthorizedOperations value Kafka leaves in
// place when operations are not reported (INT32_MIN).
const authorizedOpsOmitted int32 = -2147483648

// reqAuthz authorizes one request's principal against the ACL set of the
// moment the request began; a nil set (no authorizer) allows everything.
type reqAuthz struct {
	c    *conn
	set  *acl.Set
	memo map[authzKey]bool
}

type authzKey struct {
	op   acl.Operation
	rt   acl.ResourceType
	name string
}

// authz starts the authorization of one request.
func (c *conn) authz() *reqAuthz {
	return &reqAuthz{c: c, set: c.b.aclSet(c.b.image())}
}

// enabled reports whether an authorizer is configured.
func (a *reqAuthz) enabled() bool { return a.set != nil }

// can reports whether the principal may do op on the named resource.
func (a *reqAuthz) can(op acl.Operation, rt acl.ResourceType, name string) bool {
	if a.set == nil {
		return true
	}
	k := authzKey{op, rt, name}
	if ok, seen := a.memo[k]; seen {
		return ok
	}
	ok := a.set.Authorize(a.c.principal, a.c.ip, op, rt, name)
	if !ok {
		a.c.b.lg.Debug("authorization denied", "principal", a.c.principal, "host", a.c.ip, "operation", op, "resource_type", rt, "resource", name)
	}
	if a.memo == nil {
		a.memo = make(map[authzKey]bool)
	}
	a.memo[k] = ok
	return ok
}

// topic is can on a topic.
func (a *reqAuthz) topic(op acl.Operation, name string) bool {
	return a.can(op, acl.ResourceTopic, name)
}

// group is can on a consumer group.
func (a *reqAuthz) group(op acl.Operation, id string) bool {
	return a.can(op, acl.ResourceGroup, id)
}

// txnID is can on a transactional id.
func (a *reqAuthz) txnID(op acl.Operation, id string) bool {
	return a.can(op, acl.ResourceTransactionalID, id)
}

// cluster is can on the cluster.
func (a *reqAuthz) cluster(op acl.Operation) bool {
	return a.can(op, acl.ResourceCluster, acl.ClusterName)
}

// anyTopic is Kafka's authorizeByResourceType on topics.
func (a *reqAuthz) anyTopic(op acl.Operation) bool {
	return a.set == nil || a.set.AuthorizeAny(a.c.principal, a.c.ip, op, acl.ResourceTopic)
}

// ops is the KIP-430 authorized-operations bit field of a resource: every
// operation Kafka supports on its type without an authorizer.
func (a *reqAuthz) ops(rt acl.ResourceType, name string) int32 {
	if a.set == nil {
		var bits int32
		for _, op := range acl.SupportedOperations(rt) {
			bits |= 1 << op
		}
		return bits
	}
	return a.set.AuthorizedOperations(a.c.principal, a.c.ip, rt, name)
}
