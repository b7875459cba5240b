// Package controller runs Samsa's metadata quorum: it orders
// metadata.Records through a Raft log (go.etcd.io/raft/v3; this is the only
// package that imports raft), applies them to the current metadata.Image and
// publishes each new image through an atomic pointer.
//
// # Shape
//
// One goroutine (the loop) owns the raft.RawNode, the raft.MemoryStorage,
// the WAL and the image. It ticks raft, takes proposals and received
// messages, and for each Ready: appends entries and the hard state to the
// WAL and fsyncs, updates the MemoryStorage, hands Ready.Messages to the
// Transport, applies committed entries (publishing an image and running
// subscribers for each), answers proposers, and calls Advance. Pre-vote and
// CheckQuorum are on. A lone voter campaigns immediately on start.
//
// Propose wraps the encoded record in an envelope (version, proposer node
// id, proposal id) so the proposing node can hand the apply result (the
// image right after the record, or its metadata error) back to the caller.
//
// Node ids map to raft ids as RaftID(id) = id+1, since Kafka node ids start
// at 0 and raft reserves 0. Without Config.Voters the quorum is a single
// voter with the in-process no-op transport. With Voters (Kafka's
// controller.quorum.voters) the voters talk over TCPTransport
// (transport_tcp.go): a listener on the controller listener and one
// outbound connection per peer, re-dialled with backoff, carrying frames
// of a u32be length and a protobuf raftpb.Message; malformed, oversized or
// misaddressed frames close the connection. Every connection starts with a
// hello (transport_auth.go: sender node id, cluster id, version): a hello
// of another cluster is refused, and so is a message whose From is not the
// hello's node. With TCPConfig.ServerTLS/ClientTLS connections are mutual
// TLS and TCPConfig.Authorize checks the certificate's holder against the
// hello's node id (transport_tcp.go documents the wire format and rules).
// With TCPConfig.SASL every connection logs in with SASL right after its
// hello, on the transport's own frames (transport_sasl.go), and
// TransportSASL.Authorize checks the principal against the hello's node id.
// Delivery failures reach raft
// through Reporter (ReportUnreachable, ReportSnapshot), so a lagging
// follower is sent the leader's snapshot (MsgSnap) and leaves snapshot
// state once it is sent.
//
// # Proposals from any node
//
// DisableProposalForwarding is off, so a follower's Propose goes to the
// leader as MsgProp. The envelope carries the proposer's node id and a
// proposal id; every node's apply loop resolves local waiters by that id,
// so Propose returns the image right after the record as applied on this
// node. A proposal dropped while no leader is known, or possibly lost in a
// leader change, is re-sent with the same id (quorum.go, controller.go).
//
// # Membership
//
// A fresh log is bootstrapped with the configured voters. An existing log
// whose voters do not fit the configuration is refused with
// ErrMembershipMismatch: in particular a single-node data dir cannot become
// a quorum member. Nodes whose id is not among the voters join as raft
// learners (observers): see learner.go for joining, address propagation and
// restarts. QuorumStatus.Observers lists them; LeaderStatus asks the leader
// over the transport's request channel. Broker liveness and fencing are
// described in liveness.go.
//
// # Elections
//
// The active controller runs the election loop (elect_loop.go) after every
// applied image and every heartbeat interval: Elections (elect.go, a pure
// function of the image) removes fenced replicas from ISRs (into the
// KIP-966 ELR when the ISR falls below min.insync.replicas), elects leaders
// from the ISR, then the ELR, unclean only when
// unclean.leader.election.enable is set, and completes reassignments whose
// adding replicas are in sync; the changes are proposed as conditional
// ChangePartition records. A broker whose log directory went offline
// (a storage error, KIP-112) proposes FenceBroker{Shutdown} for itself:
// Samsa has one log directory per broker and no OfflineLogDirs in its
// records (KIP-858), and with a single directory Kafka's broker halts, so
// the controller sees it fenced; fencing it at once is that, without
// waiting out the session timeout. Its replicas are then offline
// (Metadata's OfflineReplicas), leave the ISRs as any fenced replica's do,
// and are never elected until the broker registers again after a restart.
// Preferred-leader elections run on
// ElectLeaders and, with auto.leader.rebalance.enable, when a broker's
// leader imbalance passes leader.imbalance.per.broker.percentage.
//
// # Unclean restarts and eligible.leader.replicas.strict
//
// A broker registers each start (metadata.RegisterBroker) saying whether
// its previous run stopped cleanly (the .kafka_cleanshutdown marker). After
// an unclean stop (kill -9, crash, power loss) its logs may have lost
// records it had acknowledged as an ISR member, since appends are not
// fsynced one by one. Two modes, chosen by eligible.leader.replicas.strict
// (Config.StrictELR; the proposing node stamps it on the record, so every
// node applies the same change):
//
//   - false (default): the broker leaves the ISR and ELR of every partition
//     where another ISR or ELR member remains; where it is the last one, it
//     stays and may lead again. A power loss of a partition's last in-sync
//     replica can therefore lose acknowledged records (the replication
//     simulation finds it with SAMSA_SIM_POWERLOSS=1), but a kill -9'd
//     broker with single-replica partitions comes back leading them.
//   - true (KIP-966's strict rule): the broker leaves every ISR and ELR it
//     is in, even as the last member. Such a partition stays leaderless
//     (elections never pick it) until an unclean election:
//     unclean.leader.election.enable on the topic or cluster, or
//     ElectLeaders with ElectionType UNCLEAN, which elects a live replica
//     and may lose what it lacks. The operator chooses when, and which
//     replica to leave live (TestSimStrictPowerLoss elects the replica
//     with the most complete log and loses nothing).
//
// Why the default is false, and why the setting has a Samsa name. In
// Apache Kafka (KIP-966 part 1, metadata/.../ReplicationControlManager
// and PartitionChangeBuilder) handleBrokerUncleanShutdown removes the
// broker from every ISR and ELR when ELR is enabled (feature
// eligible.leader.replicas.version=1, the default for new clusters since
// 4.1; "ELR is enabled by default on new clusters starting 4.1", Kafka's
// operations docs). But when the ISR and ELR are then empty, the election
// falls back to the partition's last known leader (LastKnownElr, recorded
// when the ISR first became empty; useLastKnownLeaderInBalancedRecovery
// is hard-wired true outside tests), which is usually that same broker,
// elected as soon as it is unfenced and without
// unclean.leader.election.enable (the 4.1/4.2 operations docs list it as
// the third election step, "similar behavior prior to the 4.0"). So
// Kafka's default behaves like Samsa's default here: the last candidate
// comes back. No Kafka setting turns this fallback off: KIP-966 part 2's
// unclean recovery settings are not in the Kafka sources consulted
// (trunk, late 2024) nor its 4.x docs, and the only ELR switch is the
// feature level (before it, the internal eligible.leader.replicas.enable),
// hence the Samsa name. Samsa keeps no LastKnownElr: its default keeps the
// last member in the ISR/ELR instead, with the same outcome.
//
// # Replica placement
//
// AssignReplicas (placement.go, a pure function of the image) chooses the
// replicas of new topics and added partitions, for CreateTopics,
// CreatePartitions and auto-creation: round robin over the live brokers,
// or Kafka's rack-aware placement when brokers have racks. Asking for more
// replicas than live brokers is ErrInvalidReplicationFactor, whose message
// is Kafka's.
//
// # Files in DataDir (e.g. <log.dirs>/__cluster_metadata-0)
//
//	wal                           entries and hard states since the last snapshot
//	snapshot-<index:020d>.snap    the newest snapshot (older ones are deleted)
//	*.tmp                         half-written replacements, deleted on Open
//
// Both file kinds start with an 8-byte magic ("SAMSAWAL", "SAMSASNP") and a
// big-endian uint32 format version (1), followed by frames:
//
//	length:u32be  crc32c:u32be  type:u8  payload[length-1]
//
// where crc32c (Castagnoli) covers type and payload. WAL frame types are 1
// (a protobuf raftpb.Entry) and 2 (a protobuf raftpb.HardState); a snapshot
// file holds one frame of type 3 (a protobuf raftpb.Snapshot whose Data is
// 0xA5, a length, the learners' controller addresses as JSON, then
// metadata.EncodeImage of the image at the snapshot index, and whose
// metadata carries the ConfState). The WAL is append-only; a later entry
// with index i supersedes earlier ones with index >= i on replay (raft's
// log truncation).
//
// Durability: every file operation goes through Config.FS (internal/fs;
// fs.OS() by default, fs.Faulty in the crash tests). Every Ready's frames
// are written with one write and fsynced before messages are sent or
// entries applied; a failed write or fsync is sticky (the WAL takes no more
// appends, the loop stops with the error, logged at ERROR with the
// directory) since the file's tail is then unknown. That is fatal for the
// node (stopped.go): Done closes and Err returns the error, and
// internal/node stops the process with a non-zero exit, as Kafka's raft
// client halts on a metadata-log write failure. Every SnapshotEvery applied entries the loop writes a snapshot
// with fs.WriteFileAtomic (temp file, fsync, rename, directory fsync),
// compacts the MemoryStorage, and atomically replaces the WAL (the same
// routine) with one holding only the entries after the snapshot plus the
// hard state. crash_test.go and storage_crash_test.go crash the FS at every
// operation of such a run, with and without torn writes, and check that
// what was acknowledged survives a restart.
//
// Recovery (Open): load the newest snapshot, replay the WAL, restore the
// MemoryStorage and RawNode, and let raft re-deliver committed entries,
// which are re-applied to the snapshot's image. A WAL whose last frame is
// incomplete or fails its checksum (a torn write) is truncated to its valid
// prefix with a warning; an invalid frame followed by a valid one, a gap in
// entry indexes, or a damaged newest snapshot is ErrCorrupt and Open fails.
// A fresh directory is bootstrapped with the configured voters, and the
// first leader writes SetClusterID.
package controller
