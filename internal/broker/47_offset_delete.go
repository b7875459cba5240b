package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.OffsetDelete), 0, 0, handleOffsetDelete) }

// handleOffsetDelete hands OffsetDelete v0 to the group coordinator.
func handleOffsetDelete(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	if b.groups == nil {
		return nil, errGroupsOff
	}
	return b.groups.OffsetDelete(ctx, r.req.(*kmsg.OffsetDeleteRequest)), nil
}
