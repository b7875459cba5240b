package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// txnVerifier is the partition leader's view of the transaction
// coordinator (KIP-890). The broker installs a txnRouter over its own
// coordinator and the inter-broker client; until then, transactional
// produce is refused.
type txnVerifier interface {
	// VerifyPartition checks that transactionalID has an ongoing
	// transaction with this producer id and epoch that includes the
	// partition (KIP-890 part 1). With add (Produce v12+ under
	// transaction.version 2) the coordinator adds the partition itself
	// (KIP-890 part 2). It returns a *kerr.Error such as INVALID_TXN_STATE,
	// INVALID_PRODUCER_EPOCH or CONCURRENT_TRANSACTIONS, or, when the
	// coordinator cannot be asked, NOT_COORDINATOR,
	// COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS or
	// NETWORK_EXCEPTION (see produceVerifyErr).
	VerifyPartition(ctx context.Context, transactionalID string, producerID int64, epoch int16, topic string, partition int32, add bool) error
}

// SetTxnVerifier installs the transaction coordinator's verifier. Call it
// before Serve.
func (b *Broker) SetTxnVerifier(v txnVerifier) { b.txnVerify = v }

// Kafka 4.0 retries CONCURRENT_TRANSACTIONS of the implicit add on the
// partition leader before answering the producer (KAFKA-18654:
// add.partitions.to.txn.retry.backoff.ms, ….backoff.max.ms): the previous
// transaction's markers are usually written within a few milliseconds.
const (
	addTxnRetryBackoff = 20 * time.Millisecond
	addTxnRetryMax     = 100 * time.Millisecond
)

// txnRouter is the broker's txnVerifier: it asks the coordinator of the
// transactional id, the leader of the id's __transaction_state partition —
// this broker's own coordinator directly, another broker's with
// AddPartitionsToTxn v4+ (VerifyOnly for part 1, an add for part 2), as
// Kafka's AddPartitionsToTxnManager does.
type txnRouter struct {
	b     *Broker
	local *txn.Coordinator
	peers *interBroker
}

func (r *txnRouter) VerifyPartition(ctx context.Context, id string, pid int64, epoch int16, topic string, part int32, add bool) error {
	deadline := time.Now().Add(addTxnRetryMax)
	for {
		err := r.verifyOnce(ctx, id, pid, epoch, topic, part, add)
		if !add || !errors.Is(err, kerr.ConcurrentTransactions) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(addTxnRetryBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (r *txnRouter) verifyOnce(ctx context.Context, id string, pid int64, epoch int16, topic string, part int32, add bool) error {
	coord, err := txnCoordinatorOf(r.b.image(), id)
	if err != nil {
		return err
	}
	if coord == r.b.cfg.NodeID {
		return r.local.VerifyPartition(ctx, id, pid, epoch, topic, part, add)
	}
	return r.remoteVerify(ctx, coord, id, pid, epoch, topic, part, add)
}

// txnCoordinatorOf is the broker coordinating transactional id: the leader
// of its __transaction_state partition, found as FindCoordinator finds it.
// COORDINATOR_NOT_AVAILABLE when the topic does not exist (no transaction
// can have begun) or the partition has no live leader.
func txnCoordinatorOf(img *metadata.Image, id string) (int32, error) {
	t, ok := img.Topics[txnStateTopic]
	if !ok || len(t.Partitions) == 0 {
		return -1, kerr.CoordinatorNotAvailable
	}
	mp, ok := partitionOf(t, coordinator.PartitionFor(id, int32(len(t.Partitions))))
	if !ok || mp.Leader < 0 {
		return -1, kerr.CoordinatorNotAvailable
	}
	if br, ok := img.Brokers[mp.Leader]; !ok || br.Fenced {
		return -1, kerr.CoordinatorNotAvailable
	}
	return mp.Leader, nil
}

// remoteVerify sends AddPartitionsToTxn v5 (v4 to a peer without v5) for
// one partition to the coordinator broker and maps its answer as Kafka's
// AddPartitionsToTxnManager does.
func (r *txnRouter) remoteVerify(ctx context.Context, coord int32, id string, pid int64, epoch int16, topic string, part int32, add bool) error {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 5
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = id, pid, epoch, !add
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, []int32{part}
	tx.Topics = append(tx.Topics, rt)
	req.Transactions = append(req.Transactions, tx)

	raw, err := r.peers.Request(ctx, coord, req, 4)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.b.lg.Info("cannot reach the transaction coordinator", "coordinator", coord, "transactional_id", id, "err", err)
		if errors.Is(err, kerr.UnsupportedVersion) {
			// A peer without broker-side AddPartitionsToTxn cannot
			// verify; Kafka then appends unverified. Samsa peers all
			// serve v4+, so this is a misconfiguration: refuse.
			return fmt.Errorf("%w: coordinator %d cannot verify: %v", kerr.InvalidTxnState, coord, err)
		}
		return fmt.Errorf("%w: transaction coordinator %d: %v", kerr.NetworkException, coord, err)
	}
	resp := raw.(*kmsg.AddPartitionsToTxnResponse)
	if resp.ErrorCode != 0 {
		if resp.ErrorCode == kerr.ClusterAuthorizationFailed.Code {
			// The producer must not see the broker's own authorization
			// failure: the verification did not complete.
			return kerr.InvalidTxnState
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	for _, rtx := range resp.Transactions {
		if rtx.TransactionalID != id {
			continue
		}
		for _, t := range rtx.Topics {
			if t.Topic != topic {
				continue
			}
			for _, p := range t.Partitions {
				if p.Partition == part {
					return verifyCodeErr(p.ErrorCode)
				}
			}
		}
	}
	return fmt.Errorf("%w: coordinator %d answered nothing for %s-%d", kerr.UnknownServerError, coord, topic, part)
}

// verifyCodeErr is a coordinator's per-partition answer as the produce path
// sees it (the same mapping as txn.Coordinator.VerifyPartition): a fenced
// producer is INVALID_PRODUCER_EPOCH, a partition outside the transaction
// INVALID_TXN_STATE.
func verifyCodeErr(code int16) error {
	switch code {
	case 0:
		return nil
	case kerr.ProducerFenced.Code:
		return kerr.InvalidProducerEpoch
	case kerr.TransactionAbortable.Code:
		return kerr.InvalidTxnState
	}
	return kerr.ErrorForCode(code)
}

// produceVerifyErr is a verification failure as a Produce response carries
// it (Kafka's ReplicaManager): the retriable failures to verify —
// CONCURRENT_TRANSACTIONS, NETWORK_EXCEPTION and the coordinator being
// elsewhere, loading or unavailable — become NOT_ENOUGH_REPLICAS, which
// every producer retries without refreshing its metadata.
func produceVerifyErr(err error) error {
	for _, retriable := range []*kerr.Error{kerr.ConcurrentTransactions, kerr.NetworkException,
		kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, kerr.NotCoordinator} {
		if errors.Is(err, retriable) {
			return fmt.Errorf("%w: unable to verify the partition has been added to the transaction: %v", kerr.NotEnoughReplicas, err)
		}
	}
	return err
}
