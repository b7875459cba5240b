package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// AddOffsetsToTxn, versions 0-4.
//
// Version notes:
//   - v2: PRODUCER_FENCED (KIP-588); below v2 it is INVALID_PRODUCER_EPOCH
//   - v3: flexible versions
//   - v4: TRANSACTION_ABORTABLE (KIP-890)
//   - transaction.version 2 clients skip it: TxnOffsetCommit v5+ adds the
//     offsets partition itself
//
// ACLs: Write on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then Read on the group
// (GROUP_AUTHORIZATION_FAILED).
func init() { register(int16(kmsg.AddOffsetsToTxn), 0, 4, (*Broker).handleAddOffsetsToTxn) }

// handleAddOffsetsToTxn answers AddOffsetsToTxn v0-v4: the group's
// __consumer_offsets partition joins the transaction, so that EndTxn's
// markers reach the transactional offset commits. PRODUCER_FENCED exists
// from v2.
func (b *Broker) handleAddOffsetsToTxn(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	az := c.authz()
	switch {
	case !az.txnID(acl.OpWrite, req.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	case !az.group(acl.OpRead, req.Group):
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	t, err := b.ensureOffsetsTopic(ctx)
	if err != nil || len(t.Partitions) == 0 {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil
	}
	if cur, ok := b.image().Topics[offsetsTopic]; ok {
		t = cur
	}
	tp := txn.TopicPartition{Topic: offsetsTopic, Partition: coordinator.PartitionFor(req.Group, int32(len(t.Partitions)))}
	err = b.txns.AddPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp}, 0)
	resp.ErrorCode = txnCode(err, req.Version, 2)
	return resp, nil
}
