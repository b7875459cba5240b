// Package cli runs the samsa binary's client commands (topic, produce,
// consume, group, cluster, partition, bench) as a user would: the built
// binary, exec'd with arguments and standard input, against nodes started by
// internal/clustertest; stdout, stderr and the exit status are checked. It
// has no non-test code.
package cli
