// Command compare runs the same workloads against Samsa and Apache Kafka on
// this machine and writes the results to docs/benchmarks.md (`make
// bench-compare`).
//
// For every workload it alternates the two systems (Samsa, Kafka, Samsa,
// Kafka, …). Each run gets a fresh broker process and a fresh data directory,
// so CPU-seconds and peak RSS are per run; the load comes from one fixed
// client, `samsa bench` (franz-go), which is told the broker's pid. Kafka's own
// ProducerPerformance and ConsumerPerformance give a second client's view.
//
// Kafka is started with java directly from the jars `make kafka-dist` copies
// out of Maven Central (bench/kafka/pom.xml) as a single KRaft node
// (broker+controller), with the JVM options of the stock start scripts.
//
// Workloads tls1 and tls3 repeat workloads 1 and 3 with each broker run
// twice a round, with a PLAINTEXT listener and with a SASL_SSL one (TLS 1.3,
// SCRAM-SHA-512, a CA and server certificate made for the run: security.go),
// and report the TLS cost: SASL_SSL ÷ PLAINTEXT of the same broker in the
// same round.
//
// In the same minute as each round of runs the harness measures two machine
// limits in Go: the page-cache append rate (1 MiB buffered writes to a file on
// the data directory's filesystem, no fsync) and the file-to-loopback copy
// rate (sendfile of a cached file to a reader that discards). Produce
// throughput is shown as a fraction of the first, consume throughput as a
// fraction of the second.
//
// Everything binds 127.0.0.1; all processes the harness starts are stopped
// before it returns (SIGTERM, then SIGKILL after a grace period).
package main
