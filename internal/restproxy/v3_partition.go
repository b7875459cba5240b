package restproxy

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The shared producer's partitioner: a record the API sends to a given
// partition (v2 .../partitions/{p}, v3 partition_id) goes there; any other
// is partitioned as the Java client does (murmur2 of the key, sticky
// without a key: kgo's StickyKeyPartitioner).

// explicitPartitionKey marks a record's context: its Partition is chosen.
type explicitPartitionKey struct{}

// toPartition sends rec to partition p (its Context, which cancels it,
// stays ctx).
func toPartition(ctx context.Context, rec *kgo.Record, p int32) {
	rec.Partition = p
	rec.Context = context.WithValue(ctx, explicitPartitionKey{}, true)
}

func explicitPartition(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(explicitPartitionKey{}) != nil
}

// restPartitioner is the partitioner of Server.producer.
type restPartitioner struct{ base kgo.Partitioner }

func newRESTPartitioner() kgo.Partitioner {
	return restPartitioner{base: kgo.StickyKeyPartitioner(nil)}
}

func (p restPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &restTopicPartitioner{base: p.base.ForTopic(t)}
}

type restTopicPartitioner struct{ base kgo.TopicPartitioner }

func (p *restTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return explicitPartition(r) || p.base.RequiresConsistency(r)
}

// Partition is the record's own partition when it chose one (kgo fails
// the record if it is out of range), else the base partitioner's choice.
func (p *restTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if explicitPartition(r) {
		return int(r.Partition)
	}
	return p.base.Partition(r, n)
}

func (p *restTopicPartitioner) OnNewBatch() {
	if nb, isNB := p.base.(kgo.TopicPartitionerOnNewBatch); isNB {
		nb.OnNewBatch()
	}
}
