// Package partition holds the state of one topic-partition replica on this
// broker: its log, high watermark, leader epoch, and the idempotent producer
// state, plus the Manager that opens, creates and deletes partitions as the
// cluster image changes.
//
// On disk, each partition directory <topic>-<partition> holds, besides the
// log, partition.metadata with the topic id in Kafka's format
// ("version: 0\ntopic_id: <base64url id>\n", dirs.go), written atomically
// before the log opens. Open refuses a directory of another id; one
// without the file (written before Samsa kept ids) is adopted once by name.
// The Manager never removes a directory because the image does not know
// it: at start-up such directories, and those of another topic id, are
// renamed <topic>-<partition>.<uuid>-stray (Kafka's stray logs) and
// counted. Only a topic deleted or moved away in the metadata log deletes.
//
// The Manager's opener (opener.go) is one goroutine started by NewManager
// and stopped and waited by Close: Follow (on the raft goroutine) and Sync
// record the wanted partitions; the opener deletes the partitions taken
// out of the map, then opens the wanted ones eight at a time, publishing
// them into the copy-on-write map in chunks that double with the map
// (linear in all). A partition that fails to open, or would exceed the
// file-descriptor budget (RLIMIT_NOFILE less a reserve, FDsPerPartition
// each), is offline (Offline) and the rest start.
//
// Append validates a producer's batch as Kafka's LogValidator does (every
// record, batch.ValidateRecords) before anything is stored; a refused batch
// leaves no trace in the log. AppendChecked adds the caller's check of
// every record (the broker's schema validation) to the same pass.
//
// Concurrency: validation runs before the partition's append mutex, so
// producers validate in parallel; the mutex covers the producer-state check
// and the log write, so that offsets are assigned in the order batches are
// accepted. Reads take no
// partition lock: the log publishes its end offset only after a batch is
// written, and the high watermark is an atomic. Fetch long-polls wait on
// Changed(), a channel that is closed and replaced on every append.
//
// The idempotent producer state (producers.go) keeps each producer's epoch,
// last five batches and ongoing transaction. Ongoing transactions are also
// indexed by first offset, so the LSO costs no scan of the producers on an
// append. Producer ids with no ongoing transaction whose last batch
// timestamp is producer.id.expiration.ms old are forgotten: on open, and
// every producer.id.expiration.check.interval.ms on the Manager's
// RunRetention loop (ExpireProducers), as Kafka does. As in Kafka 4, a
// producer's state outlives its batches when the log start moves past them.
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
//
// Storage errors (partition_offline.go, manager_offline.go) follow Kafka's
// KIP-112: a log.ErrStorage from any operation on a partition's log (an
// append, marker, replica append, truncation, flush, retention pass or
// read; ENOSPC, EIO, a failed fsync) is logged at ERROR with the partition
// and its directory and takes the log directory offline. Samsa has one
// log directory, the data dir, so every hosted partition goes offline at
// once: its Offline error (ErrOffline, KAFKA_STORAGE_ERROR) answers every
// later append, truncation and read until the broker restarts, its log is
// failed (log.Fail) so Close neither flushes it nor snapshots its
// producers, and Manager.Close reports the failure so no clean-shutdown
// marker is written. Manager.LogDirFailed wakes internal/node, which tells
// the controller by fencing the broker (FenceBroker{Shutdown}): with one
// log directory, Kafka's broker halts when it fails and is fenced once its
// session times out; fencing at once moves the leaderships the same way
// while the process stays up to answer KAFKA_STORAGE_ERROR and report its
// replicas offline (Metadata and DescribeTopicPartitions OfflineReplicas,
// DescribeLogDirs). A new record kind (KIP-858's OfflineLogDirs) would say
// nothing more with a single directory. So a log whose fsync failed never
// stays leader.
package partition
