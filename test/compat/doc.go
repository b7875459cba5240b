// Package compat holds Samsa's client compatibility matrix: tests that run
// the real samsa binary (through internal/clustertest) and round-trip keyed
// records with headers and timestamps through real Kafka clients, over every
// compression codec each client supports.
//
// Clients: franz-go, sarama, segmentio/kafka-go and confluent-kafka-go run in
// process; kcat, Java kafka-clients (java/, built into a jar) and Python
// confluent-kafka (python/roundtrip.py, in a venv) run as processes that
// print JSON lines. `make deps` (mk/deps.mk) installs the external ones; a
// test whose tool is missing skips locally and fails when CI is set.
//
// Every client's production is checked twice: read back with the same
// client, and read with franz-go as a reference. The checks: each record
// exactly once, in the partition Java's murmur2 partitioner picks for its key,
// at dense offsets in production order, with key, value, headers (order and
// repeats included) and timestamp intact.
//
// TestChurn (churn_test.go) runs each client's group consumer (sarama,
// kafka-go, confluent-kafka-go, Java classic and consumer protocols, Python)
// as separate member processes that join, leave and are SIGKILLed while
// franz-go produces, and checks at-least-once consumption, commits that
// never go backwards, committed == end offsets at the end, and that new
// members resume from the commits. The Go clients' members run in the test
// binary itself, re-executed by TestMain.
//
// TestSecureSASLSSL and TestSecureMTLS (security_test.go) are the
// acceptance test "every client connects": each client round-trips records
// and consumes them as a group over SASL_SSL with SCRAM-SHA-512 and
// OAUTHBEARER (tokens from a local client-credentials endpoint, checked by
// the broker against its JWKS) and over SSL with client certificates, and
// wrong credentials must fail. The Java and Python drivers take such
// settings from the properties file named by SAMSA_COMPAT_CLIENT_PROPS.
//
// kafkatools_test.go runs Apache Kafka's own administration tools,
// kafka-acls and kafka-configs (from the jars make kafka-dist fetches),
// against a SASL_PLAINTEXT node with the StandardAuthorizer, and checks each
// change with the samsa CLI's listings.
package compat
