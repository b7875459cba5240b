package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// FindCoordinator, versions 0-6.
//
// Version notes:
//   - v0: group coordinators only (CoordinatorType 0)
//   - v1: CoordinatorType (transactions), ErrorMessage, throttle time
//   - v3: flexible versions
//   - v4: batched CoordinatorKeys and Coordinators (KIP-699); below v4 the
//     single key's answer fills the top-level fields
//   - v5: TRANSACTION_ABORTABLE (KIP-890), never sent here
//   - v6: share group key type 2 (KIP-932): INVALID_REQUEST, Samsa has no
//     share groups (below v6, type 2 is an unknown type, INVALID_REQUEST too)
//
// ACLs, per key (v4+; the one key's top-level answer below): a group key
// needs Describe on the group (GROUP_AUTHORIZATION_FAILED), a transaction
// key Describe on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), a share key (v6) ClusterAction
// (CLUSTER_AUTHORIZATION_FAILED); a refused key is answered node -1 and
// creates no internal topic.
func init() { register(int16(kmsg.FindCoordinator), 0, 6, (*Broker).handleFindCoordinator) }

// Coordinator key types.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
	coordinatorShare       = 2
)

// handleFindCoordinator answers FindCoordinator v0-v6 (batched keys from
// v4). The first group lookup creates __consumer_offsets, as in Kafka.
func (b *Broker) handleFindCoordinator(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	az := c.authz()
	find := func(key string) kmsg.FindCoordinatorResponseCoordinator {
		if code := findCoordinatorDenied(az, req.CoordinatorType, key, req.Version); code != nil {
			co := kmsg.NewFindCoordinatorResponseCoordinator()
			co.Key, co.NodeID, co.Host, co.Port = key, -1, "", -1
			co.ErrorCode = code.Code
			if req.Version < 4 { // v4+ Kafka sets no message
				co.ErrorMessage = kmsg.StringPtr(code.Description)
			}
			return co
		}
		return b.findCoordinator(ctx, req.CoordinatorType, key, req.Version, c.l.Name)
	}
	if req.Version < 4 {
		co := find(req.CoordinatorKey)
		resp.ErrorCode, resp.ErrorMessage = co.ErrorCode, co.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = co.NodeID, co.Host, co.Port
		return resp, nil
	}
	for _, key := range req.CoordinatorKeys {
		resp.Coordinators = append(resp.Coordinators, find(key))
	}
	return resp, nil
}

// findCoordinatorDenied is Kafka's authorization of one coordinator key,
// nil when allowed.
func findCoordinatorDenied(az *reqAuthz, typ int8, key string, version int16) *kerr.Error {
	switch {
	case typ == coordinatorGroup && !az.group(acl.OpDescribe, key):
		return kerr.GroupAuthorizationFailed
	case typ == coordinatorTransaction && !az.txnID(acl.OpDescribe, key):
		return kerr.TransactionalIDAuthorizationFailed
	case typ == coordinatorShare && version >= 6 && !az.cluster(acl.OpClusterAction):
		return kerr.ClusterAuthorizationFailed
	}
	return nil
}

func (b *Broker) findCoordinator(ctx context.Context, typ int8, key string, version int16, listener string) kmsg.FindCoordinatorResponseCoordinator {
	co := kmsg.NewFindCoordinatorResponseCoordinator()
	co.Key = key
	fail := func(code *kerr.Error, msg string) kmsg.FindCoordinatorResponseCoordinator {
		co.NodeID, co.Host, co.Port = -1, "", -1
		co.ErrorCode = code.Code
		co.ErrorMessage = kmsg.StringPtr(msg)
		return co
	}
	switch {
	case typ == coordinatorTransaction:
		return b.findTxnCoordinator(ctx, co, key, listener, fail)
	case typ == coordinatorShare && version >= 6:
		return fail(kerr.InvalidRequest, "Samsa does not support share groups")
	case typ != coordinatorGroup:
		return fail(kerr.InvalidRequest, "unknown coordinator type")
	}
	t, err := b.ensureOffsetsTopic(ctx)
	if err != nil || len(t.Partitions) == 0 {
		b.lg.Warn("cannot create the group metadata topic", "err", err)
		return fail(kerr.CoordinatorNotAvailable, "the group metadata topic is not available")
	}
	img := b.image()
	if cur, ok := img.Topics[offsetsTopic]; ok {
		t = cur
	}
	mp := t.Partitions[coordinator.PartitionFor(key, int32(len(t.Partitions)))]
	// Kafka answers the partition's leader, wherever it is.
	host, port, ok := brokerEndpoint(img, mp.Leader, listener)
	if mp.Leader == b.cfg.NodeID && !ok {
		host, port, ok = b.selfEndpoint(listener)
	}
	if !ok {
		return fail(kerr.CoordinatorNotAvailable, "the group's coordinator has no leader")
	}
	co.NodeID, co.Host, co.Port = mp.Leader, host, port
	return co
}

// findTxnCoordinator answers a transactional id's coordinator: the leader of
// its __transaction_state partition, abs(javaHashCode(id)) % partitions as
// in Kafka. The first lookup creates the topic.
func (b *Broker) findTxnCoordinator(ctx context.Context, co kmsg.FindCoordinatorResponseCoordinator, key, listener string, fail func(*kerr.Error, string) kmsg.FindCoordinatorResponseCoordinator) kmsg.FindCoordinatorResponseCoordinator {
	t, err := b.ensureTxnTopic(ctx)
	if err != nil || len(t.Partitions) == 0 {
		b.lg.Warn("cannot create the transaction state topic", "err", err)
		return fail(kerr.CoordinatorNotAvailable, "the transaction state topic is not available")
	}
	img := b.image()
	if cur, ok := img.Topics[txnStateTopic]; ok {
		t = cur
	}
	mp := t.Partitions[coordinator.PartitionFor(key, int32(len(t.Partitions)))]
	host, port, ok := brokerEndpoint(img, mp.Leader, listener)
	if mp.Leader == b.cfg.NodeID && !ok {
		host, port, ok = b.selfEndpoint(listener)
	}
	if !ok {
		return fail(kerr.CoordinatorNotAvailable, "the transactional id's coordinator has no leader")
	}
	co.NodeID, co.Host, co.Port = mp.Leader, host, port
	return co
}

// selfEndpoint is this broker's own address on the listener, from its
// registration even while it is fenced, else the advertised address.
func (b *Broker) selfEndpoint(listener string) (string, int32, bool) {
	if br, ok := b.image().Brokers[b.cfg.NodeID]; ok {
		return br.Endpoint(listener)
	}
	return b.host, b.port, true
}
