package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// DescribeGroups, versions 0-6 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: IncludeAuthorizedOperations (KIP-430)
//   - v4: members' InstanceID (KIP-345)
//   - v5: flexible versions
//   - v6: GROUP_ID_NOT_FOUND and ErrorMessage for a missing group (KIP-1043);
//     below v6 it is described as Dead without an error. A KIP-848 group
//     answers GROUP_ID_NOT_FOUND at every version, with a message from v6.
//
// ACLs: Describe on each group, else it is answered
// GROUP_AUTHORIZATION_FAILED with no state, protocol or members. Asked
// authorized operations (v3+) are the principal's on the group for groups
// described without error, INT32_MIN otherwise.
func init() { register(int16(kmsg.DescribeGroups), 0, 6, (*Broker).handleDescribeGroups) }

// handleDescribeGroups hands DescribeGroups v0-v6 to the group coordinator.
func (b *Broker) handleDescribeGroups(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeGroupsRequest)
	az := c.authz()
	sub := *req
	sub.Groups = nil
	for _, g := range req.Groups {
		if az.group(acl.OpDescribe, g) {
			sub.Groups = append(sub.Groups, g)
		}
	}
	got := b.groups.DescribeGroups(ctx, &sub)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.ThrottleMillis = got.ThrottleMillis
	next := 0
	for _, g := range req.Groups {
		if !az.group(acl.OpDescribe, g) || next >= len(got.Groups) {
			dg := kmsg.NewDescribeGroupsResponseGroup()
			dg.Group, dg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		dg := got.Groups[next]
		next++
		if dg.ErrorCode == 0 && dg.State == "Dead" && b.shares.HasGroup(g) {
			// A share group is not a classic group, as Kafka answers.
			dg.State, dg.ErrorCode = "", kerr.GroupIDNotFound.Code
			if req.Version >= 6 {
				dg.ErrorMessage = kmsg.StringPtr("Group " + g + " is not a classic group.")
			}
		} else if dg.ErrorCode == kerr.GroupIDNotFound.Code && b.shares.HasGroup(g) {
			dg.State, dg.ErrorMessage = "", kmsg.StringPtr("Group "+g+" is not a classic group.")
		}
		if req.Version >= 3 && req.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = authorizedOpsOmitted
			if dg.ErrorCode == 0 {
				dg.AuthorizedOperations = az.ops(acl.ResourceGroup, dg.Group)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}
