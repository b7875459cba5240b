package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.JoinGroup), 0, 9, (*Broker).handleJoinGroup) }

// handleJoinGroup hands JoinGroup v0-v9 to the group coordinator, which may
// park it until the rebalance's join phase ends; the connection waits, as
// Kafka mutes it. ctx (the broker's life) bounds the wait.
func (b *Broker) handleJoinGroup(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	return b.groups.JoinGroup(ctx, clientOf(c, r), r.req.(*kmsg.JoinGroupRequest)), nil
}
