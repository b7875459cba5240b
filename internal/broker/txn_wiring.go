package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// txnStateTopic is Kafka's transaction state topic.
const txnStateTopic = "__transaction_state"

// txnStateMaxDecompressed caps how far one __transaction_state batch may
// expand while the coordinator replays it.

// wireTxn connects the transaction coordinator to this broker: markers are
// written through the broker's marker path, producer ids come from its
// block, and the produce path verifies transactional batches with it.
func (b *Broker) wireTxn() {
	if b.txns == nil {
		return
	}
	b.txns.Attach(txnMarkerWriter{b}, txnProducerIDs{b})
	b.SetTxnVerifier(b.txns)
}

// txnProducerIDs is txn.ProducerIDs over the broker's producer id block.
type txnProducerIDs struct{ b *Broker }

func (t txnProducerIDs) NextProducerID(ctx context.Context) (int64, error) {
	return t.b.nextProducerID(ctx)
}

// txnMarkerWriter is txn.Markers over this broker's partitions: on a single
// node, the coordinator reaches the WriteTxnMarkers path directly, with no
// network round trip.
type txnMarkerWriter struct{ b *Broker }

func (w txnMarkerWriter) WriteMarkers(ctx context.Context, m txn.Marker) []error {
	errs := make([]error, len(m.Partitions))
	for i, tp := range m.Partitions {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		err := w.b.writeTxnMarker(tp.Topic, tp.Partition, m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch)
		switch {
		case err == nil:
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			err = fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
		case errors.Is(err, partition.ErrInvalidEpoch):
			// A newer epoch already wrote here, which only a later
			// transaction of the producer can have done; this marker
			// has nothing left to end.
			w.b.lg.Warn("dropping a stale transaction marker", "topic", tp.Topic, "partition", tp.Partition,
				"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "err", err)
			err = fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
		}
		errs[i] = err
	}
	return errs
}

// writeTxnMarker writes one COMMIT or ABORT marker to a partition this
// broker leads; for a __consumer_offsets partition the group coordinator
// then makes the producer's pending offsets visible or drops them. It is
// the broker side of WriteTxnMarkers (27_write_txn_markers.go).
func (b *Broker) writeTxnMarker(topic string, part int32, pid int64, epoch int16, commit bool, coordEpoch int32) error {
	img := b.image()
	t, ok := img.Topics[topic]
	if !ok {
		return kerr.UnknownTopicOrPartition
	}
	mp, ok := partitionOf(t, part)
	if !ok {
		return kerr.UnknownTopicOrPartition
	}
	if mp.Leader != b.cfg.NodeID {
		return kerr.NotLeaderForPartition
	}
	p, ok := b.parts.Get(topic, part)
	if !ok {
		return kerr.NotLeaderForPartition
	}
	if _, err := p.AppendMarker(pid, epoch, commit, coordEpoch); err != nil {
		return err
	}
	if topic == offsetsTopic && b.groups != nil {
		b.groups.CompleteTransaction(part, pid, epoch, commit)
	}
	return nil
}

// txnLog is txn.Log over the partition manager: the coordinator's records
// become ordinary batches of __transaction_state.
type txnLog struct{ internalTopic }

// NewTxnLog returns the transaction coordinator's persistence over the
// partitions of __transaction_state this broker hosts.
func NewTxnLog(ctl *controller.Controller, parts *partition.Manager, nodeID int32, clock Clock) txn.Log {
	return &txnLog{internalTopic{ctl: ctl, parts: parts, nodeID: nodeID, clock: clock, topic: txnStateTopic, notLeader: txn.ErrNotLeader}}
}

// Append writes records as one uncompressed batch with acks=-1, as Kafka
// writes __transaction_state.
func (l *txnLog) Append(ctx context.Context, p int32, recs []txn.Record) (int64, error) {
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
	return l.appendTo(part, rs, batch.BuildOptions{})
}

// Replay reads the partition from its log start to its high watermark,
// skipping control batches. Keys and values are copied: fn may keep them.
func (l *txnLog) Replay(ctx context.Context, p int32, fn func(key, value []byte) error) error {
	return l.replay(ctx, p, func(_ *batch.Header, _ []byte, r *batch.Record, _ int64) error {
		if r == nil {
			return nil
		}
		return fn(r.Key, r.Value)
	})
}

// SyncTxnCoordinator makes the transaction coordinator lead exactly the
// partitions of __transaction_state this broker leads in img. serve calls it
// at start and after every metadata change; it is quick (loads run in the
// background).
func (b *Broker) SyncTxnCoordinator(img *metadata.Image) {
	if b.txns == nil {
		return
	}
	t, ok := img.Topics[txnStateTopic]
	want := make(map[int32]bool)
	if ok {
		b.txns.SetPartitionCount(int32(len(t.Partitions)))
		for _, mp := range t.Partitions {
			if _, hosted := b.parts.Get(txnStateTopic, mp.Index); hosted && mp.Leader == b.cfg.NodeID {
				want[mp.Index] = true
				b.txns.BecomeLeader(mp.Index, mp.LeaderEpoch)
			}
		}
	} else {
		b.txns.SetPartitionCount(0)
	}
	for _, p := range b.txns.LedPartitions() {
		if !want[p] {
			b.txns.Resign(p)
		}
	}
}

// ensureTxnTopic creates __transaction_state as Kafka does on the first
// FindCoordinator for a transactional id: transaction.state.log.num.partitions
// partitions, replication transaction.state.log.replication.factor capped at
// the live brokers, compacted and uncompressed.
func (b *Broker) ensureTxnTopic(ctx context.Context) (*metadata.Topic, error) {
	return b.ensureInternalTopic(ctx, &b.txnTopicMu, txnStateTopic, "transaction.state.log.num.partitions", "transaction.state.log.replication.factor",
		func(img *metadata.Image) map[string]string {
			return map[string]string{"cleanup.policy": "compact", "compression.type": "uncompressed",
				"segment.bytes": b.setting(img, "transaction.state.log.segment.bytes")}
		}, b.SyncTxnCoordinator)
}

// txnCode is err's error code for a transactional request of the given
// version: clients before KIP-588 (firstFenced) do not know PRODUCER_FENCED
// and get INVALID_PRODUCER_EPOCH, as Kafka answers them.
func txnCode(err error, version, firstFenced int16) int16 {
	code := errorCode(err)
	if code == kerr.ProducerFenced.Code && version < firstFenced {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}
