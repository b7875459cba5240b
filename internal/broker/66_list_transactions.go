package broker

import (
	"context"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// ListTransactions, versions 0-2 (KIP-664).
//
// Version notes:
//   - v0: flexible versions
//   - v1: DurationFilter, the minimum running time (KIP-994)
//   - v2: TransactionalIDPattern (KIP-1152), a full-match regular
//     expression: INVALID_REGULAR_EXPRESSION if it does not compile
//
// ACLs: transactions whose transactional id the principal may not
// Describe are left out (no error).
func init() { register(int16(kmsg.ListTransactions), 0, 2, (*Broker).handleListTransactions) }

// handleListTransactions answers ListTransactions v0-v2: the transactions
// this broker coordinates, filtered by state and producer id, from v1 by
// minimum duration (KIP-994) and from v2 by a transactional id regular
// expression (KIP-1152).
func (b *Broker) handleListTransactions(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	f := txn.ListFilter{States: req.StateFilters, ProducerIDs: req.ProducerIDFilters, MinDurationMs: -1}
	if req.Version >= 1 {
		f.MinDurationMs = req.DurationFilterMillis
	}
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		// Kafka matches the whole id (Java Matcher.matches).
		re, err := regexp.Compile(`^(?:` + *req.TransactionalIDPattern + `)$`)
		if err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp, nil
		}
		f.IDPattern = re
	}
	list, unknown, err := b.txns.List(f)
	resp.UnknownStateFilters = unknown
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	az := c.authz()
	for _, l := range list {
		if !az.txnID(acl.OpDescribe, l.TransactionalID) {
			continue
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = l.TransactionalID, l.ProducerID, l.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp, nil
}
