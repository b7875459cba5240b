// Package eos holds the end-to-end tests of exactly-once semantics against
// the real samsa binary (internal/clustertest): transactional producers of
// several clients interleaving committed and aborted transactions,
// read_committed consumers, a consume-transform-produce pipeline and a Kafka
// Streams exactly_once_v2 application killed with SIGKILL and restarted,
// broker crashes during transactions, zombie fencing, hanging transactions,
// and the throughput of transactional against plain produce.
//
// The Java and Python drivers live in test/compat (make deps-java,
// make deps-python); tests needing one skip without it, except under CI.
package eos
