package metrics

import "github.com/prometheus/client_golang/prometheus"

// Consumer lag and partition offsets under kafka_exporter's names, shared
// by the broker's own lag collector (internal/node) and `samsa exporter`
// (internal/exporter), so both expose the same series.
var (
	lagGroupLabels = []string{"consumergroup", "topic", "partition"}
	lagSumLabels   = []string{"consumergroup", "topic"}
	lagPartLabels  = []string{"topic", "partition"}

	DescGroupOffset    = prometheus.NewDesc("kafka_consumergroup_current_offset", "Current Offset of a ConsumerGroup at Topic/Partition", lagGroupLabels, nil)
	DescGroupOffsetSum = prometheus.NewDesc("kafka_consumergroup_current_offset_sum", "Current Offset of a ConsumerGroup at Topic for all partitions", lagSumLabels, nil)
	DescGroupLag       = prometheus.NewDesc("kafka_consumergroup_lag", "Current Approximate Lag of a ConsumerGroup at Topic/Partition", lagGroupLabels, nil)
	DescGroupLagSum    = prometheus.NewDesc("kafka_consumergroup_lag_sum", "Current Approximate Lag of a ConsumerGroup at Topic for all partitions", lagSumLabels, nil)
	DescGroupMembers   = prometheus.NewDesc("kafka_consumergroup_members", "Amount of members in a consumer group", []string{"consumergroup"}, nil)
	DescGroupLagSec    = prometheus.NewDesc("samsa_consumergroup_lag_seconds", "Age of the oldest record a ConsumerGroup has not consumed at Topic/Partition (0 when caught up)", lagGroupLabels, nil)

	DescTopicPartitions = prometheus.NewDesc("kafka_topic_partitions", "Number of partitions for this Topic", []string{"topic"}, nil)
	DescPartCurrent     = prometheus.NewDesc("kafka_topic_partition_current_offset", "Current Offset of a Broker at Topic/Partition", lagPartLabels, nil)
	DescPartOldest      = prometheus.NewDesc("kafka_topic_partition_oldest_offset", "Oldest Offset of a Broker at Topic/Partition", lagPartLabels, nil)
	DescPartLeader      = prometheus.NewDesc("kafka_topic_partition_leader", "Leader Broker ID of this Topic/Partition", lagPartLabels, nil)
	DescPartReplicas    = prometheus.NewDesc("kafka_topic_partition_replicas", "Number of Replicas for this Topic/Partition", lagPartLabels, nil)
	DescPartISR         = prometheus.NewDesc("kafka_topic_partition_in_sync_replica", "Number of In-Sync Replicas for this Topic/Partition", lagPartLabels, nil)
	DescPartPreferred   = prometheus.NewDesc("kafka_topic_partition_leader_is_preferred", "1 if Topic/Partition is using the Preferred Broker", lagPartLabels, nil)
	DescPartUnder       = prometheus.NewDesc("kafka_topic_partition_under_replicated_partition", "1 if Topic/Partition is under Replicated", lagPartLabels, nil)
)
