package broker

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// ListGroups, versions 0-5 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: flexible versions
//   - v4: StatesFilter and GroupState (KIP-518)
//   - v5: TypesFilter and GroupType (KIP-848)
//
// ACLs: Describe on the cluster lists every group; without it only the
// groups the principal may Describe are listed (no error).
func init() { register(int16(kmsg.ListGroups), 0, 5, (*Broker).handleListGroups) }

// handleListGroups hands ListGroups v0-v5 to the group coordinator.
func (b *Broker) handleListGroups(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ListGroupsRequest)
	resp := b.groups.ListGroups(ctx, req)
	b.listShareGroups(req, resp)
	az := c.authz()
	if az.cluster(acl.OpDescribe) {
		return resp, nil
	}
	kept := resp.Groups[:0]
	for _, g := range resp.Groups {
		if az.group(acl.OpDescribe, g.Group) {
			kept = append(kept, g)
		}
	}
	resp.Groups = kept
	return resp, nil
}

// listShareGroups adds the share groups this broker coordinates
// (internal/share) under the request's state and type filters: type
// "share", protocol type "share", states Empty and Stable.
func (b *Broker) listShareGroups(req *kmsg.ListGroupsRequest, resp *kmsg.ListGroupsResponse) {
	match := func(filter []string, v string) bool {
		if len(filter) == 0 {
			return true
		}
		for _, f := range filter {
			if strings.EqualFold(f, v) {
				return true
			}
		}
		return false
	}
	added := false
	for _, g := range b.shares.List() {
		if !match(req.StatesFilter, g.State) || !match(req.TypesFilter, "share") {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.ID, "share", g.State, "share"
		resp.Groups = append(resp.Groups, lg)
		added = true
	}
	if added {
		sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
	}
}
