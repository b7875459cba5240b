// Package verifiable holds Kafka's system-test connectors under their
// Kafka class names, org.apache.kafka.connect.tools.VerifiableSourceConnector
// and VerifiableSinkConnector, with the same configuration and the same
// JSON lines on the worker's standard output, which the ducktape-style
// checks parse (ParseEvent and Check hold that check, for Samsa's and
// Java's output alike).
//
// Source task (configs `name`, `id` (set per task by the connector),
// `topic`, `throughput` (records/s, negative for unlimited) and
// `complete.record.data`): record key INT32 task id, value INT64 seqno
// (or a struct of name, task, topic, time_ms, seqno); source partition
// {"id": task}, offset {"seqno": n}, resuming at the stored seqno + 1.
// It prints, with Java's key order (that of a java.util.HashMap),
//
//	{"task":0,"seqno":7,"time_ms":1700000000000,"name":"src","topic":"t"}
//
// for each record it returns from Poll, and
//
//	{"committed":true,"task":0,"seqno":7,"time_ms":…,"name":"src","topic":"t"}
//
// when the runtime reports the record written (CommitRecord).
//
// Sink task (configs `name`, `id`): for each record received
//
//	{"task":<key>,"seqno":<value>,"offset":<kafka offset>,"time_ms":…,"name":"sink","topic":"t","sinkTask":0}
//
// and, for the partitions being committed (PreCommit), the same lines
// again with a fresh time_ms and "flushed":true appended.
//
// Concurrency: a task is driven by one goroutine (Stop and CommitRecord
// may come from others). The output writer is shared by every task and
// must be safe for concurrent use; each Write holds whole lines.
package verifiable
