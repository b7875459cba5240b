package node

// brokerMetricDescs names the broker collector's metrics (metrics_broker.go)
// by a short key: jmx_exporter's names for Kafka's MBeans as Strimzi's
// rules give them, lowercased, and Samsa's own samsa_* ones.
var brokerMetricDescs = func() []metricDesc {
	var out []metricDesc
	for _, m := range []struct{ key, mbean string }{
		{"bytesin", "BytesInPerSec"}, {"bytesout", "BytesOutPerSec"}, {"messagesin", "MessagesInPerSec"},
		{"totalproducerequests", "TotalProduceRequestsPerSec"}, {"totalfetchrequests", "TotalFetchRequestsPerSec"},
		{"failedproducerequests", "FailedProduceRequestsPerSec"}, {"failedfetchrequests", "FailedFetchRequestsPerSec"},
	} {
		name := "kafka_server_brokertopicmetrics_" + m.key + "_total"
		help := "kafka.server:type=BrokerTopicMetrics,name=" + m.mbean + " (Count); without the topic label: the broker total"
		out = append(out, metricDesc{m.key, name, help, nil}, metricDesc{m.key + "/topic", name, help, []string{"topic"}})
	}
	return append(out, []metricDesc{
		{"activecontroller", "kafka_controller_kafkacontroller_activecontrollercount", "kafka.controller:type=KafkaController,name=ActiveControllerCount: 1 on the active controller (the raft leader)", nil},
		{"offlinepartitions", "kafka_controller_kafkacontroller_offlinepartitionscount", "kafka.controller:type=KafkaController,name=OfflinePartitionsCount: leaderless partitions (active controller only)", nil},
		{"globaltopics", "kafka_controller_kafkacontroller_globaltopiccount", "kafka.controller:type=KafkaController,name=GlobalTopicCount (active controller only)", nil},
		{"globalpartitions", "kafka_controller_kafkacontroller_globalpartitioncount", "kafka.controller:type=KafkaController,name=GlobalPartitionCount (active controller only)", nil},
		{"unclean", "kafka_controller_controllerstats_uncleanleaderelections_total", "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec (Count): unclean elections this node made as active controller", nil},
		{"raftleader", "kafka_server_raftmetrics_current_leader", "kafka.server:type=raft-metrics current-leader (-1: unknown)", nil},
		{"raftepoch", "kafka_server_raftmetrics_current_epoch", "kafka.server:type=raft-metrics current-epoch (the raft term)", nil},
		{"raftvote", "kafka_server_raftmetrics_current_vote", "kafka.server:type=raft-metrics current-vote (-1: none)", nil},
		{"rafthw", "kafka_server_raftmetrics_high_watermark", "kafka.server:type=raft-metrics high-watermark (the commit index)", nil},
		{"raftleo", "kafka_server_raftmetrics_log_end_offset", "kafka.server:type=raft-metrics log-end-offset (the last stored index)", nil},
		{"raftcommit", "kafka_server_raftmetrics_commit_latency_avg", "kafka.server:type=raft-metrics commit-latency-avg: ms from this node's proposals to their application, over about 30 s", nil},
		{"raftappend", "kafka_server_raftmetrics_append_records_rate", "kafka.server:type=raft-metrics append-records-rate: entries appended per second as leader", nil},
		{"raftfetch", "kafka_server_raftmetrics_fetch_records_rate", "kafka.server:type=raft-metrics fetch-records-rate: entries received per second from the leader", nil},
		{"chanin", "kafka_server_raftchannelmetrics_incoming_byte_total", "kafka.server:type=raft-channel-metrics incoming-byte-total", nil},
		{"chanout", "kafka_server_raftchannelmetrics_outgoing_byte_total", "kafka.server:type=raft-channel-metrics outgoing-byte-total", nil},
		{"chanreq", "kafka_server_raftchannelmetrics_request_total", "kafka.server:type=raft-channel-metrics request-total: raft messages sent", nil},
		{"chanresp", "kafka_server_raftchannelmetrics_response_total", "kafka.server:type=raft-channel-metrics response-total: raft messages received", nil},
		{"totaltimems", "kafka_network_requestmetrics_totaltimems", "kafka.network:type=RequestMetrics,name=TotalTimeMs percentiles: ms from a request's arrival to its response written, over the last 1-2 minutes", []string{"request", "quantile"}},
		{"totaltimemscount", "kafka_network_requestmetrics_totaltimems_count", "kafka.network:type=RequestMetrics,name=TotalTimeMs (Count): requests handled", []string{"request"}},
		{"handleridle", "kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent", "kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent: 1 - handler busy time / (elapsed x GOMAXPROCS), about 30 s", nil},
		{"networkidle", "kafka_network_socketserver_networkprocessoravgidle_percent", "kafka.network:type=SocketServer,name=NetworkProcessorAvgIdlePercent: 1 - request I/O time / (elapsed x GOMAXPROCS), about 30 s", nil},
		{"connections", "kafka_server_socket_server_metrics_connection_count", "kafka.server:type=socket-server-metrics connection-count: open client connections", []string{"listener"}},
		{"diskread", "kafka_server_kafkaserver_linux_disk_read_bytes", "kafka.server:type=KafkaServer,name=linux-disk-read-bytes: bytes the process read from storage (/proc/self/io)", nil},
		{"diskwrite", "kafka_server_kafkaserver_linux_disk_write_bytes", "kafka.server:type=KafkaServer,name=linux-disk-write-bytes: bytes the process wrote to storage (/proc/self/io)", nil},
		{"produce", "samsa_produce_latency_seconds", "Produce requests from arrival to response written", nil},
		{"fetch", "samsa_fetch_latency_seconds", "Consumer Fetch requests from arrival to response written, long-poll wait included", nil},
		{"fsync", "samsa_fsync_latency_seconds", "fsyncs of partition log files and directories", nil},
	}...)
}()

type metricDesc struct {
	key, name, help string
	labels          []string
}
