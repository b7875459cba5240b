// Package observability holds the tests of Samsa's lag metrics as external
// tools read them, against the real samsa binary (internal/clustertest):
//
//   - KEDA's kafka scaler (sarama v1.61.1 pinned to protocol 1.0.0:
//     OffsetFetch v3 with a null partition list, Metadata v5,
//     FindCoordinator v1, ListOffsets v1 to each partition leader) and its
//     apache-kafka scaler (segmentio/kafka-go v0.4.51: Metadata,
//     DescribeGroups, OffsetFetch, ListOffsets) replayed call for call,
//     with and without a topic and for a group that never committed; their
//     lag must equal the workload's, `samsa group lag`'s and the broker's
//     kafka_consumergroup_lag, on one node and on three (partitions spread
//     over the brokers; exactly one broker, the group's coordinator,
//     reports the group);
//   - `samsa exporter` (internal/exporter), the lag part run alone as a
//     Kafka client, against the same workload.
//
// Every test here starts processes; in -short mode clustertest skips them.
package observability
