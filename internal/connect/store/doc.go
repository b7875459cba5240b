// Package store holds a distributed Connect worker's three internal
// topics in Apache Kafka Connect's formats, so that Java workers and
// Samsa workers given the same topics see the same connectors, target
// states, task configs, offsets and statuses.
//
// # Formats
//
// Java writes these values with its internal JsonConverter configured
// with schemas.enable=false (Worker's internal converters), so values
// are plain compact JSON without the {"schema","payload"} envelope; the
// readers also accept an envelope (written by very old workers).
//
// Config topic (config.storage.topic, one partition, compacted), keys:
//
//	connector-<c>        {"properties":{...}}          (null: deleted)
//	task-<c>-<n>         {"properties":{...}}
//	commit-<c>           {"tasks":N}
//	target-state-<c>     {"state":"PAUSED","state.v2":"STOPPED"}
//	tasks-fencing-<c>    {"task-count":N}
//	session-key          {"key":"<base64>","algorithm":"HmacSHA256","creation-timestamp":ms}
//	restart-connector-<c> {"include-tasks":b,"only-failed":b}
//	logger-cluster-<ns>  {"level":"DEBUG"}
//
// Task configs take effect only when the commit record that follows them
// names a complete set; a commit without them marks the connector
// inconsistent (Java's ClusterConfigState.inconsistentConnectors).
//
// Offsets topic (offset.storage.topic, 25 partitions, compacted): key
// ["<connector>",{source partition}], value the source offset map, null
// to delete; partitioned by murmur2 of the key bytes like Java's
// producer.
//
// Status topic (status.storage.topic, 5 partitions, compacted): keys
// status-connector-<c>, status-task-<c>-<n> with
// {"state","trace","worker_id","generation"}, and
// status-topic-<t>:connector-<c> with
// {"topic":{"name","connector","task","discoverTimestamp"}}.
//
// # Concurrency
//
// ConfigState and StatusState are immutable values; their Apply returns
// a new value. Each store runs one goroutine that tails its topic, started
// by Start(ctx) and stopped by ctx's end or Close (which waits for it);
// every other method is safe from any goroutine.
package store
