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
// Metrics, dashboards and their tools, with Debian's prometheus and
// promtool (2.42), which `make deps` unpacks into .cache/prometheus
// (mk/prometheus.mk):
//
//   - promtool_test.go: /metrics after a workload passes `promtool check
//     metrics`, and carries every metric name of the observability issue
//     with its labels.
//   - dashboards_test.go: a Prometheus on loopback scrapes a 3-node cluster
//     under load every second; every PromQL query of every dashboard in
//     deploy/grafana/dashboards (panels and template variables), with its
//     variables substituted, must succeed and return data.
//
// A test whose tool is missing skips locally and fails when CI is set.
//
// Every test here starts processes; in -short mode clustertest skips them.
package observability
