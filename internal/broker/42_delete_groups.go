package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/errcode"
)

// DeleteGroups, versions 0-2 (internal/group).
//
// Version notes:
//   - v1: same as v0 (throttling behavior only)
//   - v2: flexible versions
//
// ACLs: Delete on each group, else GROUP_AUTHORIZATION_FAILED for it; the
// others are deleted.
func init() { register(int16(kmsg.DeleteGroups), 0, 2, (*Broker).handleDeleteGroups) }

// handleDeleteGroups hands DeleteGroups v0-v2 to the group coordinator.
func (b *Broker) handleDeleteGroups(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DeleteGroupsRequest)
	az := c.authz()
	sub := *req
	sub.Groups = nil
	for _, g := range req.Groups {
		if az.group(acl.OpDelete, g) {
			sub.Groups = append(sub.Groups, g)
		}
	}
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	var got *kmsg.DeleteGroupsResponse
	if len(sub.Groups) > 0 {
		got = b.groups.DeleteGroups(ctx, &sub)
		resp.ThrottleMillis = got.ThrottleMillis
	}
	next := 0
	for _, g := range req.Groups {
		if !az.group(acl.OpDelete, g) || got == nil || next >= len(got.Groups) {
			dg := kmsg.NewDeleteGroupsResponseGroup()
			dg.Group, dg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		dg := got.Groups[next]
		next++
		if dg.ErrorCode == kerr.GroupIDNotFound.Code && b.shares.HasGroup(g) {
			// A share group (internal/share): deleted when empty.
			dg.ErrorCode = 0
			keys, err := b.shares.Delete(g)
			if err != nil {
				dg.ErrorCode = errcode.Code(err)
			}
			for _, k := range keys {
				if b.shareStates == nil {
					break
				}
				if err := b.shareStates.Delete(ctx, k); err != nil && dg.ErrorCode == 0 {
					dg.ErrorCode = errcode.Code(err)
				}
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}
