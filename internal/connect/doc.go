// Package connect is Samsa's Kafka Connect runtime: a worker that runs
// native Go connectors (the public package connect defines them) with
// Kafka Connect's REST API on :8083 (shared/reference/ecosystem-apis.md
// A3; Apache Kafka Connect 4.4.0 is the specification).
//
// It is a Kafka client of the cluster (franz-go kgo/kadm) and imports no
// broker internal (internal/lint). `samsa connect` runs a worker against
// any Kafka cluster; `samsa serve --connect-listen` embeds one in a node
// (internal/node/connect.go).
//
// # Files
//
//   - config.go: Config from worker properties (Java's names), Defaults,
//     Validate.
//   - server.go: Server (the service: start, stop, REST listener);
//     rest.go: the REST routes, Java's status codes and JSON shapes, errors
//     as {"error_code","message"}; loggers.go: /admin/loggers.
//   - auth.go: HTTPS (Config.TLS) and basic authentication (Config.Auth):
//     401 without credentials, DESCRIBE (reads) or READ (writes) on the
//     Group named by group.id, else 403; forward.go: a follower forwards
//     writes to the leader with the caller's Authorization header.
//   - herder.go, herder_ops.go: the herder: connector configurations,
//     target states (STARTED/PAUSED/STOPPED), task configurations and
//     statuses, and what each REST operation does to them.
//   - validate.go: connector configuration validation (ConfigInfos).
//   - worker.go: connector and task lifecycles; a panicking or failing
//     plugin makes its connector or task FAILED with a trace, never a dead
//     worker.
//   - source.go: source tasks (poll, transform, convert, produce, commit
//     offsets every offset.flush.interval.ms; transactions with
//     exactly.once.source.support=enabled).
//   - sink.go: sink tasks (consumer group connect-<name>, convert,
//     transform, Put with retries, errors.tolerance, dead-letter queue with
//     __connect.errors.* headers, PreCommit then commit).
//   - pipeline.go, chain.go: converters and transformation chains.
//   - offsets.go: source offsets kept in memory or in a file
//     (offset.storage.file.filename).
//   - tolerance.go: the errors.* settings.
//   - registry.go: DefaultPlugins, every plugin Samsa ships.
//
// # Concurrency
//
// The herder serializes changes under one mutex (Java's herder thread);
// statuses have their own lock. Goroutines: the HTTP server (stopped by
// Close), the herder's reconfiguration loop (stopped by Close), one per
// task (stopped by the herder or Close, waited up to
// task.shutdown.graceful.timeout.ms). Every Kafka client is closed by
// its owner.
package connect
