// Package metrics holds Samsa's Prometheus metrics registry and the cheap
// recording types the request path uses. Metric names and labels follow
// jmx_exporter's Kafka rules as Strimzi ships them, lowercased
// (kafka_server_brokertopicmetrics_bytesin_total{topic}, …), and
// kafka_exporter's names for consumer lag, so that dashboards and alerts
// written for Apache Kafka fill in unchanged; Samsa's own additions are
// samsa_*. The registry also carries Go's runtime and process collectors.
//
// Components register collectors that read their own in-memory state at
// scrape time (no log reads per scrape). A Registry is safe for concurrent
// use; collectors must be too.
//
// # Recording (no locks on the request path)
//
// Broker is what the broker records: TopicCounters (BrokerTopicMetrics by
// topic, a sync.Map of atomic counters looked up without a lock, plus the
// totals; the node's collector forgets deleted topics at each scrape, and
// the broker counts only topics in the image), Requests (a Latency per
// API key: log-linear buckets, four per power of two of microseconds,
// atomic adds) and the Busy time behind the idle gauges. A nil *Broker
// records nothing. Window, IdleWindow and Rate turn those running totals
// into Kafka's recent percentiles, idle fractions and rates at scrape
// time.
//
// # Decisions on names and types
//
//   - BrokerTopicMetrics: jmx_exporter exposes one family per counter,
//     kafka_server_brokertopicmetrics_bytesin_total, with a topic label on
//     the per-topic MBeans and without it on the broker-wide one; Strimzi's
//     dashboards query topic!="" or topic=~"$topic" for topics and the
//     series without topic for totals. Samsa does the same (an unchecked
//     collector, since client_golang's checked ones refuse differing label
//     names within a family; the text format and promtool accept it), so a
//     query without a topic matcher sums both, as it does on Kafka.
//   - What BrokerTopicMetrics count: BytesIn and MessagesIn the record
//     batches producers appended (whole batches as received, header
//     included), BytesOut the record bytes answered to consumer fetches;
//     TotalProduceRequests and TotalFetchRequests one per partition per
//     request, as Kafka's ReplicaManager marks them, followers' fetches
//     included (but not in BytesOut, as Kafka); the Failed* ones errors of this
//     broker's (storage, invalid or oversized records, …), not
//     NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION, as Kafka.
//   - kafka_network_requestmetrics_totaltimems{request,quantile}: Kafka's
//     histogram percentiles (50, 75, 95, 98, 99, 99.9th) with
//     jmx_exporter's quantile labels "0.50", "0.75", "0.95", "0.98",
//     "0.99", "0.999" (a Prometheus summary would render "0.5"), over the
//     last one to two minutes (Kafka's reservoir also favours recent
//     samples), in ms, as the upper bound of the bucket holding them (at
//     most 25% high); and …_totaltimems_count{request}. Request names are
//     Kafka's (kmsg's), Fetch split into FetchConsumer and FetchFollower.
//     Total time runs from the arrival of the request's size to its
//     response written, as Kafka's does from receipt to send.
//   - Those two families and kafka_server_socket_server_metrics_connection_count
//     are untyped: as gauges or counters promtool's lint refuses a quantile
//     label outside a summary and a _count suffix outside a histogram, and
//     untyped changes nothing for PromQL.
//   - kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent and
//     kafka_network_socketserver_networkprocessoravgidle_percent: Samsa has
//     no handler or network thread pools (a goroutine per connection), so
//     they are 1 − busy / (elapsed × GOMAXPROCS) over about 30 s, a
//     fraction as Kafka's are: handler busy is time in request handlers
//     less long-poll and acks=all waits and a fetch's own write; network
//     busy is time reading request bodies and writing responses. Near 1
//     means idle CPUs, near 0 saturated, as on Kafka.
//   - Partition gauges (kafka_cluster_partition_underminisr, atminisr,
//     replicascount) are reported for every hosted partition, non-zero on
//     the leader only, as Kafka's; the KafkaController gauges but
//     ActiveControllerCount on the active controller only.
//   - Raft: kafka_server_raftmetrics_* (current-leader, current-epoch,
//     current-vote, high-watermark = commit index, log-end-offset,
//     commit-latency-avg in ms, append/fetch-records-rate per second over
//     about 30 s) and kafka_server_raftchannelmetrics_*_total (bytes and
//     raft messages over the raft transport; its messages are one-way, so
//     request_total counts messages sent and response_total received).
//   - kafka_server_kafkaserver_linux_disk_{read,write}_bytes come from
//     /proc/self/io, as Kafka's.
//   - samsa_produce_latency_seconds, samsa_fetch_latency_seconds (consumer
//     fetches, long poll included) and samsa_fsync_latency_seconds
//     (partition log files and directories) are histograms with bounds of
//     2^6 … 2^24 µs (64 µs to 16.8 s), where Kafka's percentiles are too
//     coarse to aggregate across brokers.
package metrics
