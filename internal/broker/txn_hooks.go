package broker

import "context"

// txnVerifier is the partition leader's view of the transaction
// coordinator (KIP-890). The transaction coordinator implements it and
// installs itself with SetTxnVerifier; until then, transactional produce is
// refused.
type txnVerifier interface {
	// VerifyPartition checks that transactionalID has an ongoing
	// transaction with this producer id and epoch that includes the
	// partition (KIP-890 part 1). With add (Produce v12+ under
	// transaction.version 2) the coordinator adds the partition itself
	// (KIP-890 part 2). It returns a *kerr.Error such as INVALID_TXN_STATE,
	// PRODUCER_FENCED or CONCURRENT_TRANSACTIONS.
	VerifyPartition(ctx context.Context, transactionalID string, producerID int64, epoch int16, topic string, partition int32, add bool) error
}

// SetTxnVerifier installs the transaction coordinator's verifier. Call it
// before Serve.
func (b *Broker) SetTxnVerifier(v txnVerifier) { b.txnVerify = v }
