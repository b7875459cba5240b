// Package loadgen is Samsa's load generator, the engine of `samsa bench`:
// it generates load against any Kafka-compatible cluster and measures it.
// It talks to brokers only as a Kafka client (franz-go kgo and kadm) and
// imports no broker internal, so it runs against Apache Kafka as well.
//
// Three workloads (Workload): Produce (records/s, MiB/s, send→ack
// latency), Consume (throughput reading a topic that has data) and
// EndToEnd (each value stamped with its send time and read back by
// consumers in this process: produce→consume latency). A Config, from
// Defaults and checked by Validate, describes one run; Run blocks until it
// is done and returns a Result, whose JSON form is `samsa bench --json`'s.
//
// With Config.Rate the producers send on a fixed schedule and latency is
// measured from each record's intended send time, so a stalled broker
// shows up in the quantiles instead of silently slowing the generator (no
// coordinated omission). Records sent during the warmup are left out.
//
// Latencies go into Hist, a log-linear histogram with three significant
// digits and fixed memory; recording is one atomic add. Proc reads a
// process's CPU time and resident set from Linux's /proc, and Watch
// samples the peak resident set over a window: Run uses them for the
// broker (Config.PID) and for itself, bench/compare for its brokers.
//
// Concurrency: Run owns every goroutine it starts (one send loop per
// producer, one poll loop per consumer, the progress reporter, the /proc
// sampler) and stops and waits for all of them before it returns.
// Config.OnProgress is called from the progress goroutine, one call at a
// time; Config.Logger receives warnings. Hist is safe for concurrent
// Record and Snapshot.Add; a Snapshot is for one goroutine. A Watch's
// sampler runs until Finish.
package loadgen
