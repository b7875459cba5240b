package broker

import (
	"context"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/replication"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets, versions 1-10. Kafka 4 dropped v0; KEDA's sarama sends v1.
//
// Version notes:
//   - v1: one offset and its timestamp per partition (no MaxNumOffsets)
//   - v2: IsolationLevel: read_committed reads up to the LSO
//   - v4: CurrentLeaderEpoch fencing; LeaderEpoch in the response
//   - v5: OFFSET_NOT_AVAILABLE (KIP-207), never sent here; v6: flexible
//   - v7: timestamp -3, the max timestamp (KIP-734)
//   - v8: -4, the earliest local offset (KIP-405): the log start here
//   - v9: -5, the latest tiered offset (KIP-1005): -1, no tiered storage
//   - v10: TimeoutMillis for remote lookups (KIP-1075), ignored
//   - a special timestamp older than its version is UNSUPPORTED_VERSION
//     (minVersion); -6 (earliest pending upload, KIP-1023) is a v11
//     timestamp, so every served version answers it UNSUPPORTED_VERSION
//
// ACLs: Describe on each topic; every partition of a topic without it
// answers TOPIC_AUTHORIZATION_FAILED (offsets -1), before the topic's
// existence or duplicate partitions are looked at.
func init() { register(int16(kmsg.ListOffsets), 1, 10, (*Broker).handleListOffsets) }

// Special timestamps of ListOffsets.
const (
	tsLatest          = -1
	tsEarliest        = -2
	tsMaxTimestamp    = -3 // v7+
	tsEarliestLocal   = -4 // v8+
	tsLatestTiered    = -5 // v9+
	tsEarliestPending = -6 // v11+ (not served)
)

func (b *Broker) handleListOffsets(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	img := b.image()
	az := c.authz()
	seen := map[sessionKey]bool{}
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t, tok := img.Topics[rt.Topic]
		allowed := az.topic(acl.OpDescribe, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			if !allowed {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			k := sessionKey{rt.Topic, rp.Partition}
			if seen[k] {
				sp.ErrorCode = kerr.InvalidRequest.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			seen[k] = true
			sp.ErrorCode = listOffset(b, req, tok, t, rp, &sp)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func listOffset(b *Broker, req *kmsg.ListOffsetsRequest, tok bool, t *metadata.Topic, rp kmsg.ListOffsetsRequestTopicPartition, sp *kmsg.ListOffsetsResponseTopicPartition) int16 {
	if !tok {
		return kerr.UnknownTopicOrPartition.Code
	}
	mp, ok := partitionOf(t, rp.Partition)
	if !ok {
		return kerr.UnknownTopicOrPartition.Code
	}
	p, ok := b.parts.Get(t.Name, rp.Partition)
	if ok && p.Offline() != nil {
		return kerr.KafkaStorageError.Code
	}
	if !ok || mp.Leader != b.cfg.NodeID {
		return kerr.NotLeaderForPartition.Code
	}
	if code := replication.CheckLeaderEpoch(rp.CurrentLeaderEpoch, p.LeaderEpoch()); code != 0 {
		return code
	}
	minVersion := map[int64]int16{tsMaxTimestamp: 7, tsEarliestLocal: 8, tsLatestTiered: 9, tsEarliestPending: 11}
	if v, special := minVersion[rp.Timestamp]; special && req.Version < v {
		return kerr.UnsupportedVersion.Code
	}
	epochAt := func(off int64) int32 {
		e := int32(-1)
		for _, ent := range p.Log().Epochs() {
			if ent.StartOffset <= off {
				e = ent.Epoch
			}
		}
		return e
	}
	switch rp.Timestamp {
	case tsLatest:
		sp.Offset = p.HighWatermark()
		if req.IsolationLevel == 1 {
			sp.Offset = p.LastStableOffset()
		}
		sp.LeaderEpoch = p.LeaderEpoch()
	case tsEarliest, tsEarliestLocal:
		sp.Offset = p.LogStartOffset()
		sp.LeaderEpoch = epochAt(sp.Offset)
	case tsMaxTimestamp:
		// Kafka answers it only below the high watermark (LSO for
		// read_committed), as a timestamp lookup.
		off, ts := p.Log().MaxTimestamp()
		upTo := p.HighWatermark()
		if req.IsolationLevel == 1 {
			upTo = p.LastStableOffset()
		}
		if off >= 0 && off < upTo {
			sp.Offset, sp.Timestamp = off, ts
			sp.LeaderEpoch = epochAt(off)
		}
	case tsLatestTiered, tsEarliestPending:
		// No tiered storage: Kafka answers -1 for these.
	default:
		if rp.Timestamp < 0 {
			return kerr.InvalidRequest.Code
		}
		off, ts, found := p.Log().OffsetForTimestamp(rp.Timestamp)
		upTo := p.HighWatermark()
		if req.IsolationLevel == 1 {
			upTo = p.LastStableOffset()
		}
		if found && off < upTo {
			sp.Offset, sp.Timestamp = off, ts
			sp.LeaderEpoch = epochAt(off)
		}
	}
	return 0
}
