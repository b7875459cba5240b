package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups, versions 0-5 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: flexible versions
//   - v4: StatesFilter and GroupState (KIP-518)
//   - v5: TypesFilter and GroupType (KIP-848)
func init() { register(int16(kmsg.ListGroups), 0, 5, (*Broker).handleListGroups) }

// handleListGroups hands ListGroups v0-v5 to the group coordinator.
func (b *Broker) handleListGroups(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.ListGroups(ctx, r.req.(*kmsg.ListGroupsRequest)), nil
}
