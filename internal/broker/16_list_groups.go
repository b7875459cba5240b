package broker

import (
	"context"

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
	resp := b.groups.ListGroups(ctx, r.req.(*kmsg.ListGroupsRequest))
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
