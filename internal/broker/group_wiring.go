package broker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// offsetsTopic is Kafka's group metadata topic.
const offsetsTopic = "__consumer_offsets"

// offsetsMaxDecompressed caps how far one __consumer_offsets batch may
// expand while the coordinator replays it.

// groupLog is group.Log over the partition manager: the coordinator's
// records become ordinary batches of __consumer_offsets.
type groupLog struct{ internalTopic }

// NewGroupLog returns the group coordinator's persistence over the
// partitions of __consumer_offsets this broker hosts.
func NewGroupLog(ctl *controller.Controller, parts *partition.Manager, nodeID int32, clock Clock) group.Log {
	return &groupLog{internalTopic{ctl: ctl, parts: parts, nodeID: nodeID, clock: clock, topic: offsetsTopic, notLeader: group.ErrNotLeader}}
}

// Append writes records as one uncompressed batch with acks=-1.
func (l *groupLog) Append(ctx context.Context, p int32, recs []group.Record) (int64, error) {
	return l.appendRecs(ctx, p, recs, -1, -1)
}

// AppendTxn writes records as one uncompressed transactional batch of the
// producer with acks=-1 (TxnOffsetCommit). The coordinator's appends skip
// Kafka's sequence checks; the partition's idempotence table does not, so
// the batch carries the sequence that follows the producer's last one in
// this partition (0 for a new epoch). The group coordinator is the only
// writer of data batches to __consumer_offsets and holds the shard lock, so
// nothing slips in between reading the sequence and appending.
func (l *groupLog) AppendTxn(ctx context.Context, p int32, producerID int64, epoch int16, recs []group.Record) (int64, error) {
	return l.appendRecs(ctx, p, recs, producerID, epoch)
}

// appendRecs appends a plain batch (producerID -1) or a transactional one.
func (l *groupLog) appendRecs(ctx context.Context, p int32, recs []group.Record, producerID int64, epoch int16) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	part, err := l.partition(p)
	if err != nil {
		return -1, err
	}
	rs := make([]batch.Record, len(recs))
	for i, r := range recs {
		rs[i] = batch.Record{Key: r.Key, Value: r.Value}
	}
	var opts batch.BuildOptions
	if producerID >= 0 {
		seq := int32(0)
		for _, pi := range part.Producers() {
			if pi.ProducerID == producerID && pi.ProducerEpoch == epoch && pi.LastSequence >= 0 && pi.LastSequence < math.MaxInt32 {
				seq = pi.LastSequence + 1
			}
		}
		opts = batch.BuildOptions{ProducerID: producerID, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true}
	}
	off, err := l.appendTo(ctx, part, rs, opts)
	if errors.Is(err, partition.ErrInvalidEpoch) {
		return -1, fmt.Errorf("%w: %v", group.ErrProducerFenced, err)
	}
	return off, err
}

// Replay reads the partition from its log start to its high watermark:
// records, with the producer of a transactional batch, and transaction
// markers. Keys and values are copied: fn may keep them.
func (l *groupLog) Replay(ctx context.Context, p int32, fn func(group.Replayed) error) error {
	return l.replay(ctx, p, func(h *batch.Header, control []byte, r *batch.Record, off int64) error {
		pid, epoch := int64(-1), int16(-1)
		if h.IsTransactional() {
			pid, epoch = h.ProducerID, h.ProducerEpoch
		}
		if r == nil {
			commit, err := batch.ControlType(control)
			if err != nil || !h.IsTransactional() {
				return nil // not a transaction marker
			}
			return fn(group.Replayed{Offset: off, ProducerID: pid, ProducerEpoch: epoch, Marker: true, Commit: commit})
		}
		return fn(group.Replayed{Offset: off, Key: r.Key, Value: r.Value, ProducerID: pid, ProducerEpoch: epoch})
	})
}

// groupTopics is group.Topics over the metadata image.
type groupTopics struct{ ctl *controller.Controller }

// NewGroupTopics tells the coordinator which topic-partitions exist.
func NewGroupTopics(ctl *controller.Controller) group.Topics { return groupTopics{ctl} }

func (t groupTopics) PartitionExists(topic string, p int32) bool {
	tp, ok := t.ctl.Image().Topics[topic]
	return ok && p >= 0 && int(p) < len(tp.Partitions)
}

// SyncGroupCoordinator makes the coordinator lead exactly the partitions of
// __consumer_offsets this broker leads in img. serve calls it at start and
// after every metadata change; it is quick (loads run in the background).
func (b *Broker) SyncGroupCoordinator(img *metadata.Image) {
	t, ok := img.Topics[offsetsTopic]
	want := make(map[int32]bool)
	if ok {
		b.groups.SetPartitionCount(int32(len(t.Partitions)))
		for _, mp := range t.Partitions {
			if _, hosted := b.parts.Get(offsetsTopic, mp.Index); hosted && mp.Leader == b.cfg.NodeID {
				want[mp.Index] = true
				b.groups.BecomeLeader(mp.Index)
			}
		}
	} else {
		b.groups.SetPartitionCount(0)
	}
	for _, p := range b.groups.LedPartitions() {
		if !want[p] {
			b.groups.Resign(p)
		}
	}
}

// ensureOffsetsTopic creates __consumer_offsets as Kafka does on the first
// FindCoordinator: offsets.topic.num.partitions partitions, replication
// offsets.topic.replication.factor capped at the live brokers, compacted.
func (b *Broker) ensureOffsetsTopic(ctx context.Context) (*metadata.Topic, error) {
	return b.ensureInternalTopic(ctx, &b.offsetsMu, offsetsTopic, "offsets.topic.num.partitions", "offsets.topic.replication.factor",
		func(*metadata.Image) map[string]string {
			return map[string]string{"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"}
		}, b.SyncGroupCoordinator)
}

// clientOf is the coordinator's view of a request's origin; the host is
// reported as Kafka does ("/" + IP).
func clientOf(c *conn, r *request) group.Client {
	host := c.remote
	if h, _, err := net.SplitHostPort(c.remote); err == nil {
		host = h
	}
	return group.Client{ID: r.hdr.ClientID, Host: "/" + host}
}

// brokerEndpoint is a live broker's advertised host and port.
func brokerEndpoint(img *metadata.Image, id int32) (string, int32, bool) {
	br, ok := img.Brokers[id]
	if !ok || br.Fenced {
		return "", 0, false
	}
	return br.Host, br.Port, true
}

// brokerRack is a broker's rack for a response's nullable rack field.
func brokerRack(img *metadata.Image, id int32) *string {
	if br, ok := img.Brokers[id]; ok && br.Rack != "" {
		return kmsg.StringPtr(br.Rack)
	}
	return nil
}
