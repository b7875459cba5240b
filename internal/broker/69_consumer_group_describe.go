package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupDescribe, versions 0-1 (KIP-848; internal/group).
//
// Version notes:
//   - v0: flexible versions
//   - v1: members' MemberType (KIP-1099): 0 classic, 1 consumer
func init() {
	register(int16(kmsg.ConsumerGroupDescribe), 0, 1, (*Broker).handleConsumerGroupDescribe)
}

// handleConsumerGroupDescribe hands ConsumerGroupDescribe v0-v1 (KIP-848)
// to the group coordinator.
func (b *Broker) handleConsumerGroupDescribe(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ConsumerGroupDescribeRequest)
	return b.groups.ConsumerGroupDescribe(ctx, req, newImageTopics(b.image())), nil
}
