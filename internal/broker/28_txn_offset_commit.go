package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// TxnOffsetCommit, versions 0-5 (the commit in internal/group).
//
// Version notes:
//   - v2: per-partition LeaderEpoch (KIP-320), stored from v2
//   - v3: flexible versions; Generation, MemberID and InstanceID (KIP-447),
//     checked from v3
//   - v4: TRANSACTION_ABORTABLE (KIP-890)
//   - v5: KIP-890 part 2: the commit adds the group's offsets partition to
//     the transaction itself (VerifyPartition's add flag)
//   - every served version answers STALE_MEMBER_EPOCH and GROUP_ID_NOT_FOUND
//     as ILLEGAL_GENERATION (internal/group, version < 6)
//
// ACLs: Write on the transactional id, else every partition answers
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED; Read on the group, else
// GROUP_AUTHORIZATION_FAILED; then Read on each topic, else its partitions
// answer TOPIC_AUTHORIZATION_FAILED. With no topic left neither the
// transaction nor the group coordinator is asked, as Kafka.
func init() { register(int16(kmsg.TxnOffsetCommit), 0, 5, (*Broker).handleTxnOffsetCommit) }

// handleTxnOffsetCommit checks (KIP-890) that the producer's transaction
// includes the group's __consumer_offsets partition, adding it under
// transaction.version 2 (v5+, whose clients skip AddOffsetsToTxn), and hands
// TxnOffsetCommit v0-v5 to the group coordinator.
func (b *Broker) handleTxnOffsetCommit(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.TxnOffsetCommitRequest)
	az := c.authz()
	switch {
	case !az.txnID(acl.OpWrite, req.TransactionalID):
		return txnOffsetCommitError(req, kerr.TransactionalIDAuthorizationFailed.Code), nil
	case !az.group(acl.OpRead, req.Group):
		return txnOffsetCommitError(req, kerr.GroupAuthorizationFailed.Code), nil
	}
	denied := map[string]bool{}
	sub := *req
	sub.Topics = nil
	for _, rt := range req.Topics {
		if az.topic(acl.OpRead, rt.Topic) {
			sub.Topics = append(sub.Topics, rt)
		} else {
			denied[rt.Topic] = true
		}
	}
	var got *kmsg.TxnOffsetCommitResponse
	if len(sub.Topics) > 0 || len(denied) == 0 {
		if code := b.verifyTxnOffsetCommit(ctx, &sub); code != 0 {
			got = txnOffsetCommitError(&sub, code)
		} else {
			got = b.groups.TxnOffsetCommit(ctx, &sub)
		}
	}
	if len(denied) == 0 {
		return got, nil
	}
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	next := 0
	for _, rt := range req.Topics {
		if !denied[rt.Topic] && got != nil && next < len(got.Topics) {
			resp.Topics = append(resp.Topics, got.Topics[next])
			next++
			continue
		}
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, kerr.TopicAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if got != nil {
		resp.ThrottleMillis = got.ThrottleMillis
	}
	return resp, nil
}

// verifyTxnOffsetCommit asks the transaction coordinator about the
// producer's transaction when this broker coordinates the group; other
// cases are answered by the group coordinator (NOT_COORDINATOR, …).
func (b *Broker) verifyTxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) int16 {
	if req.Group == "" || req.TransactionalID == "" {
		return 0
	}
	p, ok := b.groups.PartitionOf(req.Group)
	if !ok || !b.groups.Leads(p) {
		return 0
	}
	if b.txnVerify == nil {
		return kerr.TransactionalIDAuthorizationFailed.Code
	}
	if part, hosted := b.parts.Get(offsetsTopic, p); hosted {
		if _, open := part.OngoingTxn(req.ProducerID); open {
			return 0 // already verified by an earlier commit of this transaction
		}
	}
	return errorCode(b.txnVerify.VerifyPartition(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, offsetsTopic, p, req.Version >= 5))
}

// txnOffsetCommitError answers every partition of req with code.
func txnOffsetCommitError(req *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
