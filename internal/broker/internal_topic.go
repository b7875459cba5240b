package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// internalMaxDecompressed caps a batch of an internal topic when a
// coordinator replays it.
const internalMaxDecompressed = 64 << 20

// internalTopic is a coordinator's persistence over the partitions of one
// internal topic (__consumer_offsets, __transaction_state) this broker
// leads: its records become ordinary uncompressed batches appended with
// acks=-1, and loading replays them up to the high watermark.
type internalTopic struct {
	ctl    *controller.Controller
	parts  *partition.Manager
	nodeID int32
	clock  Clock
	topic  string
	// notLeader is the coordinator package's "not the leader" error.
	notLeader error
}

// partition returns partition p if this broker leads it.
func (it *internalTopic) partition(p int32) (*partition.Partition, error) {
	t, ok := it.ctl.Image().Topics[it.topic]
	if !ok || p < 0 || int(p) >= len(t.Partitions) || t.Partitions[p].Leader != it.nodeID {
		return nil, it.notLeader
	}
	part, ok := it.parts.Get(it.topic, p)
	if !ok {
		return nil, it.notLeader
	}
	return part, nil
}

// internalCommitTimeout bounds how long a coordinator waits for its records
// to reach the ISR (Kafka's offsets.commit.timeout.ms default).
const internalCommitTimeout = 5 * time.Second

// appendTo writes recs to part as one batch built with opts (its timestamp
// set here) and returns the batch's base offset once every ISR member has
// it (acks=-1).
func (it *internalTopic) appendTo(ctx context.Context, part *partition.Partition, recs []batch.Record, opts batch.BuildOptions) (int64, error) {
	opts.BaseTimestamp = it.clock.Now().UnixMilli()
	b, err := batch.Build(batch.CodecNone, recs, opts)
	if err != nil {
		return -1, err
	}
	res, err := part.Append(b, -1)
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, internalCommitTimeout)
		err = part.WaitCommitted(wctx, res.LastOffset, res.LeaderEpoch)
		cancel()
	}
	if errors.Is(err, partition.ErrClosed) || errors.Is(err, partition.ErrNotLeader) {
		return -1, fmt.Errorf("%w: %v", it.notLeader, err)
	}
	if err != nil {
		return -1, err
	}
	return res.BaseOffset, nil
}

// errReplayDone ends a scan at the high watermark.
var errReplayDone = errors.New("replay done")

// replay reads partition p from its log start to its log end (a new leader's
// log is the partition's truth; its high watermark catches up as followers
// fetch). For a
// control batch it calls fn with the batch bytes and a nil record; for each
// record of a data batch, with the record (key and value copied: fn may keep
// them) and its offset.
func (it *internalTopic) replay(ctx context.Context, p int32, fn func(h *batch.Header, control []byte, r *batch.Record, off int64) error) error {
	part, err := it.partition(p)
	if err != nil {
		return err
	}
	hw := part.LogEndOffset()
	err = part.Log().ScanBatches(0, func(h batch.Header, b []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.BaseOffset >= hw {
			return errReplayDone
		}
		if h.IsControl() {
			return fn(&h, b, nil, h.BaseOffset)
		}
		recs, err := batch.Records(b, internalMaxDecompressed)
		if err != nil {
			return fmt.Errorf("%s-%d batch at offset %d: %w", it.topic, p, h.BaseOffset, err)
		}
		for i := range recs {
			off := h.BaseOffset + int64(recs[i].OffsetDelta)
			if off >= hw {
				return errReplayDone
			}
			r := recs[i]
			r.Key, r.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
			if err := fn(&h, nil, &r, off); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errReplayDone) {
		return nil
	}
	return err
}

// ensureInternalTopic creates an internal topic as Kafka does on the first
// FindCoordinator that needs it: partitions from partsKey, replication from
// rfKey capped at the live brokers. mu serialises creators; after creating
// the topic, follow makes the coordinator lead its partitions.
func (b *Broker) ensureInternalTopic(ctx context.Context, mu *sync.Mutex, name, partsKey, rfKey string, configs func(*metadata.Image) map[string]string, follow func(*metadata.Image)) (*metadata.Topic, error) {
	if t, ok := b.image().Topics[name]; ok {
		return t, nil
	}
	mu.Lock()
	defer mu.Unlock()
	img := b.image()
	if t, ok := img.Topics[name]; ok {
		return t, nil
	}
	live := 0
	for _, br := range img.Brokers {
		if !br.Fenced {
			live++
		}
	}
	rf := int16(min(b.settingInt(img, rfKey), int64(live)))
	n := int32(b.settingInt(img, partsKey))
	t, err := b.createTopic(ctx, name, n, rf, nil, configs(img), false)
	if err != nil && errorCode(err) == kerr.TopicAlreadyExists.Code {
		if t2, ok := b.image().Topics[name]; ok {
			t, err = t2, nil
		}
	}
	if err != nil {
		return nil, err
	}
	b.lg.Info("created internal topic", "topic", name, "partitions", n, "replication_factor", rf)
	follow(b.image())
	return t, nil
}
