package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// ConsumerGroupDescribe, versions 0-1 (KIP-848; internal/group).
//
// Version notes:
//   - v0: flexible versions
//   - v1: members' MemberType (KIP-1099): 0 classic, 1 consumer
//
// ACLs: Describe on each group, else GROUP_AUTHORIZATION_FAILED for it;
// asked authorized operations are the principal's on the group (for groups
// described without error). With an authorizer, a group whose members'
// current or target assignments hold a topic the principal may not
// Describe is answered TOPIC_AUTHORIZATION_FAILED without members, as
// Kafka 4.x.
func init() {
	register(int16(kmsg.ConsumerGroupDescribe), 0, 1, (*Broker).handleConsumerGroupDescribe)
}

// handleConsumerGroupDescribe hands ConsumerGroupDescribe v0-v1 (KIP-848)
// to the group coordinator.
func (b *Broker) handleConsumerGroupDescribe(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ConsumerGroupDescribeRequest)
	az := c.authz()
	sub := *req
	sub.Groups = nil
	for _, g := range req.Groups {
		if az.group(acl.OpDescribe, g) {
			sub.Groups = append(sub.Groups, g)
		}
	}
	got := b.groups.ConsumerGroupDescribe(ctx, &sub, newImageTopics(b.image()))
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	resp.ThrottleMillis = got.ThrottleMillis
	next := 0
	for _, g := range req.Groups {
		if !az.group(acl.OpDescribe, g) || next >= len(got.Groups) {
			d := kmsg.NewConsumerGroupDescribeResponseGroup()
			d.Group, d.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		d := got.Groups[next]
		next++
		if req.IncludeAuthorizedOperations && d.ErrorCode == 0 {
			d.AuthorizedOperations = az.ops(acl.ResourceGroup, d.Group)
		}
		if az.enabled() && assignsUndescribed(az, d.Members) {
			h := kmsg.NewConsumerGroupDescribeResponseGroup()
			h.Group, h.ErrorCode = d.Group, kerr.TopicAuthorizationFailed.Code
			h.ErrorMessage = kmsg.StringPtr("The group has described topic(s) that the client is not authorized to describe.")
			h.Members = []kmsg.ConsumerGroupDescribeResponseGroupMember{}
			d = h
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp, nil
}

// assignsUndescribed reports whether a member's current or target
// assignment holds a topic the principal may not Describe.
func assignsUndescribed(az *reqAuthz, members []kmsg.ConsumerGroupDescribeResponseGroupMember) bool {
	for _, m := range members {
		for _, a := range []kmsg.Assignment{m.Assignment, m.TargetAssignment} {
			for _, tp := range a.TopicPartitions {
				// A deleted topic has no name here; Kafka leaves it out.
				if tp.Topic != "" && !az.topic(acl.OpDescribe, tp.Topic) {
					return true
				}
			}
		}
	}
	return false
}
