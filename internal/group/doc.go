// Package group is Samsa's group coordinator: consumer groups whose state
// lives in the compacted internal topic __consumer_offsets, as in Kafka.
//
// The package is a deterministic core behind small interfaces. Persistence
// goes through Log (append records to, and replay, one partition of
// __consumer_offsets); time goes through Clock (now, and timers that tests
// drive by hand); topic existence goes through Topics. The broker supplies
// all three (internal/broker/group_wiring.go) and translates wire requests
// into calls on Coordinator, whose methods take and return franz-go kmsg
// messages so that version-specific error codes are decided here.
//
// State is sharded by __consumer_offsets partition: a group belongs to
// partition abs(javaHashCode(groupID)) % numPartitions, and each shard has
// its own lock, its own groups and its own load state. A shard exists only
// while this broker leads its partition (BecomeLeader / Resign); requests
// for groups of other partitions get NOT_COORDINATOR, and requests for a
// shard still replaying its partition get COORDINATOR_LOAD_IN_PROGRESS.
//
// Records use Kafka's own schemas (kmsg.OffsetCommitKey v1 / Value v3,
// kmsg.GroupMetadataKey v2 / Value v3), so tools that read
// __consumer_offsets (Burrow, kminion) decode them.
//
// A group has a type. Classic groups (JoinGroup/SyncGroup/Heartbeat/
// LeaveGroup) live in classic*.go; the KIP-848 "consumer" type is meant to
// sit beside it in its own files, sharing group.go (offsets, the shard,
// persistence) and the admin paths (admin.go).
//
// Transactional offsets (TxnOffsetCommit, txn_offsets.go) are appended as
// transactional batches of the producer and stay pending per producer id
// until the transaction coordinator, having written the COMMIT or ABORT
// marker, calls CompleteTransaction; a replay does the same from the
// records' producer ids and the markers (Log.Replay reports both).
//
// Concurrency: every exported method locks one shard at a time. Parked
// JoinGroup and SyncGroup calls wait on a channel outside the lock, bounded
// by their ctx. Records are appended while the shard lock is held, so the
// order of records in the log is the order of state changes in memory.
// The only goroutines are the loaders started by BecomeLeader, owned by the
// Coordinator and waited by Close; timers run their callbacks under the
// shard lock and are all stopped by Resign and Close.
package group
