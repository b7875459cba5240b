package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// OffsetCommit, versions 2-9 (internal/group).
//
// Version notes:
//   - v2: RetentionTimeMillis (v2-v4), ignored here (v0-v1 went with Kafka 4.0)
//   - v3: throttle time; v5: RetentionTimeMillis removed
//   - v6: per-partition LeaderEpoch (KIP-320), stored from v6
//   - v7: InstanceID (KIP-345); v8: flexible versions
//   - v9: KIP-848: Generation carries the member epoch. A consumer-protocol
//     member must commit with v9+ (UNSUPPORTED_VERSION below), and a commit
//     with a generation to a missing group answers GROUP_ID_NOT_FOUND
//     (ILLEGAL_GENERATION below v9)
//
// ACLs: Read on the group, else every partition answers
// GROUP_AUTHORIZATION_FAILED; then Read on each topic, else its partitions
// answer TOPIC_AUTHORIZATION_FAILED and are not committed. When no topic
// is left the coordinator is not asked, as Kafka.
func init() { register(int16(kmsg.OffsetCommit), 2, 9, (*Broker).handleOffsetCommit) }

// handleOffsetCommit hands OffsetCommit v2-v9 to the group coordinator.
func (b *Broker) handleOffsetCommit(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetCommitRequest)
	az := c.authz()
	if !az.group(acl.OpRead, req.Group) {
		return offsetCommitAll(req, nil, kerr.GroupAuthorizationFailed.Code), nil
	}
	denied := map[string]bool{}
	sub := *req
	sub.Topics = nil
	for _, rt := range req.Topics {
		if !az.topic(acl.OpRead, rt.Topic) {
			denied[rt.Topic] = true
			continue
		}
		sub.Topics = append(sub.Topics, rt)
	}
	if len(denied) == 0 {
		return b.groups.OffsetCommit(ctx, req), nil
	}
	var got *kmsg.OffsetCommitResponse
	if len(sub.Topics) > 0 {
		got = b.groups.OffsetCommit(ctx, &sub)
	}
	pick := func(topic string) bool { return denied[topic] }
	return offsetCommitAll(req, pick, kerr.TopicAuthorizationFailed.Code).merge(got, pick), nil
}

// offsetCommitResp is an OffsetCommit response being put back together
// from the coordinator's answer and the partitions answered before it.
type offsetCommitResp struct{ *kmsg.OffsetCommitResponse }

// offsetCommitAll answers code for every partition of req's topics that
// pick selects (all when pick is nil), in request order; the others are
// left for merge.
func offsetCommitAll(req *kmsg.OffsetCommitRequest, pick func(string) bool, code int16) offsetCommitResp {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		if pick == nil || pick(rt.Topic) {
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return offsetCommitResp{resp}
}

// merge fills the topics pick did not select with the coordinator's
// answers, in order, and returns the response.
func (o offsetCommitResp) merge(got *kmsg.OffsetCommitResponse, pick func(string) bool) *kmsg.OffsetCommitResponse {
	if got == nil {
		return o.OffsetCommitResponse
	}
	o.ThrottleMillis = got.ThrottleMillis
	next := 0
	for i := range o.Topics {
		if pick(o.Topics[i].Topic) || next >= len(got.Topics) {
			continue
		}
		o.Topics[i] = got.Topics[next]
		next++
	}
	return o.OffsetCommitResponse
}
