package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups, versions 0-2 (internal/group).
//
// Version notes:
//   - v1: same as v0 (throttling behavior only)
//   - v2: flexible versions
func init() { register(int16(kmsg.DeleteGroups), 0, 2, (*Broker).handleDeleteGroups) }

// handleDeleteGroups hands DeleteGroups v0-v2 to the group coordinator.
func (b *Broker) handleDeleteGroups(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.DeleteGroups(ctx, r.req.(*kmsg.DeleteGroupsRequest)), nil
}
