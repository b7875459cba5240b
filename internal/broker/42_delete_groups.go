package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.DeleteGroups), 0, 2, handleDeleteGroups) }

// handleDeleteGroups hands DeleteGroups v0-v2 to the group coordinator.
func handleDeleteGroups(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	if b.groups == nil {
		return nil, errGroupsOff
	}
	return b.groups.DeleteGroups(ctx, r.req.(*kmsg.DeleteGroupsRequest)), nil
}
