package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DeleteRecords, versions 0-2.
//
// Version notes:
//   - v1: same as v0 (throttling behavior only)
//   - v2: flexible versions
//
// ACLs: Delete on each topic, else its partitions answer
// TOPIC_AUTHORIZATION_FAILED (low watermark -1), before the topic's
// existence is looked at.
func init() { register(int16(kmsg.DeleteRecords), 0, 2, (*Broker).handleDeleteRecords) }

func (b *Broker) handleDeleteRecords(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	img := b.image()
	az := c.authz()
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		t := img.Topics[rt.Topic]
		allowed := az.topic(acl.OpDelete, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LowWatermark = -1
			var err error
			switch {
			case !allowed:
				err = kerr.TopicAuthorizationFailed
			case t == nil:
				err = kerr.UnknownTopicOrPartition
			case isInternalTopic(t.Name):
				// Kafka's ReplicaManager.deleteRecordsOnLocalLog.
				err = newTopicError(kerr.InvalidTopicException, "Cannot delete records of internal topic %s", t.Name)
			default:
				sp.LowWatermark, err = deleteRecords(b, t, rp.Partition, rp.Offset)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.LowWatermark = -1
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// deleteRecords advances one partition's log start offset as Kafka's
// Partition.deleteRecordsOnLeader does and returns the new low watermark.
func deleteRecords(b *Broker, t *metadata.Topic, part int32, offset int64) (int64, error) {
	mp, ok := partitionOf(t, part)
	if !ok {
		return -1, kerr.UnknownTopicOrPartition
	}
	if err := b.offline(t.Name, part); err != nil {
		return -1, err
	}
	if mp.Leader != b.cfg.NodeID {
		return -1, kerr.NotLeaderForPartition
	}
	p, ok := b.parts.Get(t.Name, part)
	if !ok {
		return -1, kerr.NotLeaderForPartition
	}
	if !p.Config().CleanupDelete {
		return -1, newTopicError(kerr.PolicyViolation, "Records of partition %s-%d can not be deleted due to the configured policy", t.Name, part)
	}
	return p.DeleteRecords(offset)
}
