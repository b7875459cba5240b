package replication

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// The leader side of replication: what a leader answers a follower's
// replica Fetch and OffsetForLeaderEpoch, as functions of an image, this
// broker's partitions and the decoded request. Nothing here does I/O
// besides reading the local log, and time comes from the caller. The
// broker's handlers (internal/broker fetch_replica.go and
// 23_offset_for_leader_epoch.go) decode the request, call these and encode
// the answer; the deterministic simulation (sim_test.go) calls the same
// methods, so the code it checks is the code that serves followers.

// Partitions gives the leader code this broker's replicas;
// *partition.Manager is one.
type Partitions interface {
	Get(topic string, part int32) (*partition.Partition, bool)
}

// Leader answers followers for the partitions this broker leads. Build
// one per request or keep one; its Throttle carries the state across
// requests.
type Leader struct {
	// Self is this broker's id.
	Self  int32
	Parts Partitions
	// Throttle meters the bytes sent to replicas named by a topic's
	// leader.replication.throttled.replicas against this broker's
	// leader.replication.throttled.rate; nil: never throttle.
	Throttle *Throttle
}

// ReplicaFetch is a follower's Fetch request (ReplicaID ≥ 0), decoded.
type ReplicaFetch struct {
	// Replica is the follower's broker id.
	Replica int32
	// MaxBytes bounds the records of the whole answer (the first batch
	// is sent whatever its size, KIP-74); ≤ 0: unbounded.
	MaxBytes int32
	// ByID: the request names topics by id (Fetch v13+); an unknown one
	// is UNKNOWN_TOPIC_ID.
	ByID       bool
	Partitions []ReplicaFetchPartition
}

// ReplicaFetchPartition is one partition of a ReplicaFetch.
type ReplicaFetchPartition struct {
	Topic   string        // the name (requests before v13)
	TopicID metadata.Uuid // the id (ByID)
	// Partition is the partition's index.
	Partition int32
	// CurrentLeaderEpoch is the epoch the follower knows; -1: unchecked.
	CurrentLeaderEpoch int32
	// FetchOffset is the follower's log end offset.
	FetchOffset int64
	// LastFetchedEpoch is the epoch of the follower's last batch (KIP-320,
	// Fetch v12+); -1: none.
	LastFetchedEpoch int32
	// MaxBytes bounds this partition's records.
	MaxBytes int32
}

// ReplicaFetchResult is the leader's answer for one partition.
type ReplicaFetchResult struct {
	// Topic is the topic's name, resolved from its id for ByID requests;
	// the request's name when the topic is unknown.
	Topic     string
	Partition int32
	// Replica is the local replica when this broker leads the partition
	// (a long poll waits on its Changed channel); nil otherwise.
	Replica   *partition.Partition
	ErrorCode int16
	// HighWatermark, LastStableOffset and LogStartOffset are -1 when not
	// known.
	HighWatermark, LastStableOffset, LogStartOffset int64
	// DivergingEpoch and DivergingEndOffset (KIP-320), -1 unless the
	// follower's log diverged: it truncates to the end of that epoch.
	DivergingEpoch     int32
	DivergingEndOffset int64
	// Leader and LeaderEpoch are the image's leader for
	// NOT_LEADER_OR_FOLLOWER (KIP-951's CurrentLeader); -1 otherwise.
	Leader, LeaderEpoch int32
	// Chunks are the records, as ranges of the log's files (no bytes
	// copied); Size is their total length.
	Chunks []log.Chunk
	Size   int64
	// ReadErr is the log read failure behind a KAFKA_STORAGE_ERROR.
	ReadErr error
}

// Response is r as a Fetch response partition, without the records (the
// broker sends r.Chunks zero-copy; the simulation copies them).
func (r *ReplicaFetchResult) Response() kmsg.FetchResponseTopicPartition {
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.Partition = r.Partition
	rp.ErrorCode = r.ErrorCode
	rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = r.HighWatermark, r.LastStableOffset, r.LogStartOffset
	rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = r.DivergingEpoch, r.DivergingEndOffset
	rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = r.Leader, r.LeaderEpoch
	return rp
}

// fetchBudget is what is left of a fetch's MaxBytes.
type fetchBudget struct {
	remaining int64
	minOne    bool // nothing read yet: the first batch goes whatever its size
}

// ReplicaFetch serves a follower's Fetch at now, partition by partition in
// request order: it records each fetch offset as the follower's log end
// offset (which moves the high watermark and the ISR, see
// partition.FollowerFetch) and returns records up to the log END, not the
// high watermark.
func (l Leader) ReplicaFetch(img *metadata.Image, now time.Time, req ReplicaFetch) []ReplicaFetchResult {
	b := fetchBudget{remaining: int64(req.MaxBytes), minOne: true}
	if req.MaxBytes <= 0 {
		b.remaining = 1 << 62
	}
	rate := ThrottleRate(img, l.Self, "leader.replication.throttled.rate")
	out := make([]ReplicaFetchResult, 0, len(req.Partitions))
	for _, rp := range req.Partitions {
		r := ReplicaFetchResult{
			Topic: rp.Topic, Partition: rp.Partition,
			HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1,
			DivergingEpoch: -1, DivergingEndOffset: -1, Leader: -1, LeaderEpoch: -1,
		}
		if req.ByID {
			if t, ok := img.TopicsByID[rp.TopicID]; ok {
				r.Topic = t.Name
			}
		}
		l.replicaFetchPartition(img, now, req, rp, rate, &b, &r)
		out = append(out, r)
	}
	return out
}

// replicaFetchPartition fills r, the answer for rp.
func (l Leader) replicaFetchPartition(img *metadata.Image, now time.Time, req ReplicaFetch, rp ReplicaFetchPartition, rate int64, b *fetchBudget, r *ReplicaFetchResult) {
	t, mp, p, code := l.leaderReplica(img, r.Topic, rp.Partition)
	switch {
	case t == nil && req.ByID:
		r.ErrorCode = kerr.UnknownTopicID.Code
		return
	case code == kerr.NotLeaderForPartition.Code:
		r.ErrorCode, r.Leader, r.LeaderEpoch = code, mp.Leader, mp.LeaderEpoch
		return
	case code != 0:
		r.ErrorCode = code
		return
	}
	r.Replica = p
	// KIP-320: a follower whose last fetched epoch ends earlier in this
	// log has diverged; tell it where to truncate.
	if rp.LastFetchedEpoch >= 0 {
		epoch, end := p.Log().EndOffsetForEpoch(rp.LastFetchedEpoch)
		if epoch != rp.LastFetchedEpoch || end < rp.FetchOffset {
			r.DivergingEpoch, r.DivergingEndOffset = epoch, end
			r.HighWatermark, r.LogStartOffset, r.LastStableOffset = p.HighWatermark(), p.LogStartOffset(), p.LastStableOffset()
			return
		}
	}
	// FollowerFetch checks the follower's leader epoch (a newer one is
	// UNKNOWN_LEADER_EPOCH even before leadership is checked, as in Kafka)
	// and that it is a replica.
	hw, err := p.FollowerFetch(req.Replica, rp.CurrentLeaderEpoch, rp.FetchOffset, now)
	if err != nil {
		r.ErrorCode = replicaErrorCode(err)
		r.HighWatermark, r.LogStartOffset = p.HighWatermark(), p.LogStartOffset()
		return
	}
	r.HighWatermark, r.LastStableOffset, r.LogStartOffset = hw, p.LastStableOffset(), p.LogStartOffset()
	if rp.FetchOffset < p.LogStartOffset() {
		r.ErrorCode = kerr.OffsetOutOfRange.Code
		return
	}
	leo := p.LogEndOffset()
	if rp.FetchOffset >= leo || b.remaining <= 0 && !b.minOne {
		return
	}
	throttled := rate > 0 && l.Throttle != nil && ThrottledReplica(t.Configs["leader.replication.throttled.replicas"], rp.Partition, l.Self)
	if throttled && !l.Throttle.Allow(now, rate) {
		return
	}
	limit := max(min(int64(rp.MaxBytes), b.remaining), 0)
	res, err := p.Log().Read(rp.FetchOffset, int32(min(limit, 1<<31-1)), leo, b.minOne)
	if err != nil {
		r.ErrorCode = kerr.KafkaStorageError.Code
		if errors.Is(err, log.ErrOffsetOutOfRange) {
			r.ErrorCode = kerr.OffsetOutOfRange.Code
		} else {
			r.ReadErr = p.IOFailed("read", err)
		}
		return
	}
	r.Chunks, r.Size = res.Chunks, res.Size
	if throttled {
		l.Throttle.Record(now, r.Size)
	}
	if r.Size > 0 {
		b.minOne = false
		b.remaining -= r.Size
	}
}

// leaderReplica finds partition part of topic name in img and its local replica,
// which this broker must lead. code is UNKNOWN_TOPIC_OR_PARTITION (t nil
// when the topic is unknown) or NOT_LEADER_OR_FOLLOWER (with mp, the
// image's partition), else 0.
func (l Leader) leaderReplica(img *metadata.Image, name string, part int32) (t *metadata.Topic, mp *metadata.Partition, p *partition.Partition, code int16) {
	t, ok := img.Topics[name]
	if !ok {
		return nil, nil, nil, kerr.UnknownTopicOrPartition.Code
	}
	if part < 0 || int(part) >= len(t.Partitions) {
		return t, nil, nil, kerr.UnknownTopicOrPartition.Code
	}
	mp = t.Partitions[part]
	p, ok = l.Parts.Get(t.Name, part)
	if ok && p.Offline() != nil { // Kafka's HostedPartition.Offline, before leadership
		return t, mp, nil, kerr.KafkaStorageError.Code
	}
	if !ok || mp.Leader != l.Self {
		return t, mp, nil, kerr.NotLeaderForPartition.Code
	}
	return t, mp, p, 0
}

// OffsetForLeaderEpoch answers "where does epoch ask end in your log?"
// (KIP-101/279) for partition part of topic: the largest epoch ≤ ask in
// this leader's log and the offset it ends at (the next epoch's start, or
// the log end), or an error code. current is the epoch the asker knows
// (KIP-320, -1: unchecked). replica is the asker's broker id, < 0 for a
// consumer, which never learns of offsets past the high watermark.
func (l Leader) OffsetForLeaderEpoch(img *metadata.Image, topic string, part, current, ask, replica int32) (epoch int32, end int64, code int16) {
	_, _, p, code := l.leaderReplica(img, topic, part)
	if code != 0 {
		return -1, -1, code
	}
	if code := CheckLeaderEpoch(current, p.LeaderEpoch()); code != 0 {
		return -1, -1, code
	}
	epoch, end = p.Log().EndOffsetForEpoch(ask)
	if hw := p.HighWatermark(); replica < 0 && end > hw {
		end = hw
	}
	return epoch, end, 0
}
