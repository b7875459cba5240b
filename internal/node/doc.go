// Package node is a Samsa node as a library: the composition root that
// builds the controller, the partitions, the replicator, the coordinators
// and the broker from one typed Config, starts them in a fixed order and
// stops them in the reverse order (modelled on etcd's embed.StartEtcd and
// Kafka's BrokerServer/ControllerServer startup()/shutdown()). cmd/samsa's
// `serve` is flag parsing around LoadConfig and Run; tests start nodes
// in-process with Start.
//
// # Start-up order
//
// Start runs these steps in order (steps.go, broker_steps.go). Each step
// pushes on one stack, as soon as it holds them, the closers that undo it;
// if a step fails, the closers pushed so far run in reverse and Start
// returns the step's error, so a failure at step k closes exactly what
// steps 1..k-1 started, in reverse.
//
//  1. data dir: create it; read or format meta.properties (a new member of
//     a multi-node quorum formats it once it knows the cluster id).
//  2. clean-shutdown marker: note whether the last stop was clean (then
//     log recovery is skipped) and remove it. Closer: write it again,
//     only if every critical closer succeeded (never after a failed start).
//  3. controller transport (a multi-node quorum only): the raft listener,
//     plaintext or, with the controller listener mapped to SSL, mutual TLS
//     whose peers must be super users (controller_tls.go); SASL there is
//     refused. It checks peers' cluster ids once meta.properties has one.
//  4. controller: open the metadata log (raft); it returns once a leader
//     is known and the log is replayed. Critical closer. A log that
//     replayed nothing beside partition directories in the data dir (a
//     lost __cluster_metadata-0) stops the start with an error; nothing
//     is touched (checkMetadataLog). Then the watch that stops the node if the
//     metadata log fails.
//  5. cluster id: wait for the log's cluster id, format or check
//     meta.properties against it (and hand a new member's to the
//     transport); a broker of a new single-node cluster writes it.
//
// A broker (process.roles has broker) continues:
//
//  6. listeners: bind the Kafka listener (port 0 picks one) and the
//     replication listener; the advertised addresses default to the bound
//     ones.
//  7. broker registration: register this incarnation with the controller.
//  8. partitions: the partition manager and its first Sync over the
//     current image (opening, recovering, truncating, on the manager's
//     opener; partition directories the image does not give this broker
//     are renamed -stray, never removed; a partition that fails to open
//     is offline, not fatal). Critical closer.
//  9. replicator: follower fetchers and the ISR loop, synced to the same
//     image (not running yet).
//  10. image following: every image after the first Sync reaches the
//     partitions and the replicator, in order, none missed (followImages
//     subscribes, then catches up with the current image).
//  11. coordinators: the coordinator runtime (internal/coordinator) and the
//     group and transaction state machines registered on it
//     (newCoordinators), and the share coordinator of __share_group_state
//     (newShareCoordinator, internal/share); the closer of the broker's connections to other
//     brokers is pushed first, so those close after the coordinators that
//     use them, and the runtime's closer last, so its loads stop first.
//  12. broker: the Kafka protocol handlers; the coordinator runtime follows
//     the images from here on (Runtime.Sync). The consumer-lag metrics are
//     registered (metrics_lag.go), with their connections to other
//     brokers (closed with the broker's).
//  13. background loops: retention, the replicator, self-unfencing, the
//     log directory watch.
//  14. serving: accept connections on the replication listener and the
//     Kafka listener (services, critical closers); then push the
//     controlled shutdown, so that it runs while both still serve.
//
// Every node then:
//
//  15. metrics: the collector of the broker, controller and raft metrics
//     and that of the per-partition ones (metrics_partitions.go, a Bulk
//     collector) register on the admin registry (metrics_broker.go;
//     it reads the node's fields, so only once they are all set). With
//     the admin listener on, the partitions' file system times fsyncs and
//     the broker records requests from their steps onwards.
//  16. services: pprof when configured, then Config.Services in order,
//     each built by its factory with the bound, advertised Kafka address.
//
// The node logs "samsa is serving" (or "samsa controller is serving") once
// all steps are done.
//
// # Shutdown order
//
// Close runs the stack in reverse:
//
//	services (Config.Services last first, then pprof)
//	→ controlled shutdown: move this broker's leaderships away, hand over
//	  the metadata quorum's leadership
//	→ stop serving (Kafka listener, then replication listener; in-flight
//	  requests may finish for 5 s, then their sockets are closed)
//	→ background loops (stopped and waited)
//	→ coordinator image following → coordinator runtime (loads cancelled
//	  and waited) → transaction and group coordinators
//	→ broker connections → partition image following
//	→ partitions (high-watermark checkpoint, logs closed)
//	→ controller → controller transport
//	→ clean-shutdown marker (written only if the listeners, partitions and
//	  controller all closed without error; else Close returns
//	  ErrUncleanShutdown and the next start recovers the logs).
//
// # Storage failures (storage.go)
//
// The controller step also starts a watch of the metadata log: when the
// controller's raft loop dies of a write or fsync failure (Kafka halts
// then), the node logs it at ERROR, stops on its own (Done, Err; no
// controlled shutdown, since nothing can be proposed) and Run returns the
// error, so `samsa serve` exits non-zero. The background loops include the
// log directory watch: when a storage error takes the data dir offline
// (internal/partition), the broker proposes FenceBroker{Shutdown} for its
// incarnation, so its leaderships move and its replicas count as offline,
// and keeps running until restarted (Kafka's broker halts when its last
// log dir fails, and is fenced after its session times out).
//
// Services close before the broker stops serving because they are its
// Kafka clients (a REST proxy flushing its producer still reaches this
// broker on a single node).
package node
