// Package registry tests the schema registry (internal/registry) from
// outside: `samsa serve` and `samsa registry` as binaries, driven over
// HTTP by raw requests (the curl-level checks), by other people's clients
// (franz-go's sr, riferrei/srclient, Python's confluent-kafka with its
// Avro/Protobuf/JSON serializers, npm's @confluentinc/schemaregistry) and
// by Apache Avro's own compatibility table; plus failover between two
// instances and hostile input.
package registry
