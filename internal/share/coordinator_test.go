package share

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// memLog is a __share_group_state stand-in: records per partition.
type memLog map[int32][]coordinator.Record

func (l memLog) Append(_ context.Context, p int32, recs []coordinator.Record) (int64, error) {
	l[p] = append(l[p], recs...)
	return int64(len(l[p])), nil
}

func (l memLog) read(p int32) coordinator.ReadFunc {
	return func(_ context.Context, fn func(coordinator.Replayed) error) error {
		for i, r := range l[p] {
			if err := fn(coordinator.Replayed{Offset: int64(i), Key: r.Key, Value: r.Value, ProducerID: -1}); err != nil {
				return err
			}
		}
		return nil
	}
}

// A share coordinator writes through its log and a new one loading that
// log has the same state; keys of partitions it does not lead or has not
// loaded get NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS.
func TestCoordinatorWriteLoad(t *testing.T) {
	ctx := context.Background()
	log := memLog{}
	lg := slog.New(slog.DiscardHandler)
	c := NewCoordinator(log, lg, 2, func() int64 { return 1 })
	k := PartKey{Group: "g", TP: TP{Topic: [16]byte{3}, Partition: 1}}
	if _, _, err := c.Read(k); !errors.Is(err, kerr.CoordinatorNotAvailable) {
		t.Fatalf("before the topic: %v", err)
	}
	c.SetPartitionCount(4)
	p, _ := c.Partition(k)
	if _, _, err := c.Read(k); !errors.Is(err, kerr.NotCoordinator) {
		t.Fatalf("not led: %v", err)
	}
	load := c.BeginLoad(p, 0)
	if _, _, err := c.Read(k); !errors.Is(err, kerr.CoordinatorLoadInProgress) {
		t.Fatalf("loading: %v", err)
	}
	if err := load(ctx, log.read(p)); err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(ctx, k, 0, 10); err != nil {
		t.Fatal(err)
	}
	for i, b := range [][]StateBatch{{{10, 12, Acknowledged, 1}}, {{13, 13, Archived, 5}}, {{14, 20, Available, 2}}} {
		if err := c.Write(ctx, k, 0, 1, int64(13+i), b); err != nil {
			t.Fatal(err)
		}
	}
	want, ok, err := c.Read(k)
	if err != nil || !ok || want.StartOffset != 15 {
		t.Fatalf("state %+v %v %v", want, ok, err)
	}
	c2 := NewCoordinator(log, lg, 2, func() int64 { return 2 })
	c2.SetPartitionCount(4)
	if err := c2.BeginLoad(p, 1)(ctx, log.read(p)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c2.Read(k)
	if err != nil || !ok || got.StartOffset != want.StartOffset || len(got.Batches) != len(want.Batches) {
		t.Fatalf("loaded %+v, want %+v (%v %v)", got, want, ok, err)
	}
	c2.Unload(p)
	if _, _, err := c2.Read(k); !errors.Is(err, kerr.NotCoordinator) {
		t.Fatalf("unloaded: %v", err)
	}
}
