package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.OffsetCommit), 2, 9, (*Broker).handleOffsetCommit) }

// handleOffsetCommit hands OffsetCommit v2-v9 to the group coordinator.
func (b *Broker) handleOffsetCommit(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.OffsetCommit(ctx, r.req.(*kmsg.OffsetCommitRequest)), nil
}
