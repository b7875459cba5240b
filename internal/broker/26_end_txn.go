package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// EndTxn, versions 0-5.
//
// Version notes:
//   - v2: PRODUCER_FENCED (KIP-588); below v2 it is INVALID_PRODUCER_EPOCH
//   - v3: flexible versions
//   - v4: TRANSACTION_ABORTABLE (KIP-890)
//   - v5: every end bumps the producer epoch, and the response carries the
//     ProducerID and ProducerEpoch to continue with (KIP-890 part 2)
//
// ACLs: Write on the transactional id, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (producer id and epoch -1).
func init() { register(int16(kmsg.EndTxn), 0, 5, (*Broker).handleEndTxn) }

// handleEndTxn answers EndTxn v0-v5. From v5 (KIP-890 part 2) every end
// bumps the producer epoch, and the response carries the producer id and
// epoch the producer continues with. PRODUCER_FENCED exists from v2.
func (b *Broker) handleEndTxn(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if !c.authz().txnID(acl.OpWrite, req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	pid, epoch, err := b.txns.EndTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit, req.Version >= 5)
	if err != nil {
		resp.ErrorCode = txnCode(err, req.Version, 2)
		return resp, nil
	}
	resp.ProducerID, resp.ProducerEpoch = pid, epoch
	return resp, nil
}
