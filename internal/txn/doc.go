// Package txn is Samsa's transaction coordinator: transactional ids, their
// producer ids and epochs, and the two-phase end of each transaction, with
// state kept in the compacted internal topic __transaction_state, as in
// Kafka.
//
// The package is a deterministic core behind small interfaces. Persistence
// goes through Log (append records to one partition of
// __transaction_state); time goes through Clock (now, and timers that tests
// drive by hand); the end of a transaction in the data partitions goes
// through Markers (write COMMIT or ABORT control batches, WriteTxnMarkers
// semantics); new producer ids come from ProducerIDs. The coordinator
// runtime (internal/coordinator) supplies Log and drives the shards; the
// broker supplies Markers and ProducerIDs (internal/broker/txn_wiring.go)
// and translates wire requests into calls on Coordinator; the coordinator
// answers franz-go kerr errors, and the broker maps them per request
// version (PRODUCER_FENCED became INVALID_PRODUCER_EPOCH for old clients).
//
// State is sharded by __transaction_state partition: a transactional id
// belongs to partition coordinator.PartitionFor(id, numPartitions), Kafka's
// abs(javaHashCode(id)) % numPartitions, and each shard has its own lock,
// its own transactions and its own load state. Coordinator implements
// coordinator.Shards: a shard exists only while this broker leads its
// partition (BeginLoad / Unload, called by the runtime, which also reads
// the partition and feeds the replay; the partition's leader epoch is the
// coordinator epoch markers carry, and a new epoch loads the shard again);
// requests for ids of other partitions get NOT_COORDINATOR, and requests
// for a shard still replaying its partition get
// COORDINATOR_LOAD_IN_PROGRESS.
//
// Records use Kafka's schemas (kmsg.TxnMetadataKey v0, kmsg.TxnMetadataValue
// v1 with the KIP-890 tagged fields), so Kafka tools decode them.
//
// States and transitions follow Kafka's TransactionMetadata:
//
//	Empty ──AddPartitions──► Ongoing ──EndTxn──► PrepareCommit ──markers──► CompleteCommit
//	                            │                PrepareAbort  ──markers──► CompleteAbort
//	                            └─InitProducerId / timeout: PrepareEpochFence (epoch+1) ─► PrepareAbort
//	Empty, CompleteCommit, CompleteAbort ──InitProducerId──► Empty (epoch+1, or a new producer id
//	                                                          once the epoch is exhausted)
//	Empty, CompleteCommit, CompleteAbort ──idle past transactional.id.expiration.ms──► Dead (tombstone)
//
// A Prepare* record is durable before markers are written; a coordinator
// that loads a partition holding Prepare* transactions writes their markers
// again and completes them, so a restart in any state ends every transaction
// consistently. Under KIP-890 part 2 (EndTxn v5+, transaction.version 2)
// every EndTxn bumps the producer epoch and the markers carry the new epoch,
// so a late write of the finished transaction is fenced.
//
// Concurrency: every exported method locks one shard at a time, and records
// are appended while that lock is held, so the order of records in the log
// is the order of state changes in memory. Markers are written without any
// shard lock held (the group coordinator, which markers for
// __consumer_offsets reach, may call back into this package). The package
// starts no goroutines: loads (and the completion of the transactions a
// load finds prepared) run on the runtime's, and the clock's timer
// callbacks (abort of timed-out transactions, expiry of idle ids, marker
// retries) are waited by Close.
package txn
