package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// CommitTimeout bounds how long a coordinator's append waits for its
// records to reach the ISR (Kafka's offsets.commit.timeout.ms default).
// Transaction markers, written by the broker, wait as long.
const CommitTimeout = 5 * time.Second

// leaders finds the partitions of one internal topic that this broker
// leads, in the current image.
type leaders struct {
	topic  string
	nodeID int32
	images Images
	parts  Partitions
	// lg and skipped report the batches a load skips (loader.go).
	lg      *slog.Logger
	skipped *atomic.Int64
}

// replica returns partition p if this broker leads and hosts it, else an
// error wrapping ErrNotLeader.
func (l leaders) replica(p int32) (Replica, error) {
	t, ok := l.images.Image().Topics[l.topic]
	if !ok || p < 0 || int(p) >= len(t.Partitions) || t.Partitions[p].Leader != l.nodeID {
		return nil, fmt.Errorf("%w: %s-%d", ErrNotLeader, l.topic, p)
	}
	part, ok := l.parts.Partition(l.topic, p)
	if !ok {
		return nil, fmt.Errorf("%w: %s-%d is not hosted here", ErrNotLeader, l.topic, p)
	}
	return part, nil
}

// Writer is the partition writer of one internal topic: a coordinator's
// records become ordinary uncompressed batches, appended with acks=-1 to
// the partitions this broker leads. It is group.Log for __consumer_offsets
// and txn.Log for __transaction_state.
type Writer struct {
	leaders leaders
	clock   Clock
}

// Append writes records to partition p as one batch and returns the offset
// of the first once every ISR member has them (acks=-1, bounded by
// CommitTimeout). A partition this broker does not lead fails with
// ErrNotLeader.
func (w *Writer) Append(ctx context.Context, p int32, recs []Record) (int64, error) {
	return w.AppendTxn(ctx, p, -1, -1, recs)
}

// AppendTxn is Append of one transactional batch of the producer
// (TxnOffsetCommit); producerID -1 writes a plain batch. The coordinators'
// appends skip Kafka's sequence checks; the partition's idempotence table
// does not, so the batch carries the sequence that follows the producer's
// last one in this partition (0 for a new epoch). The group coordinator is
// the only writer of data batches to __consumer_offsets and holds its
// shard lock, so nothing slips in between reading the sequence and
// appending. An epoch older than the partition knows fails with
// ErrProducerFenced.
func (w *Writer) AppendTxn(ctx context.Context, p int32, producerID int64, epoch int16, recs []Record) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	part, err := w.leaders.replica(p)
	if err != nil {
		return -1, err
	}
	rs := make([]batch.Record, len(recs))
	for i, r := range recs {
		rs[i] = batch.Record{Key: r.Key, Value: r.Value}
	}
	var opts batch.BuildOptions
	if producerID >= 0 {
		opts = batch.BuildOptions{ProducerID: producerID, ProducerEpoch: epoch,
			BaseSequence: nextSequence(part, producerID, epoch), Transactional: true}
	}
	off, err := w.append(ctx, part, rs, opts)
	if errors.Is(err, partition.ErrInvalidEpoch) {
		return -1, fmt.Errorf("%w: %w", ErrProducerFenced, err)
	}
	return off, err
}

// nextSequence is the sequence after the producer's last batch in part at
// this epoch, or 0.
func nextSequence(part Replica, producerID int64, epoch int16) int32 {
	seq := int32(0)
	for _, pi := range part.Producers() {
		if pi.ProducerID == producerID && pi.ProducerEpoch == epoch && pi.LastSequence >= 0 && pi.LastSequence < math.MaxInt32 {
			seq = pi.LastSequence + 1
		}
	}
	return seq
}

// append writes recs to part as one batch built with opts (its timestamp
// set here) and returns the batch's base offset once every ISR member has
// it.
func (w *Writer) append(ctx context.Context, part Replica, recs []batch.Record, opts batch.BuildOptions) (int64, error) {
	opts.BaseTimestamp = w.clock.Now().UnixMilli()
	b, err := batch.Build(batch.CodecNone, recs, opts)
	if err != nil {
		return -1, fmt.Errorf("coordinator: build a %s batch: %w", w.leaders.topic, err)
	}
	res, err := part.Append(b, -1)
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, CommitTimeout)
		err = part.WaitCommitted(wctx, res.LastOffset, res.LeaderEpoch)
		cancel()
	}
	if errors.Is(err, partition.ErrClosed) || errors.Is(err, partition.ErrNotLeader) {
		return -1, fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	if err != nil {
		return -1, err
	}
	return res.BaseOffset, nil
}
