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
// # Serving many series (the text path)
//
// A broker's per-partition and per-group families (kafka_log_log_size,
// kafka_cluster_partition_*, kafka_topic_partition_*, kafka_consumergroup_*,
// …) are tens of thousands of series: with 10,000 partitions and 1,000
// groups, about 100,000. Through client_golang every one is a Metric
// written into a dto.Metric, checked for consistency, sorted and encoded:
// 160 ms and half a million allocations a scrape on a 2-core machine.
// So the collectors of those families are Bulk collectors (RegisterBulk):
// besides Collect they write their samples straight into a Text, a buffer
// per Family, in the text format 0.0.4 exactly as expfmt renders it
// (# HELP and # TYPE lines, labels in name order, values escaped, invalid
// UTF-8 replaced by U+FFFD as the collectors' client_golang path does,
// floats as expfmt formats them); both ways come from the same walk of the
// node's state, so they cannot disagree in what they report
// (text_test.go and internal/node's metrics_text_test.go compare them).
// /metrics (serve.go) then gathers the other collectors through
// client_golang (Go, process, histograms, the small broker families) and
// merges the two in family-name order; the Text's buffers are kept for the
// next scrape (megabytes on a large broker, rather than regrown), so the
// whole answer costs 13–30 ms (30–55 ms gzipped) and a thousand
// allocations at that size (internal/node's BenchmarkScrapeMem).
//
// Decisions of that path:
//
//   - Content negotiation: the text path answers only requests whose
//     preferred format is the text format, which a bare GET and
//     Prometheus without native histograms get (this registry does not
//     offer OpenMetrics, as before). A request for protobuf, or for some
//     families only (name[]), is answered by promhttp over every
//     collector, Bulk ones through Collect, as before the text path.
//   - Gatherer (tests, embedders) is every collector through client_golang.
//   - gzip when the scraper accepts it (Prometheus does), at BestSpeed:
//     about as small for this text, at a fraction of the CPU of promhttp's
//     default level.
//   - No consistency check at scrape time: a Bulk collector owns its
//     families (Describe registers them, so no other checked collector can
//     take them), and emits each series once by construction; the
//     comparison tests run client_golang's checks on the same walks.
//   - The order of series within a Bulk family is the collector's (the
//     per-partition families are sorted as Gather would; the per-group ones
//     come in the coordinator's order): the format does not require an
//     order, and Prometheus does not use one.
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
