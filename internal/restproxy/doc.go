// Package restproxy is Samsa's REST proxy: Confluent REST Proxy's v2 and
// v3 APIs (shared/reference/ecosystem-apis.md A2) on :8082, plus consuming
// over v3, which Confluent never shipped.
//
// It is a Kafka client of the cluster (franz-go kgo/kadm) and imports no
// broker internal (internal/lint); the schema formats (avro, jsonschema,
// protobuf) talk to a schema registry over HTTP and frame records with
// serde/wire. `samsa serve` starts one per node (internal/node); `samsa
// rest --brokers` runs one against any Kafka cluster.
//
// # Files
//
//   - server.go: Config, Server, start and stop, routing.
//   - errors.go: error bodies {"error_code","message"} and Kafka error
//     mapping.
//   - auth.go: HTTPS client certificates and basic authentication; the
//     caller's principal in the request context, and the Kafka clients
//     acting for it.
//   - clients.go: the pool of per-user Kafka clients (basic
//     authentication passes each user through to the broker).
//   - v2_*.go: the v2 API (metadata, produce, consumer instances).
//   - v3_*.go: the v3 API (clusters, topics, partitions, configs,
//     consumer groups, ACLs, produce and streaming produce, consume).
//
// # Concurrency
//
// Goroutines: the HTTP server (stopped by Close), the consumer-instance
// and user-client reapers (stopped by Close), one per streaming request
// (owned by its handler). Every Kafka client the proxy opens is closed by
// Close.
package restproxy
