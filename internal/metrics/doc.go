// Package metrics holds Samsa's Prometheus metrics registry. Metric names
// and labels follow jmx_exporter's Kafka rules as Strimzi ships them,
// lowercased (kafka_server_brokertopicmetrics_bytesin_total{topic}, …), and
// kafka_exporter's names for consumer lag, so that dashboards and alerts
// written for Apache Kafka fill in unchanged; Samsa's own additions are
// samsa_*. The registry also carries Go's runtime and process collectors.
//
// Components register collectors that read their own in-memory state at
// scrape time (no log reads per scrape). A Registry is safe for concurrent
// use; collectors must be too.
package metrics
