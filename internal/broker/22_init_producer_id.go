package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// InitProducerID, versions 0-5.
//
// Version notes:
//   - v2: flexible versions
//   - v3: ProducerID and ProducerEpoch (KIP-360): a producer may resume
//     with a bumped epoch; an idempotent one keeps its id (below v3 both
//     are -1, so it gets a new id)
//   - v4: PRODUCER_FENCED (KIP-588); below v4 it is INVALID_PRODUCER_EPOCH
//     (txnCode)
//   - v5: TRANSACTION_ABORTABLE (KIP-890)
//
// ACLs: with a transactional id, Write on it, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED; without one, IdempotentWrite on
// the cluster or Write on any topic (KIP-679), else
// CLUSTER_AUTHORIZATION_FAILED. The producer id and epoch are then -1.
func init() { register(int16(kmsg.InitProducerID), 0, 5, (*Broker).handleInitProducerID) }

// producerIDBlockSize is how many producer ids a broker takes from the
// metadata log at a time, as Kafka's ProducerIdManager does.
const producerIDBlockSize = 1000

// pidBlock hands out producer ids from the block this broker holds.
type pidBlock struct {
	mu        sync.Mutex
	next, end int64
}

func (b *Broker) nextProducerID(ctx context.Context) (int64, error) {
	b.pids.mu.Lock()
	defer b.pids.mu.Unlock()
	if b.pids.next >= b.pids.end {
		img, err := b.ctl.Propose(ctx, metadata.AllocateProducerIDs{BrokerID: b.cfg.NodeID, Count: producerIDBlockSize})
		if err != nil {
			return -1, err
		}
		b.pids.end = img.NextProducerID
		b.pids.next = img.NextProducerID - producerIDBlockSize
	}
	id := b.pids.next
	b.pids.next++
	return id, nil
}

func (b *Broker) handleInitProducerID(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	az := c.authz()
	switch {
	case req.TransactionalID != nil && !az.txnID(acl.OpWrite, *req.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	case req.TransactionalID == nil && !az.cluster(acl.OpIdempotentWrite) && !az.anyTopic(acl.OpWrite):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	if req.TransactionalID != nil {
		// Transactional producers belong to the transaction coordinator
		// (internal/txn): a producer id per transactional id, the epoch
		// bumped by each init, older instances fenced. PRODUCER_FENCED
		// exists from v4 (KIP-588).
		pid, epoch, err := b.txns.InitProducerID(ctx, *req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
		if err != nil {
			resp.ErrorCode = txnCode(err, req.Version, 4)
			return resp, nil
		}
		resp.ProducerID, resp.ProducerEpoch = pid, epoch
		return resp, nil
	}
	if req.ProducerID >= 0 && req.ProducerEpoch >= 0 {
		// KIP-360: an idempotent producer bumping its epoch after an error
		// keeps its id.
		if req.ProducerEpoch < 32766 {
			resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
			return resp, nil
		}
	}
	id, err := b.nextProducerID(ctx)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}
