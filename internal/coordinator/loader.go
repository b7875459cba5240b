package coordinator

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// maxDecompressed caps a batch of an internal topic when a load replays it.
const maxDecompressed = 64 << 20

// errReadDone ends a scan at the log end the read began with.
var errReadDone = errors.New("read done")

// read returns the ReadFunc of partition p: from its log start to its log
// end (a new leader's log is the partition's truth; its high watermark
// catches up as followers fetch). A partition this broker does not lead or
// host fails with ErrNotLeader, which the loader retries.
func (l leaders) read(p int32) ReadFunc {
	return func(ctx context.Context, fn func(Replayed) error) error {
		part, err := l.replica(p)
		if err != nil {
			return err
		}
		end := part.LogEndOffset()
		err = part.ScanBatches(0, func(h batch.Header, b []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if h.BaseOffset >= end {
				return errReadDone
			}
			return l.replayBatch(p, &h, b, end, fn)
		})
		if errors.Is(err, errReadDone) {
			return nil
		}
		return err
	}
}

// replayBatch hands one batch to fn: a transaction marker for a
// transactional control batch (other control batches are skipped), else
// each record below end. A batch whose records cannot be decoded (bad
// compression, truncated records) is skipped and reported (skipBatch):
// the rest of the partition loads.
func (l leaders) replayBatch(p int32, h *batch.Header, b []byte, end int64, fn func(Replayed) error) error {
	pid, epoch := int64(-1), int16(-1)
	if h.IsTransactional() {
		pid, epoch = h.ProducerID, h.ProducerEpoch
	}
	if h.IsControl() {
		commit, err := batch.ControlType(b)
		if err != nil || !h.IsTransactional() {
			return nil // not a transaction marker
		}
		return fn(Replayed{Offset: h.BaseOffset, ProducerID: pid, ProducerEpoch: epoch, Marker: true, Commit: commit})
	}
	recs, err := batch.Records(b, maxDecompressed)
	if err != nil {
		l.skipBatch(p, h, err)
		return nil
	}
	for i := range recs {
		off := h.BaseOffset + int64(recs[i].OffsetDelta)
		if off >= end {
			return errReadDone
		}
		r := Replayed{Offset: off, Key: bytes.Clone(recs[i].Key), Value: bytes.Clone(recs[i].Value), ProducerID: pid, ProducerEpoch: epoch}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// skipBatch reports a batch a load cannot decode and counts it (see the
// package doc for why a load skips it rather than failing).
func (l leaders) skipBatch(p int32, h *batch.Header, err error) {
	if l.skipped != nil {
		l.skipped.Add(1)
	}
	if l.lg != nil {
		l.lg.Warn("skipping undecodable batch while loading a coordinator partition", "topic", l.topic, "partition", p,
			"offset", h.BaseOffset, "last_offset", h.LastOffset(), "codec", h.Codec(), "err", err)
	}
}

// Backoff is the loader's retry schedule: the first retry waits Min, each
// next one twice as long, up to Max.
type Backoff struct {
	Min, Max time.Duration
}

// The schedule the coordinators always used, when Config.Backoff is zero.
const (
	defaultMinBackoff = 100 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
)

// loader runs the loads of one internal topic's shards.
type loader struct {
	topic   string
	lg      *slog.Logger
	clock   Clock
	backoff Backoff
	read    func(p int32) ReadFunc
}

// run loads partition p with load until it succeeds or ctx ends (the
// runtime cancels it when this broker stops leading p), retrying failures
// (the partition not hosted or led here yet, a read error) with backoff.
func (l *loader) run(ctx context.Context, p, epoch int32, load func(context.Context, ReadFunc) error) {
	wait := l.backoff.Min
	for {
		err := load(ctx, l.read(p))
		if err == nil || ctx.Err() != nil {
			return
		}
		l.lg.Warn("loading partition failed; retrying", "topic", l.topic, "partition", p, "leader_epoch", epoch, "err", err, "retry_in", wait)
		if !l.sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, l.backoff.Max)
	}
}

// sleep waits d on the clock; false if ctx ended first.
func (l *loader) sleep(ctx context.Context, d time.Duration) bool {
	fired := make(chan struct{})
	stop := l.clock.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		stop()
		return false
	}
}
