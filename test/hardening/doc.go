// Package hardening holds end-to-end tests of the samsa binary against
// input a well-behaved client never sends: record batches whose records
// are malformed, inconsistent with their header, or break a topic's rules.
// Each test starts the real binary through internal/clustertest, speaks
// raw Kafka requests encoded with franz-go's kmsg, and checks both the
// error Kafka would answer and that nothing bad reached the log (end
// offsets unchanged, a franz-go consumer still reads the topic). Helpers
// are prefixed by the file that defines them (val… in validate_test.go),
// since several files share the package.
package hardening
