package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DescribeProducers, version 0 (KIP-664).
//
// Version notes:
//   - v0: flexible versions
//
// ACLs: Read on each topic, else its partitions answer
// TOPIC_AUTHORIZATION_FAILED, before the topic's existence is looked at.
func init() { register(int16(kmsg.DescribeProducers), 0, 0, (*Broker).handleDescribeProducers) }

// handleDescribeProducers lists the producers with idempotence state in each
// partition asked for, as Kafka's handleDescribeProducersRequest does.
func (b *Broker) handleDescribeProducers(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	img := b.image()
	az := c.authz()
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		var topicErr error
		t, ok := img.Topics[rt.Topic]
		if !az.topic(acl.OpRead, rt.Topic) {
			topicErr = newTopicError(kerr.TopicAuthorizationFailed, "%s", kerr.TopicAuthorizationFailed.Description)
		} else if err := validTopicName(rt.Topic); err != nil {
			topicErr = newTopicError(kerr.InvalidTopicException, "%v", err)
		} else if !ok {
			topicErr = newTopicError(kerr.UnknownTopicOrPartition, "%s", kerr.UnknownTopicOrPartition.Description)
		}
		for _, idx := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = idx
			err := topicErr
			if err == nil {
				err = describeProducers(b, t, idx, &sp)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = errMessage(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func describeProducers(b *Broker, t *metadata.Topic, idx int32, sp *kmsg.DescribeProducersResponseTopicPartition) error {
	mp, ok := partitionOf(t, idx)
	if !ok {
		return newTopicError(kerr.UnknownTopicOrPartition, "%s", kerr.UnknownTopicOrPartition.Description)
	}
	if mp.Leader != b.cfg.NodeID {
		return newTopicError(kerr.NotLeaderForPartition, "%s", kerr.NotLeaderForPartition.Description)
	}
	p, ok := b.parts.Get(t.Name, idx)
	if !ok {
		return newTopicError(kerr.NotLeaderForPartition, "%s", kerr.NotLeaderForPartition.Description)
	}
	sp.ActiveProducers = []kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}
	for _, pi := range p.Producers() {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID = pi.ProducerID
		ap.ProducerEpoch = int32(pi.ProducerEpoch)
		ap.LastSequence = pi.LastSequence
		ap.LastTimestamp = pi.LastTimestamp
		ap.CoordinatorEpoch = -1
		ap.CurrentTxnStartOffset = pi.CurrentTxnStartOffset
		sp.ActiveProducers = append(sp.ActiveProducers, ap)
	}
	return nil
}
