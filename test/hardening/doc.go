// Package hardening holds tests of the samsa binary against hostile
// clients and damaged disks: clients that misuse the protocol or create
// state without bound (for example thousands of producer ids), and data
// directories with torn, truncated or corrupt files. Each test starts the
// real binary through internal/clustertest and talks to it over TCP as a
// Kafka client.
package hardening
