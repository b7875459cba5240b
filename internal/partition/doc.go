// Package partition holds the state of one topic-partition replica on this
// broker: its log, high watermark, leader epoch, and the idempotent producer
// state, plus the Manager that opens, creates and deletes partitions as the
// cluster image changes.
//
// Append validates a producer's batch as Kafka's LogValidator does (every
// record, batch.ValidateRecords) before anything is stored; a refused batch
// leaves no trace in the log.
//
// Concurrency: validation runs before the partition's append mutex, so
// producers validate in parallel; the mutex covers the producer-state check
// and the log write, so that offsets are assigned in the order batches are
// accepted. Reads take no
// partition lock: the log publishes its end offset only after a batch is
// written, and the high watermark is an atomic. Fetch long-polls wait on
// Changed(), a channel that is closed and replaced on every append.
//
// Replication (replica.go) is a deterministic core driven by the image
// (SetState) and by follower fetches: as leader, the partition tracks each
// follower's log end offset (FollowerFetch) and moves the high watermark to
// the smallest log end over the ISR (plus replicas an in-flight expansion
// may add, KIP-497), only while the ISR has min.insync.replicas members
// (KIP-966); acks=all waits with WaitCommitted; DesiredISR says which
// followers should leave or join the ISR. As follower it appends the
// leader's batches as they are (AppendReplica), takes the leader's high
// watermark capped at its log end, and truncates a diverged suffix
// (TruncateTo, ResetTo). On a single node the ISR is the leader alone, so
// the high watermark follows the log end. The high watermarks survive
// restarts in replication-offset-checkpoint (hwcheckpoint.go). Consumers
// read up to the high watermark (or the LSO), followers up to the log end.
package partition
