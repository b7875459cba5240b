package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// AddPartitionsToTxn, versions 0-5.
//
// Version notes:
//   - v0-v3: one transaction, sent by clients
//   - v2: PRODUCER_FENCED (KIP-588); below v2 it is INVALID_PRODUCER_EPOCH
//   - v3: flexible versions
//   - v4: batched Transactions and VerifyOnly, sent by brokers (KIP-890
//     part 1); an add at v4+ is a partition leader's implicit add for
//     Produce v12+ or TxnOffsetCommit v5+, recorded as transaction.version 2
//   - v5: TRANSACTION_ABORTABLE (KIP-890); below v5 a verification gets
//     INVALID_TXN_STATE instead
//
// ACLs: v0-v3 (clients) need Write on the transactional id, else every
// partition answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED, and Write on
// each topic: a partition of a topic without it (or of an internal topic)
// answers TOPIC_AUTHORIZATION_FAILED, unknown ones
// UNKNOWN_TOPIC_OR_PARTITION, and then the rest OPERATION_NOT_ATTEMPTED.
// v4+ (brokers) need ClusterAction on the cluster, else the top-level
// CLUSTER_AUTHORIZATION_FAILED.
func init() { register(int16(kmsg.AddPartitionsToTxn), 0, 5, (*Broker).handleAddPartitionsToTxn) }

// handleAddPartitionsToTxn answers AddPartitionsToTxn v0-v5. Clients send
// v0-v3 with one transaction; brokers send v4+ with a batch of
// transactions: a partition leader whose transactional produce (or a group
// coordinator whose TxnOffsetCommit) names an id coordinated here sends
// VerifyOnly for KIP-890 part 1 and an add for part 2 (txnRouter; a
// leader that is the coordinator itself asks it directly). PRODUCER_FENCED
// exists from v2, TRANSACTION_ABORTABLE from v5.
func (b *Broker) handleAddPartitionsToTxn(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	img := b.image()
	az := c.authz()
	if req.Version < 4 {
		var topics []addTxnTopic
		for _, t := range req.Topics {
			topics = append(topics, addTxnTopic{t.Topic, t.Partitions})
		}
		var codes map[txn.TopicPartition]int16
		if az.txnID(acl.OpWrite, req.TransactionalID) {
			denied := func(topic string) bool { return !az.topic(acl.OpWrite, topic) }
			codes = b.addPartitionsToTxn(ctx, img, req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, false, topics, denied)
		} else {
			codes = make(map[txn.TopicPartition]int16)
			for _, t := range topics {
				for _, p := range t.partitions {
					codes[txn.TopicPartition{Topic: t.name, Partition: p}] = kerr.TransactionalIDAuthorizationFailed.Code
				}
			}
		}
		for _, t := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.name
			for _, p := range t.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[txn.TopicPartition{Topic: t.name, Partition: p}]
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	if !az.cluster(acl.OpClusterAction) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	for _, tx := range req.Transactions {
		var topics []addTxnTopic
		for _, t := range tx.Topics {
			topics = append(topics, addTxnTopic{t.Topic, t.Partitions})
		}
		codes := b.addPartitionsToTxn(ctx, img, req.Version, tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly, topics, nil)
		rtx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rtx.TransactionalID = tx.TransactionalID
		for _, t := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			rt.Topic = t.name
			for _, p := range t.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[txn.TopicPartition{Topic: t.name, Partition: p}]
				rt.Partitions = append(rt.Partitions, rp)
			}
			rtx.Topics = append(rtx.Topics, rt)
		}
		resp.Transactions = append(resp.Transactions, rtx)
	}
	return resp, nil
}

type addTxnTopic struct {
	name       string
	partitions []int32
}

// addPartitionsToTxn adds (or with verifyOnly checks) one transaction's
// partitions and returns each partition's error code. As in Kafka, unknown
// partitions fail the request: they get UNKNOWN_TOPIC_OR_PARTITION (an
// internal topic a client, v0-v3, names gets TOPIC_AUTHORIZATION_FAILED,
// as Kafka, and so does a topic denied reports, checked before existence)
// and the others OPERATION_NOT_ATTEMPTED. denied is nil for v4+.
func (b *Broker) addPartitionsToTxn(ctx context.Context, img *metadata.Image, version int16, id string, pid int64, epoch int16, verifyOnly bool, topics []addTxnTopic, denied func(string) bool) map[txn.TopicPartition]int16 {
	codes := make(map[txn.TopicPartition]int16)
	var tps []txn.TopicPartition
	unknown := false
	for _, t := range topics {
		mt, ok := img.Topics[t.name]
		for _, p := range t.partitions {
			tp := txn.TopicPartition{Topic: t.name, Partition: p}
			tps = append(tps, tp)
			if version < 4 && (isInternalTopic(t.name) || denied != nil && denied(t.name)) {
				// A client may not add an internal topic: Kafka leaves
				// them out of the topics it authorizes for v0-v3.
				codes[tp] = kerr.TopicAuthorizationFailed.Code
				unknown = true
			} else if _, exists := partitionOfOK(mt, ok, p); !exists {
				codes[tp] = kerr.UnknownTopicOrPartition.Code
				unknown = true
			}
		}
	}
	all := func(code int16) map[txn.TopicPartition]int16 {
		for _, tp := range tps {
			if _, set := codes[tp]; !set {
				codes[tp] = code
			}
		}
		return codes
	}
	switch {
	case unknown:
		return all(kerr.OperationNotAttempted.Code)
	case verifyOnly:
		per, err := b.txns.VerifyOnly(id, pid, epoch, tps)
		if err != nil {
			return all(txnCode(err, version, 2))
		}
		for i, tp := range tps {
			codes[tp] = errorCode(per[i])
			if codes[tp] == kerr.TransactionAbortable.Code && version < 5 {
				codes[tp] = kerr.InvalidTxnState.Code
			}
		}
		return codes
	}
	var tv int16
	if version >= 4 {
		tv = 2 // a broker adding for a Produce v12+ request
	}
	return all(txnCode(b.txns.AddPartitions(ctx, id, pid, epoch, tps, tv), version, 2))
}

func partitionOfOK(t *metadata.Topic, ok bool, p int32) (*metadata.Partition, bool) {
	if !ok || t == nil {
		return nil, false
	}
	return partitionOf(t, p)
}
