package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit, versions 2-9 (internal/group).
//
// Version notes:
//   - v2: RetentionTimeMillis (v2-v4), ignored here (v0-v1 went with Kafka 4.0)
//   - v3: throttle time; v5: RetentionTimeMillis removed
//   - v6: per-partition LeaderEpoch (KIP-320), stored from v6
//   - v7: InstanceID (KIP-345); v8: flexible versions
//   - v9: KIP-848: Generation carries the member epoch. A consumer-protocol
//     member must commit with v9+ (UNSUPPORTED_VERSION below), and a commit
//     with a generation to a missing group answers GROUP_ID_NOT_FOUND
//     (ILLEGAL_GENERATION below v9)
func init() { register(int16(kmsg.OffsetCommit), 2, 9, (*Broker).handleOffsetCommit) }

// handleOffsetCommit hands OffsetCommit v2-v9 to the group coordinator.
func (b *Broker) handleOffsetCommit(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.OffsetCommit(ctx, r.req.(*kmsg.OffsetCommitRequest)), nil
}
