// Package config holds the broker's settings and the definitions of topic
// settings, under Apache Kafka's names and with Kafka's defaults, so that a
// user's server.properties and kafka-configs.sh invocations keep their meaning.
//
// A Broker is parsed from a server.properties file (Java properties syntax)
// and flags. Names Samsa does not know are reported back to the caller, which
// warns about each one; they are never silently ignored.
//
// Settings that protect a broker (authorizer, super users, TLS and SASL
// settings and listeners, quotas, connection limits) fail Validate until
// Samsa implements them (protect.go, one table), whichever source gave
// them: the broker refuses to start rather than serve unprotected.
//
// Concurrency: a Broker is built by one goroutine and read-only afterwards.
//
// Topic settings are a table of definitions (TopicDefs). Each definition has
// a type, a validator and the broker setting that provides its default
// (retention.ms ← log.retention.ms, and so on). Topic resolves a topic's
// overrides against a Broker into typed values.
package config
