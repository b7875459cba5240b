package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.DescribeGroups), 0, 6, (*Broker).handleDescribeGroups) }

// handleDescribeGroups hands DescribeGroups v0-v6 to the group coordinator.
func (b *Broker) handleDescribeGroups(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.DescribeGroups(ctx, r.req.(*kmsg.DescribeGroupsRequest)), nil
}
