package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// PeerOffsets reads partition offsets and record timestamps from the
// leaders of partitions this broker does not host, for the consumer-lag
// metrics of the groups it coordinates (internal/node's lag collector). It
// is a consumer of the other brokers' inter-broker listeners: ListOffsets
// and a one-batch Fetch (replica id -1), on a connection pool of its own,
// closed by Close.
type PeerOffsets struct {
	ib *interBroker
}

// NewPeerOffsets returns a PeerOffsets over the broker's inter-broker dial
// and its image's endpoints.
func (b *Broker) NewPeerOffsets() *PeerOffsets {
	ib := newInterBroker(b.lg.With("component", "lag-metrics"), fmt.Sprintf("samsa-broker-%d-metrics", b.cfg.NodeID), imageResolver(b.image))
	ib.dialFn = b.cfg.InterBrokerDial
	return &PeerOffsets{ib: ib}
}

// Close closes the connections.
func (p *PeerOffsets) Close() { p.ib.Close() }

// PeerPartitionOffsets is one partition's high watermark and log start.
type PeerPartitionOffsets struct {
	HighWatermark, LogStart int64
}

// ListOffsets asks leader for the high watermark and log start offset of
// partitions (topic → partition ids), with two ListOffsets v1+ requests
// (latest, earliest). Partitions that answer an error are left out.
func (p *PeerOffsets) ListOffsets(ctx context.Context, leader int32, partitions map[string][]int32) (map[string]map[int32]PeerPartitionOffsets, error) {
	out := map[string]map[int32]PeerPartitionOffsets{}
	for _, ts := range []int64{-1, -2} { // latest, earliest
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		for t, parts := range partitions {
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = t
			for _, part := range parts {
				rp := kmsg.NewListOffsetsRequestTopicPartition()
				rp.Partition = part
				rp.CurrentLeaderEpoch = -1
				rp.Timestamp = ts
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		req.SetVersion(5)
		raw, err := p.ib.Request(ctx, leader, req, 1)
		if err != nil {
			return nil, err
		}
		resp, ok := raw.(*kmsg.ListOffsetsResponse)
		if !ok {
			return nil, fmt.Errorf("ListOffsets answered %T", raw)
		}
		for _, t := range resp.Topics {
			for _, rp := range t.Partitions {
				if rp.ErrorCode != 0 {
					continue
				}
				if out[t.Topic] == nil {
					out[t.Topic] = map[int32]PeerPartitionOffsets{}
				}
				o := out[t.Topic][rp.Partition]
				if ts == -1 {
					o.HighWatermark = rp.Offset
				} else {
					o.LogStart = rp.Offset
				}
				out[t.Topic][rp.Partition] = o
			}
		}
	}
	return out, nil
}

var errNoBatchAt = errors.New("no record batch at the offset")

// peerFetchBytes bounds a timestamp fetch; the first batch comes whole.
const peerFetchBytes = 1 << 10

// RecordTime fetches from leader the batch holding offset and returns its
// first record's timestamp (its log-append time on a LogAppendTime topic),
// as partition.RecordTime answers for local partitions.
func (p *PeerOffsets) RecordTime(ctx context.Context, leader int32, topic string, topicID [16]byte, partition int32, offset int64) (int64, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.ReplicaState.ID = -1
	req.MaxWaitMillis = 0
	req.MinBytes = 1
	req.MaxBytes = peerFetchBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, topicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = peerFetchBytes
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.SetVersion(13)
	raw, err := p.ib.Request(ctx, leader, req, 4)
	if err != nil {
		return 0, err
	}
	resp, ok := raw.(*kmsg.FetchResponse)
	if !ok {
		return 0, fmt.Errorf("Fetch answered %T", raw)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, err
	}
	for _, t := range resp.Topics {
		for _, fp := range t.Partitions {
			if err := kerr.ErrorForCode(fp.ErrorCode); err != nil {
				return 0, err
			}
			for b := fp.RecordBatches; len(b) > 0; {
				h, err := batch.ParseHeader(b)
				if err != nil || h.Size() > int64(len(b)) {
					break
				}
				b = b[h.Size():]
				if h.LastOffset() >= offset && !h.IsControl() {
					if h.LogAppendTime() {
						return h.MaxTimestamp, nil
					}
					return h.BaseTimestamp, nil
				}
			}
		}
	}
	return 0, errNoBatchAt
}
