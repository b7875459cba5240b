// Package exporter is the lag part of Samsa's metrics run alone against
// any Kafka cluster, as a Kafka client (franz-go's kadm), for `samsa
// exporter`: a prometheus.Collector that at each scrape lists the cluster's
// topics (Metadata), their end and start offsets (ListOffsets), the groups
// (ListGroups, DescribeGroups) and their committed offsets (OffsetFetch),
// and answers kafka_exporter's metric names
// (github.com/danielqsj/kafka_exporter): kafka_brokers,
// kafka_topic_partitions{topic},
// kafka_topic_partition_{current_offset,oldest_offset,leader,replicas,
// in_sync_replica,leader_is_preferred,under_replicated_partition}{topic,partition},
// kafka_consumergroup_{current_offset,lag}{consumergroup,topic,partition}
// with their _sum{consumergroup,topic}, kafka_consumergroup_members
// {consumergroup}; plus samsa_consumergroup_lag_seconds{consumergroup,
// topic,partition}, the age of the oldest unconsumed record (times.go
// says how its timestamps are fetched and cached), and
// samsa_exporter_scrape_errors{request}.
//
// Lag is the partition's end offset (high watermark) minus the committed
// offset, never below 0; partitions a group never committed are not
// reported (kafka_exporter reports them as -1). A broker computes the same
// metrics from its own memory (internal/node's lag collector); the exporter
// is for clusters that are not Samsa, or to watch one from outside.
//
// It imports no broker internal (internal/lint).
package exporter
