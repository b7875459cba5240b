// Package replication moves records from partition leaders to followers the
// Kafka way and keeps the ISR up to date: both sides of it, the follower's
// fetchers and the leader's answers.
//
// A Replicator runs on every broker. For each leader this broker follows
// partitions of, one fetcher goroutine holds a connection to the leader's
// replication endpoint (metadata.Broker.ReplicationAddr) and loops:
//
//  1. partitions whose leader epoch changed since they were last truncated
//     first ask the leader OffsetForLeaderEpoch (KIP-101/279) for the end
//     of their latest epoch, walking back through epochs until both logs
//     agree, and truncate their log there, so a diverged suffix is never
//     served;
//  2. then one replica Fetch (ReplicaID = this broker) for all of them,
//     starting at each log end; the leader's answer carries records up to
//     its log end plus its high watermark, which the follower adopts
//     (capped at its own log end). A DivergingEpoch answer (KIP-320)
//     truncates as in step 1.
//
// The leader side (leader.go) answers those requests: Leader.ReplicaFetch
// (per partition: topic and partition lookup, leadership, the follower's
// leader epoch (KIP-320), DivergingEpoch, the follower's fetch offset
// recorded as its log end offset, records up to the log end as file
// chunks, leader.replication.throttled.rate) and
// Leader.OffsetForLeaderEpoch (the end of an epoch in the leader's log,
// clamped to the high watermark for consumers). They are deterministic
// functions of an image, this broker's partitions, the decoded request
// and the time; internal/broker's Fetch (ReplicaID ≥ 0) and
// OffsetForLeaderEpoch handlers only decode and encode around them, and
// the simulation (sim_test.go) calls them directly, so the leader code it
// checks is the code that serves followers. The replica's own state lives
// in internal/partition (replica.go): a follower's fetch offset is its log
// end offset, the high watermark is the minimum over the ISR, and
// DesiredISR says which followers should leave (not caught up for
// replica.lag.time.max.ms) or join (caught up to the high watermark). The
// Replicator's ISR loop asks the controller for those changes with a
// conditional ChangePartition (Kafka's AlterPartition).
//
// Error codes: the leader code answers through internal/errcode, the one
// table from Samsa's errors to Kafka codes that every broker handler uses
// too, so the simulation sees exactly the broker's answers.
// CheckLeaderEpoch (KIP-320, errors.go) is shared with the consumer Fetch
// and ListOffsets handlers.
//
// Goroutines: Run owns the ISR loop and every fetcher; Sync (called from
// the metadata subscriber, never blocking) starts, updates and stops
// fetchers; Run returns after all of them stopped.
package replication
