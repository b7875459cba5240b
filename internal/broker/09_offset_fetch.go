package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch, versions 1-9 (internal/group).
//
// Version notes:
//   - v1: offsets from __consumer_offsets (v0 read ZooKeeper, gone in Kafka 4)
//   - v2: null topics fetches all; top-level ErrorCode (v1 puts a group
//     error on every partition)
//   - v3: throttle time; v5: LeaderEpoch in the response; v6: flexible
//   - v7: RequireStable (KIP-447): UNSTABLE_OFFSET_COMMIT for partitions
//     with pending transactional offsets
//   - v8: several groups per request (KIP-709)
//   - v9: MemberID and MemberEpoch, checked for consumer-protocol members
//     (KIP-848)
func init() { register(int16(kmsg.OffsetFetch), 1, 9, (*Broker).handleOffsetFetch) }

// handleOffsetFetch hands OffsetFetch v1-v9 to the group coordinator.
func (b *Broker) handleOffsetFetch(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.OffsetFetch(ctx, r.req.(*kmsg.OffsetFetchRequest)), nil
}
