package broker

import (
	"errors"
	"reflect"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Authorization (Kafka's StandardAuthorizer): with authorizer.class.name
// set, every request is checked against the ACLs in the metadata image by
// the operations internal/acl's table lists for its API; without it,
// everything is allowed, as in Kafka.

// authorizer holds the ACL set built from the latest image's ACLs; it is
// rebuilt when the image's ACL map changes (maps are replaced on every
// change, never mutated).
type authorizer struct {
	cfg acl.Config

	mu   sync.Mutex
	from uintptr // identity of the ACL map set was built from
	set  *acl.Set
	lg   func(msg string, args ...any)
}

// aclSet returns the authorizer's set for img, or nil when there is no
// authorizer (everything allowed).
func (b *Broker) aclSet(img *metadata.Image) *acl.Set {
	a := b.authz
	if a == nil {
		return nil
	}
	id := reflect.ValueOf(img.ACLs).Pointer()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set != nil && a.from == id {
		return a.set
	}
	bs := make([]acl.Binding, 0, len(img.ACLs))
	for _, m := range img.ACLs {
		bs = append(bs, bindingOf(m))
	}
	set, err := acl.NewSet(a.cfg, bs)
	if err != nil {
		// The controller validated each ACL before proposing it; an
		// ACL that does not build is left out rather than opening up.
		a.lg("ACLs in the metadata image do not build; refusing every request until they do", "err", err)
		set, _ = acl.NewSet(acl.Config{SuperUsers: a.cfg.SuperUsers}, nil)
	}
	a.set, a.from = set, id
	return set
}

// bindingOf converts an image ACL.
func bindingOf(m metadata.ACL) acl.Binding {
	return acl.Binding{
		Pattern: acl.Pattern{Type: acl.ResourceType(m.ResourceType), Name: m.ResourceName, PatternType: acl.PatternType(m.PatternType)},
		Entry:   acl.Entry{Principal: m.Principal, Host: m.Host, Operation: acl.Operation(m.Operation), Permission: acl.Permission(m.Permission)},
	}
}

// can reports whether the connection's principal may do op on the named
// resource.
func (c *conn) can(op acl.Operation, rt acl.ResourceType, name string) bool {
	set := c.b.aclSet(c.b.image())
	if set == nil {
		return true
	}
	ok := set.Authorize(c.principal, c.ip, op, rt, name)
	if !ok {
		c.b.lg.Debug("authorization denied", "principal", c.principal, "host", c.ip, "operation", op, "resource_type", rt, "resource", name)
	}
	return ok
}

// canCluster is can on the cluster resource.
func (c *conn) canCluster(op acl.Operation) bool {
	return c.can(op, acl.ResourceCluster, acl.ClusterName)
}

// canTopic is can on a topic.
func (c *conn) canTopic(op acl.Operation, topic string) bool {
	return c.can(op, acl.ResourceTopic, topic)
}

// canAnyTopic is Kafka's "any topic" check (acl.Set.AuthorizeAny).
func (c *conn) canAnyTopic(op acl.Operation) bool {
	set := c.b.aclSet(c.b.image())
	return set == nil || set.AuthorizeAny(c.principal, c.ip, op, acl.ResourceTopic)
}

// authorizedOps is the KIP-430 authorized-operations bit field of a
// resource for the connection's principal (every supported operation
// without an authorizer).
func (c *conn) authorizedOps(rt acl.ResourceType, name string) int32 {
	set := c.b.aclSet(c.b.image())
	if set == nil {
		var bits int32
		for _, op := range acl.SupportedOperations(rt) {
			bits |= 1 << op
		}
		return bits
	}
	return set.AuthorizedOperations(c.principal, c.ip, rt, name)
}

// errInterBrokerOnly closes a connection that sends an inter-broker
// request on a client listener.
var errInterBrokerOnly = errors.New("broker: inter-broker request on a client listener")

// interBrokerAllowed reports whether the connection may send the
// inter-broker request r (a replica Fetch or OffsetForLeaderEpoch, or
// WriteTxnMarkers): always on the inter-broker listener, or when brokers
// share the client listener (then ACLs decide, in the handler); on a client
// listener beside a separate inter-broker one, only with ClusterAction
// under an authorizer. A plain client posing as a follower cannot move the
// high watermark or write transaction markers.
func (c *conn) interBrokerAllowed(r *request) bool {
	if c.l.InterBroker || !c.b.cfg.SeparateInterBroker || !interBrokerRequest(r) {
		return true
	}
	return c.b.authz != nil && c.canCluster(acl.OpClusterAction)
}

// interBrokerRequest reports whether r is one only brokers send.
func interBrokerRequest(r *request) bool {
	switch req := r.req.(type) {
	case *kmsg.FetchRequest:
		return replicaOf(req) >= 0
	case *kmsg.OffsetForLeaderEpochRequest:
		return req.Version >= 3 && req.ReplicaID >= 0
	case *kmsg.WriteTxnMarkersRequest:
		return true
	}
	return false
}

// configResourceAllowed is Kafka's check of one DescribeConfigs,
// AlterConfigs or IncrementalAlterConfigs resource: op on the topic
// (TOPIC_AUTHORIZATION_FAILED), on the cluster for broker and broker-logger
// resources (CLUSTER_AUTHORIZATION_FAILED), on the group for group
// resources (GROUP_AUTHORIZATION_FAILED). nil when allowed.
func (c *conn) configResourceAllowed(op acl.Operation, typ kmsg.ConfigResourceType, name string) error {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		if !c.canTopic(op, name) {
			return newTopicError(kerr.TopicAuthorizationFailed, "")
		}
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger, kmsg.ConfigResourceType(16):
		if !c.canCluster(op) {
			return newTopicError(kerr.ClusterAuthorizationFailed, "")
		}
	case kmsg.ConfigResourceType(32):
		if !c.can(op, acl.ResourceGroup, name) {
			return newTopicError(kerr.GroupAuthorizationFailed, "")
		}
	}
	return nil
}
