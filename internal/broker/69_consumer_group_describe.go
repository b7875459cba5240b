package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(int16(kmsg.ConsumerGroupDescribe), 0, 1, handleConsumerGroupDescribe)
}

// handleConsumerGroupDescribe hands ConsumerGroupDescribe v0-v1 (KIP-848)
// to the group coordinator.
func handleConsumerGroupDescribe(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	if b.groups == nil {
		return nil, errGroupsOff
	}
	req := r.req.(*kmsg.ConsumerGroupDescribeRequest)
	return b.groups.ConsumerGroupDescribe(ctx, req, newImageTopics(b.image())), nil
}
