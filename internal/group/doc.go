// Package group is Samsa's group coordinator: consumer groups whose state
// lives in the compacted internal topic __consumer_offsets, as in Kafka.
//
// The package is a deterministic core behind small interfaces. Persistence
// goes through Log (append records to one partition of
// __consumer_offsets); time goes through Clock (now, and timers that tests
// drive by hand); topic existence goes through Topics. The coordinator
// runtime (internal/coordinator) supplies Log and Topics and drives the
// shards; the broker translates wire requests into calls on Coordinator,
// whose methods take and return franz-go kmsg messages so that
// version-specific error codes are decided here.
//
// State is sharded by __consumer_offsets partition: a group belongs to
// partition coordinator.PartitionFor(groupID, numPartitions), Kafka's
// abs(javaHashCode(groupID)) % numPartitions, and each shard has its own
// lock, its own groups and its own load state. Coordinator implements
// coordinator.Shards: a shard exists only while this broker leads its
// partition (BeginLoad / Unload, called by the runtime, which also reads
// the partition and feeds the replay); requests for groups of other
// partitions get NOT_COORDINATOR, and requests for a shard still replaying
// its partition get COORDINATOR_LOAD_IN_PROGRESS. A record the replay
// cannot decode is skipped, logged at WARN with its offset and reason and
// counted (SkippedRecords), so one bad record never keeps a shard loading
// (internal/coordinator's doc has the reasoning). A KIP-848 subscription
// regex is matched against the whole name of every topic, internal ones
// included, as Kafka's refreshRegularExpressions does.
//
// Records use Kafka's own schemas (kmsg.OffsetCommitKey v1 / Value v3,
// kmsg.GroupMetadataKey v2 / Value v3), so tools that read
// __consumer_offsets (Burrow, kminion) decode them.
//
// A group has a type. Classic groups (JoinGroup/SyncGroup/Heartbeat/
// LeaveGroup) live in classic*.go; KIP-848 "consumer" groups
// (ConsumerGroupHeartbeat) in consumer_*.go. Both share group.go (offsets,
// the shard, persistence) and the admin paths (admin.go).
//
// Online migration (consumer_migration.go, consumer_classic.go), after
// Kafka 4's GroupMetadataManager under group.consumer.migration.policy
// (bidirectional by default):
//   - Upgrade: a ConsumerGroupHeartbeat joining (epoch 0) a classic group
//     of protocol type "consumer" converts it, in one append (the classic
//     GroupMetadata tombstone, then the consumer group records), into a
//     consumer group at the classic generation in which every classic
//     member is a member with ClassicMemberMetadata (session timeout,
//     protocols), subscribed to the topics of its subscription and
//     keeping the partitions of its last assignment as current and target
//     assignment. Offsets stay. Refused (GROUP_ID_NOT_FOUND) when the
//     policy forbids it or the group exceeds group.consumer.max.size.
//   - Classic members inside a consumer group: JoinGroup answers at once
//     with the member epoch as generation and no leader, so the client
//     runs no assignor; the member is reconciled like a KIP-848 member,
//     with the owned partitions of its subscription as what it owns.
//     SyncGroup returns its current assignment in the consumer protocol
//     (the version of its metadata). Heartbeat answers
//     REBALANCE_IN_PROGRESS when the group epoch moved past the member's,
//     when it must revoke partitions, or when partitions it waits for
//     are free: revocation happens by the client's rejoin without them.
//     A member told to rejoin must do so, and a joined member must sync,
//     within its rebalance timeout; its session is its own timeout.
//     LeaveGroup removes classic members.
//   - Downgrade: when the last member using the consumer protocol leaves
//     (epoch -1) or is fenced (session or rebalance timeout) and classic
//     members remain (at most group.max.size), the group becomes a
//     classic group in one append (the consumer tombstones, then a Stable
//     GroupMetadata at the group epoch whose members carry their target
//     assignments) and starts a rebalance. Empty groups convert on the
//     first request of the other protocol, as before.
//
// Deviations from Kafka in the migration:
//   - An upgrade also waits for a Stable classic group; Kafka converts a
//     rebalancing one and bounces its parked JoinGroup/SyncGroup with
//     REBALANCE_IN_PROGRESS. The assignments of a rebalancing group are
//     not the partitions its members hold (Samsa clears them when a sync
//     fails), so the joining member gets GROUP_ID_NOT_FOUND and retries.
//   - A classic static member replacing (JoinGroup with a known
//     group.instance.id) the last member using the consumer protocol does
//     not downgrade the group; it stays a consumer group of classic
//     members until it is empty.
//   - A classic JoinGroup whose subscription does not parse gets
//     INCONSISTENT_GROUP_PROTOCOL (Kafka: UNKNOWN_SERVER_ERROR).
//   - An empty group converts only if the policy allows it (Kafka converts
//     empty groups whatever the policy).
//   - JoinGroup and SyncGroup carry no topic image: classic members use
//     Config.Images if the broker sets it, else the image of the group's
//     last ConsumerGroupHeartbeat, else (after a reload with no member
//     using the consumer protocol) the group's subscription metadata.
//   - DescribeGroups of a consumer group answers GROUP_ID_NOT_FOUND
//     (Kafka describes it in the classic form); ConsumerGroupDescribe
//     reports classic members with MemberType 0.
//
// Transactional offsets (TxnOffsetCommit, txn_offsets.go) are appended as
// transactional batches of the producer and stay pending per producer id
// until the transaction coordinator, having written the COMMIT or ABORT
// marker, calls CompleteTransaction; a replay does the same from the
// records' producer ids and the markers (the runtime's read reports both).
//
// Concurrency: every exported method locks one shard at a time. Parked
// JoinGroup and SyncGroup calls wait on a channel outside the lock, bounded
// by their ctx. Records are appended while the shard lock is held, so the
// order of records in the log is the order of state changes in memory.
// The package starts no goroutines: loads run on the runtime's, and
// timers run their callbacks under the shard lock and are all stopped by
// Unload and Close.
package group
