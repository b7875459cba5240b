package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.OffsetFetch), 1, 9, (*Broker).handleOffsetFetch) }

// handleOffsetFetch hands OffsetFetch v1-v9 to the group coordinator.
func (b *Broker) handleOffsetFetch(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.OffsetFetch(ctx, r.req.(*kmsg.OffsetFetchRequest)), nil
}
