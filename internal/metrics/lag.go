package metrics

import "github.com/prometheus/client_golang/prometheus"

// Consumer lag and partition offsets under kafka_exporter's names, shared
// by the broker's own lag collector (internal/node, a Bulk collector: its
// Families) and `samsa exporter` (internal/exporter, the Descs), so both
// expose the same series. kafka_exporter's *_sum families are gauges
// there, but Prometheus' lint refuses a gauge named _sum: they are
// untyped, as the Kafka names promlint refuses are elsewhere.
var (
	lagGroupLabels = []string{"consumergroup", "topic", "partition"}
	lagSumLabels   = []string{"consumergroup", "topic"}
	lagPartLabels  = []string{"topic", "partition"}

	FamGroupOffset    = NewFamily("kafka_consumergroup_current_offset", "Current Offset of a ConsumerGroup at Topic/Partition", prometheus.GaugeValue, lagGroupLabels...)
	FamGroupOffsetSum = NewFamily("kafka_consumergroup_current_offset_sum", "Current Offset of a ConsumerGroup at Topic for all partitions", prometheus.UntypedValue, lagSumLabels...)
	FamGroupLag       = NewFamily("kafka_consumergroup_lag", "Current Approximate Lag of a ConsumerGroup at Topic/Partition", prometheus.GaugeValue, lagGroupLabels...)
	FamGroupLagSum    = NewFamily("kafka_consumergroup_lag_sum", "Current Approximate Lag of a ConsumerGroup at Topic for all partitions", prometheus.UntypedValue, lagSumLabels...)
	FamGroupMembers   = NewFamily("kafka_consumergroup_members", "Amount of members in a consumer group", prometheus.GaugeValue, "consumergroup")
	FamGroupLagSec    = NewFamily("samsa_consumergroup_lag_seconds", "Age of the oldest record a ConsumerGroup has not consumed at Topic/Partition (0 when caught up)", prometheus.GaugeValue, lagGroupLabels...)

	FamTopicPartitions = NewFamily("kafka_topic_partitions", "Number of partitions for this Topic", prometheus.GaugeValue, "topic")
	FamPartCurrent     = NewFamily("kafka_topic_partition_current_offset", "Current Offset of a Broker at Topic/Partition", prometheus.GaugeValue, lagPartLabels...)
	FamPartOldest      = NewFamily("kafka_topic_partition_oldest_offset", "Oldest Offset of a Broker at Topic/Partition", prometheus.GaugeValue, lagPartLabels...)
	FamPartLeader      = NewFamily("kafka_topic_partition_leader", "Leader Broker ID of this Topic/Partition", prometheus.GaugeValue, lagPartLabels...)
	FamPartReplicas    = NewFamily("kafka_topic_partition_replicas", "Number of Replicas for this Topic/Partition", prometheus.GaugeValue, lagPartLabels...)
	FamPartISR         = NewFamily("kafka_topic_partition_in_sync_replica", "Number of In-Sync Replicas for this Topic/Partition", prometheus.GaugeValue, lagPartLabels...)
	FamPartPreferred   = NewFamily("kafka_topic_partition_leader_is_preferred", "1 if Topic/Partition is using the Preferred Broker", prometheus.GaugeValue, lagPartLabels...)
	FamPartUnder       = NewFamily("kafka_topic_partition_under_replicated_partition", "1 if Topic/Partition is under Replicated", prometheus.GaugeValue, lagPartLabels...)

	DescGroupOffset    = FamGroupOffset.Desc
	DescGroupOffsetSum = FamGroupOffsetSum.Desc
	DescGroupLag       = FamGroupLag.Desc
	DescGroupLagSum    = FamGroupLagSum.Desc
	DescGroupMembers   = FamGroupMembers.Desc
	DescGroupLagSec    = FamGroupLagSec.Desc

	DescTopicPartitions = FamTopicPartitions.Desc
	DescPartCurrent     = FamPartCurrent.Desc
	DescPartOldest      = FamPartOldest.Desc
	DescPartLeader      = FamPartLeader.Desc
	DescPartReplicas    = FamPartReplicas.Desc
	DescPartISR         = FamPartISR.Desc
	DescPartPreferred   = FamPartPreferred.Desc
	DescPartUnder       = FamPartUnder.Desc
)
