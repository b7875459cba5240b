package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// OffsetFetch, versions 1-9 (internal/group).
//
// Version notes:
//   - v1: offsets from __consumer_offsets (v0 read ZooKeeper, gone in Kafka 4)
//   - v2: null topics fetches all; top-level ErrorCode (v1 puts a group
//     error on every partition)
//   - v3: throttle time; v5: LeaderEpoch in the response; v6: flexible
//   - v7: RequireStable (KIP-447): UNSTABLE_OFFSET_COMMIT for partitions
//     with pending transactional offsets
//   - v8: several groups per request (KIP-709)
//   - v9: MemberID and MemberEpoch, checked for consumer-protocol members
//     (KIP-848)
//
// ACLs: Describe on each group, else GROUP_AUTHORIZATION_FAILED for it (v8+
// per group; v2-v7 the top-level error; v1 every partition). Named topics
// need Describe, else their partitions answer TOPIC_AUTHORIZATION_FAILED
// (offset -1); fetching all topics leaves out those not described.
func init() { register(int16(kmsg.OffsetFetch), 1, 9, (*Broker).handleOffsetFetch) }

// handleOffsetFetch hands OffsetFetch v1-v9 to the group coordinator.
func (b *Broker) handleOffsetFetch(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetFetchRequest)
	az := c.authz()
	if req.Version >= 8 {
		return b.offsetFetchGroups(ctx, az, req), nil
	}
	if !az.group(acl.OpDescribe, req.Group) {
		return offsetFetchGroupDenied(req), nil
	}
	sub := *req
	var denied []kmsg.OffsetFetchRequestTopic
	if req.Topics != nil {
		sub.Topics = []kmsg.OffsetFetchRequestTopic{}
		for _, t := range req.Topics {
			if az.topic(acl.OpDescribe, t.Topic) {
				sub.Topics = append(sub.Topics, t)
			} else {
				denied = append(denied, t)
			}
		}
	}
	resp := b.groups.OffsetFetch(ctx, &sub)
	if req.Topics == nil {
		// All topics: those not described are left out.
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if az.topic(acl.OpDescribe, t.Topic) {
				kept = append(kept, t)
			}
		}
		resp.Topics = kept
		return resp, nil
	}
	if resp.ErrorCode != 0 {
		return resp, nil
	}
	for _, t := range denied {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = p, -1, -1, kmsg.StringPtr("")
			sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// offsetFetchGroupDenied answers OffsetFetch v1-v7 without Describe on the
// group: the top-level error from v2, every partition's below.
func offsetFetchGroupDenied(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	code := kerr.GroupAuthorizationFailed.Code
	if req.Version >= 2 {
		resp.ErrorCode = code
		return resp
	}
	for _, t := range req.Topics {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata, sp.ErrorCode = p, -1, -1, kmsg.StringPtr(""), code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// offsetFetchGroups is OffsetFetch v8+: each group authorized on its own,
// the coordinator asked for the groups and topics allowed, the answers put
// back in request order.
func (b *Broker) offsetFetchGroups(ctx context.Context, az *reqAuthz, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	type slot struct {
		denied       bool
		deniedTopics []kmsg.OffsetFetchRequestGroupTopic
	}
	slots := make([]slot, len(req.Groups))
	sub := *req
	sub.Groups = nil
	for i, rg := range req.Groups {
		if !az.group(acl.OpDescribe, rg.Group) {
			slots[i].denied = true
			continue
		}
		g := rg
		if rg.Topics != nil {
			g.Topics = []kmsg.OffsetFetchRequestGroupTopic{}
			for _, t := range rg.Topics {
				if az.topic(acl.OpDescribe, t.Topic) {
					g.Topics = append(g.Topics, t)
				} else {
					slots[i].deniedTopics = append(slots[i].deniedTopics, t)
				}
			}
		}
		sub.Groups = append(sub.Groups, g)
	}
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	var got *kmsg.OffsetFetchResponse
	if len(sub.Groups) > 0 {
		got = b.groups.OffsetFetch(ctx, &sub)
		resp.ThrottleMillis = got.ThrottleMillis
	}
	next := 0
	for i, rg := range req.Groups {
		if slots[i].denied || got == nil || next >= len(got.Groups) {
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group, sg.ErrorCode = rg.Group, kerr.GroupAuthorizationFailed.Code
			if !slots[i].denied { // the coordinator answers every group it is given
				sg.ErrorCode = kerr.UnknownServerError.Code
			}
			resp.Groups = append(resp.Groups, sg)
			continue
		}
		sg := got.Groups[next]
		next++
		if sg.ErrorCode == 0 {
			if rg.Topics == nil {
				kept := sg.Topics[:0]
				for _, t := range sg.Topics {
					if az.topic(acl.OpDescribe, t.Topic) {
						kept = append(kept, t)
					}
				}
				sg.Topics = kept
			}
			for _, t := range slots[i].deniedTopics {
				st := kmsg.NewOffsetFetchResponseGroupTopic()
				st.Topic = t.Topic
				for _, p := range t.Partitions {
					sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = p, -1, -1, kmsg.StringPtr("")
					sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
					st.Partitions = append(st.Partitions, sp)
				}
				sg.Topics = append(sg.Topics, st)
			}
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return resp
}
