// Package partition holds the state of one topic-partition replica on this
// broker: its log, high watermark, leader epoch, and the idempotent producer
// state, plus the Manager that opens, creates and deletes partitions as the
// cluster image changes.
//
// Concurrency: Append is serialised by the partition's append mutex, which
// covers validation, the producer-state check and the log write, so that
// offsets are assigned in the order batches are accepted. Reads take no
// partition lock: the log publishes its end offset only after a batch is
// written, and the high watermark is an atomic. Fetch long-polls wait on
// Changed(), a channel that is closed and replaced on every append.
//
// On a single node the in-sync replica set is the leader alone, so the high
// watermark follows the log end offset. Replication (a later issue) adds
// follower log end offsets and moves the high watermark on ISR progress; the
// read path already stops at the high watermark, not the log end.
package partition
