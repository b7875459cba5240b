// Package coordinator is the runtime the group and transaction coordinators
// run on, after Kafka's coordinator-common (CoordinatorRuntime,
// CoordinatorLoader, PartitionWriter, CoordinatorShard).
//
// A coordinator keeps its state in an internal topic (__consumer_offsets,
// __transaction_state), sharded by partition: a key (group id,
// transactional id) belongs to partition PartitionFor(key, n), Kafka's
// abs(javaHashCode(key)) % n. The coordinator packages (internal/group,
// internal/txn) hold only the state machines; this package holds what they
// share around them:
//
//   - Ownership (Runtime.Sync): given a metadata image, which partitions of
//     each registered coordinator's topic this broker leads and hosts, at
//     which leader epoch. Shards of newly led partitions start loading,
//     shards of partitions no longer led are unloaded, and a partition led
//     at a new leader epoch is loaded again, since another leader may have
//     written in between. The coordinator implements Shards
//     (SetPartitionCount, BeginLoad, Unload); BeginLoad replaces a shard
//     only after shutting the old one down, so the old one's in-flight
//     writes are in the log before the new load reads it.
//   - Loading (loader.go): one goroutine per partition being loaded reads
//     the partition from its log start to its log end (a new leader's log
//     is the partition's truth) and replays the records and transaction
//     markers into the shard through the load function BeginLoad returned.
//     A failure (the partition not yet hosted or led here, a read error) is
//     retried with backoff, 100 ms doubling to 5 s; losing the partition
//     cancels the load.
//   - Bad batches: a batch whose records cannot be decoded (a compression
//     flag over bytes that do not decompress, truncated records) is
//     skipped: logged at WARN with its topic-partition, offset and reason,
//     and counted (Runtime.SkippedBatches); the coordinators skip records
//     they cannot decode the same way (group.Coordinator.SkippedRecords).
//     Kafka's CoordinatorLoaderImpl skips only records of an unknown type
//     and fails the load on anything else it cannot read, which leaves
//     every group or transactional id of the partition unusable until
//     leadership moves. Here a failed load is retried, so failing would
//     mean COORDINATOR_LOAD_IN_PROGRESS forever for every key of the
//     partition because of one batch nothing can read again; skipping
//     loses only what that batch held, which is lost either way, and the
//     report says where it was. Clients cannot write such batches (Produce
//     to an internal topic is refused, IsInternal); they come from disk
//     damage or older versions.
//   - Writing (Writer): a coordinator's records become uncompressed
//     batches appended with acks=-1 to a partition this broker leads;
//     Append returns once the ISR has them (CommitTimeout). The coordinator
//     holds its shard lock across the append, so the log's order is the
//     order of its state changes. Writer is group.Log and txn.Log.
//
// Dependencies point one way: group and txn import this package (the
// shared record types, ErrNotLeader, PartitionFor); it imports neither
// them nor internal/broker. It reads the image and the replicas through
// Images (a *controller.Controller) and Partitions (ManagerPartitions over
// a *partition.Manager), so tests drive it with fakes.
//
// What stays in the broker: the wire handlers, which call the coordinators;
// the creation of the internal topics on the first FindCoordinator that
// needs them (a metadata change decided by a request, using the broker's
// replica placement and settings, not storage of a shard: the runtime just
// follows the image the creation publishes); and the transaction markers
// and KIP-890 verification, which need the inter-broker client.
//
// Goroutines: only the loads, owned by the Runtime, stopped by Sync (the
// partition lost) or Close, and waited by Close. Sync runs on the caller's
// goroutine (the node calls it for every image, in order) and is quick.
//
// The node wires it so:
//
//	rt, _ := coordinator.New(coordinator.Config{NodeID: id, Images: ctl,
//		Partitions: coordinator.ManagerPartitions(parts), Clock: coordinator.WallClock{}, Logger: lg})
//	groups, _ := group.New(group.Config{..., Log: rt.Writer(coordinator.OffsetsTopic), Topics: coordinator.Topics{Images: ctl}})
//	txns, _ := txn.New(txn.Config{..., Log: rt.Writer(coordinator.TxnStateTopic)})
//	rt.Register(coordinator.OffsetsTopic, groups)
//	rt.Register(coordinator.TxnStateTopic, txns)
//	rt.Sync(img) // and after every image, after the partitions follow it
//	...
//	rt.Close() // before txns.Close and groups.Close
package coordinator
