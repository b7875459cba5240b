// Package registry is Samsa's schema registry: Confluent Schema
// Registry's REST API (shared/reference/ecosystem-apis.md A1) on :8081,
// for Avro, Protobuf and JSON Schema, kept in the compacted topic _schemas
// in Confluent's record format, so that records other tools write there
// (a mirrored _schemas) are served too.
//
// It is a Kafka client of the cluster (franz-go) and imports no broker
// internal (internal/lint). `samsa serve` starts one per node
// (internal/node); `samsa registry --brokers` runs one against any Kafka
// cluster.
//
// # Paths
//
//   - Reads: HTTP → api_read.go → state (state.go), an in-memory fold of
//     _schemas, under state.mu held for reading. GET /schemas/ids/{id}
//     answers bytes encoded once per schema.
//   - Writes: HTTP → leaderOnly (forward.go). On the leader, under writeMu:
//     plan the records from state (api_write.go, compat.go), write them in
//     one Kafka transaction (kafkastore.go) and wait until the reader has
//     applied them; answer with the offset (X-Samsa-Registry-Offset). On a
//     follower: forward the request to the leader, then wait until this
//     instance has applied that offset, so a client reads its writes from
//     any instance.
//   - Schema types: internal/registry/schema defines Handler and Schema;
//     schemaavro, schemaproto and schemajson implement them. References
//     resolve transitively (resolve.go) and parsed schemas are kept per id.
//
// # Leader and ids
//
// Instances elect a leader in the Kafka group schema.registry.group.id
// (default schema-registry) with protocol type "sr" and Confluent's
// identity metadata (election.go). The leader writes through a
// transactional producer whose transactional.id is the group id: its
// first act is to write a NOOP record, which fences any earlier leader (a
// fenced producer can commit nothing more), and to read up to it. Ids are
// the largest id ever seen plus one, decided on the leader from a state
// that holds every committed write, so no id is handed out twice even
// when two instances briefly both think they lead. The reader reads
// read_committed.
//
// Nothing is created in the cluster until the first write: the topic
// (compacted, one partition, replication factor min(3, brokers)) and the
// group are made then, so a node whose registry is never written to leaves
// no trace.
//
// # Concurrency
//
// Goroutines: the HTTP server (stopped by Close), run (reads the store
// through its own goroutine, then the election; stopped by Close's
// cancel). state.mu guards the state; writeMu orders writes; mu guards
// readiness and leadership.
package registry
