package broker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// txnStateTopic is Kafka's transaction state topic.
const txnStateTopic = coordinator.TxnStateTopic

// wireTxn connects the transaction coordinator to this broker: markers are
// written through the broker's marker path (locally, or with
// WriteTxnMarkers to the partition's leader), producer ids come from its
// block, and the produce path verifies transactional batches with the
// coordinator of each transactional id, wherever it is (txnRouter).
func (b *Broker) wireTxn() {
	peers := newInterBroker(b.lg.With("component", "inter-broker"), fmt.Sprintf("samsa-broker-%d", b.cfg.NodeID), imageResolver(b.image))
	peers.dialFn = b.cfg.InterBrokerDial
	b.txns.Attach(txnMarkerWriter{b, peers}, txnProducerIDs{b})
	b.SetTxnVerifier(&txnRouter{b: b, local: b.txns, peers: peers})
}

// txnProducerIDs is txn.ProducerIDs over the broker's producer id block.
type txnProducerIDs struct{ b *Broker }

func (t txnProducerIDs) NextProducerID(ctx context.Context) (int64, error) {
	return t.b.nextProducerID(ctx)
}

// markerParallelism bounds the partitions whose markers one broker writes
// at once (each waits for acks=all).
const markerParallelism = 16

// errNoMarkerLeader is a marker's partition without a live leader; the
// coordinator retries.
var errNoMarkerLeader = errors.New("the partition has no live leader")

// txnMarkerWriter is txn.Markers over the cluster: the partitions of a
// marker are grouped by their leader in the current image; this broker's
// own are written directly, with no network round trip, and every other
// leader gets one WriteTxnMarkers request (Kafka's
// TransactionMarkerChannelManager), all at once.
type txnMarkerWriter struct {
	b     *Broker
	peers *interBroker
}

func (w txnMarkerWriter) WriteMarkers(ctx context.Context, m txn.Marker) []error {
	errs := make([]error, len(m.Partitions))
	img := w.b.image()
	var local []int
	remote := map[int32][]int{}
	for i, tp := range m.Partitions {
		t, ok := img.Topics[tp.Topic]
		mp, exists := partitionOfOK(t, ok, tp.Partition)
		switch {
		case !exists:
			// Deleted: Kafka skips a partition without a leader
			// endpoint as "likely deleted already".
			errs[i] = fmt.Errorf("%w: %s-%d is not in the cluster", txn.ErrPartitionGone, tp.Topic, tp.Partition)
		case mp.Leader == w.b.cfg.NodeID:
			local = append(local, i)
		case mp.Leader < 0 || !img.Live(mp.Leader):
			errs[i] = fmt.Errorf("marker for %s-%d: %w (leader %d)", tp.Topic, tp.Partition, errNoMarkerLeader, mp.Leader)
		default:
			remote[mp.Leader] = append(remote[mp.Leader], i)
		}
	}
	done := make(chan struct{}, len(remote))
	for leader, idx := range remote {
		go func() { // waited below
			defer func() { done <- struct{}{} }()
			w.writeRemote(ctx, leader, m, idx, errs)
		}()
	}
	forEachParallel(len(local), markerParallelism, func(k int) {
		i := local[k]
		if err := ctx.Err(); err != nil {
			errs[i] = err
			return
		}
		tp := m.Partitions[i]
		errs[i] = w.localErr(tp, w.b.writeTxnMarker(tp.Topic, tp.Partition, m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch), m)
	}, func(k int, v any) {
		tp := m.Partitions[local[k]]
		w.b.lg.Error("panic writing a transaction marker", "topic", tp.Topic, "partition", tp.Partition, "panic", v, "stack", string(debug.Stack()))
		errs[local[k]] = fmt.Errorf("writing the marker of %s-%d panicked: %v", tp.Topic, tp.Partition, v)
	})
	for range remote {
		<-done
	}
	return errs
}

// localErr maps a local marker write's error for the coordinator: a
// partition that is gone, or that a newer epoch already wrote to, is
// dropped; anything else is retried.
func (w txnMarkerWriter) localErr(tp txn.TopicPartition, err error, m txn.Marker) error {
	switch {
	case err == nil:
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		err = fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
	case errors.Is(err, partition.ErrInvalidEpoch):
		// A newer epoch already wrote here, which only a later
		// transaction of the producer can have done; this marker has
		// nothing left to end.
		w.b.lg.Warn("dropping a stale transaction marker", "topic", tp.Topic, "partition", tp.Partition,
			"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "err", err)
		err = fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
	}
	return err
}

// writeRemote sends the marker for the partitions idx (all led by leader)
// in one WriteTxnMarkers request and sets their errors.
func (w txnMarkerWriter) writeRemote(ctx context.Context, leader int32, m txn.Marker, idx []int, errs []error) {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = 2 // v1 to a peer without v2
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed = m.ProducerID, m.ProducerEpoch, m.Commit
	rm.CoordinatorEpoch, rm.TransactionVersion = m.CoordinatorEpoch, m.TransactionVersion
	byTopic := map[string]int{}
	for _, i := range idx {
		tp := m.Partitions[i]
		k, ok := byTopic[tp.Topic]
		if !ok {
			k = len(rm.Topics)
			byTopic[tp.Topic] = k
			rt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			rt.Topic = tp.Topic
			rm.Topics = append(rm.Topics, rt)
		}
		rm.Topics[k].Partitions = append(rm.Topics[k].Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, rm)

	raw, err := w.peers.Request(ctx, leader, req, 1)
	if err != nil {
		// The coordinator logs the markers still pending and retries.
		w.b.lg.Debug("cannot send transaction markers", "leader", leader, "producer_id", m.ProducerID, "err", err)
		for _, i := range idx {
			tp := m.Partitions[i]
			errs[i] = fmt.Errorf("WriteTxnMarkers for %s-%d to broker %d: %w", tp.Topic, tp.Partition, leader, err)
		}
		return
	}
	codes := map[txn.TopicPartition]int16{}
	for _, rm := range raw.(*kmsg.WriteTxnMarkersResponse).Markers {
		if rm.ProducerID != m.ProducerID {
			continue
		}
		for _, t := range rm.Topics {
			for _, p := range t.Partitions {
				codes[txn.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.ErrorCode
			}
		}
	}
	for _, i := range idx {
		tp := m.Partitions[i]
		code, ok := codes[tp]
		if !ok {
			errs[i] = fmt.Errorf("broker %d answered nothing for the marker of %s-%d", leader, tp.Topic, tp.Partition)
			continue
		}
		errs[i] = w.remoteErr(tp, leader, code, m)
	}
}

// remoteErr maps a leader's WriteTxnMarkers error code as Kafka's
// TransactionMarkerRequestCompletionHandler does, and as localErr maps the
// same failures here: a partition the cluster no longer has, or whose
// producer moved to a newer epoch, is dropped; NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT and the like are retried (the
// next attempt looks the leader up again).
func (w txnMarkerWriter) remoteErr(tp txn.TopicPartition, leader int32, code int16, m txn.Marker) error {
	if code == 0 {
		return nil
	}
	kerrv := kerr.ErrorForCode(code)
	err := fmt.Errorf("broker %d wrote no marker to %s-%d: %w", leader, tp.Topic, tp.Partition, kerrv)
	switch code {
	case kerr.UnknownTopicOrPartition.Code:
		// Gone only if this broker's image agrees; the leader may just
		// not have the partition yet.
		t, ok := w.b.image().Topics[tp.Topic]
		if _, exists := partitionOfOK(t, ok, tp.Partition); !exists {
			return fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
		}
	case kerr.InvalidProducerEpoch.Code, kerr.UnsupportedForMessageFormat.Code:
		w.b.lg.Warn("dropping a stale transaction marker", "topic", tp.Topic, "partition", tp.Partition, "leader", leader,
			"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "err", err)
		return fmt.Errorf("%w: %v", txn.ErrPartitionGone, err)
	}
	return err
}

// forEachParallel calls fn(0..n-1) on up to limit goroutines at once and
// returns when all calls have. A panic in fn is recovered (it must not end
// the process) and handed to onPanic with its index.
func forEachParallel(n, limit int, fn func(i int), onPanic func(i int, v any)) {
	call := func(i int) {
		defer func() {
			if v := recover(); v != nil {
				onPanic(i, v)
			}
		}()
		fn(i)
	}
	if n == 1 {
		call(0)
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() { // waited below
			defer wg.Done()
			defer func() { <-sem }()
			call(i)
		}()
	}
	wg.Wait()
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
	leaderEpoch := p.State().LeaderEpoch
	off, err := p.AppendMarker(pid, epoch, commit, coordEpoch)
	if err != nil {
		return err
	}
	// Kafka writes markers with acks=-1: the marker must survive a change
	// of leader, or the transaction would hang open on the new leader.
	wctx, cancel := context.WithTimeout(context.Background(), coordinator.CommitTimeout)
	err = p.WaitCommitted(wctx, off, leaderEpoch)
	cancel()
	if err != nil {
		return err
	}
	if topic == offsetsTopic && b.groups != nil {
		b.groups.CompleteTransaction(part, pid, epoch, commit)
	}
	return nil
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
		})
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
