package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// OffsetDelete, version 0 (KIP-496; internal/group).
//
// Version notes:
//   - v0: not flexible
//
// ACLs: Delete on the group, else the top-level GROUP_AUTHORIZATION_FAILED;
// then Read on each topic, else its partitions answer
// TOPIC_AUTHORIZATION_FAILED and keep their offsets. A group-level error
// from the coordinator drops the topics, as Kafka.
func init() { register(int16(kmsg.OffsetDelete), 0, 0, (*Broker).handleOffsetDelete) }

// handleOffsetDelete hands OffsetDelete v0 to the group coordinator.
func (b *Broker) handleOffsetDelete(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetDeleteRequest)
	az := c.authz()
	if !az.group(acl.OpDelete, req.Group) {
		resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	sub := *req
	sub.Topics = nil
	var denied []kmsg.OffsetDeleteRequestTopic
	for _, t := range req.Topics {
		if az.topic(acl.OpRead, t.Topic) {
			sub.Topics = append(sub.Topics, t)
		} else {
			denied = append(denied, t)
		}
	}
	// Kafka asks the coordinator even when no topic is left: a missing
	// group is still GROUP_ID_NOT_FOUND.
	resp := b.groups.OffsetDelete(ctx, &sub)
	if resp.ErrorCode != 0 {
		resp.Topics = nil
		return resp, nil
	}
	for _, t := range denied {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p.Partition, kerr.TopicAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
