package partition

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

func openReplica(t *testing.T, self int32, st LeaderState, minISR int32, clock Clock) *Partition {
	t.Helper()
	cfg := testConfig()
	cfg.MinInsyncReplicas = minISR
	p, err := Open(context.Background(), t.TempDir(), "t", 0, cfg, Options{
		FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock,
		Self: self, State: &st, HighWatermark: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func plainBatch(t *testing.T, n int, ts int64) []byte {
	t.Helper()
	recs := make([]batch.Record, n)
	b, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The leader's core: the high watermark follows the ISR's log ends, acks=all
// waits for it, the ISR shrinks and grows with DesiredISR, and losing the
// ISR or the leadership ends a wait with the right error.
func TestLeaderHighWatermarkAndISR(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	st := LeaderState{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 5, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}
	p := openReplica(t, 1, st, 2, clock)
	ts := clock.t.UnixMilli()

	res, err := p.Append(plainBatch(t, 4, ts), -1)
	if err != nil || res.LastOffset != 3 || res.LeaderEpoch != 3 {
		t.Fatalf("append: %+v %v", res, err)
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d before any follower fetched", hw)
	}
	// Follower 2 has it all, 3 has half: HW is the minimum.
	if _, err := p.FollowerFetch(2, 3, 4, clock.t); err != nil {
		t.Fatal(err)
	}
	if hw, err := p.FollowerFetch(3, 3, 2, clock.t); err != nil || hw != 2 {
		t.Fatalf("HW %d %v, want 2", hw, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.WaitCommitted(ctx, res.LastOffset, res.LeaderEpoch); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acks=all answered before the ISR had the batch: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.WaitCommitted(context.Background(), res.LastOffset, res.LeaderEpoch) }()
	if _, err := p.FollowerFetch(3, 3, 4, clock.t); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || p.HighWatermark() != 4 {
		t.Fatalf("wait: %v, HW %d", err, p.HighWatermark())
	}

	// Epoch checks on follower fetches.
	if _, err := p.FollowerFetch(2, 2, 4, clock.t); !errors.Is(err, ErrFencedEpoch) {
		t.Fatalf("older epoch: %v", err)
	}
	if _, err := p.FollowerFetch(2, 4, 4, clock.t); !errors.Is(err, ErrUnknownEpoch) {
		t.Fatalf("newer epoch: %v", err)
	}
	if _, err := p.FollowerFetch(9, 3, 4, clock.t); !errors.Is(err, ErrNotReplica) {
		t.Fatalf("not a replica: %v", err)
	}

	// Follower 3 stops fetching: after the lag window it leaves the ISR;
	// a fenced broker is never added back, a live caught-up one is.
	if _, ok := p.DesiredISR(clock.t, time.Second, nil); ok {
		t.Fatal("ISR change with everyone caught up")
	}
	clock.t = clock.t.Add(2 * time.Second)
	if _, err := p.FollowerFetch(2, 3, 4, clock.t); err != nil {
		t.Fatal(err)
	}
	ch, ok := p.DesiredISR(clock.t, time.Second, nil)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2}) || ch.PartitionEpoch != 5 || len(ch.ELR) != 0 {
		t.Fatalf("shrink: %+v %v", ch, ok)
	}
	if _, ok := p.DesiredISR(clock.t, time.Second, nil); ok {
		t.Fatal("a second change while one is pending")
	}
	st.ISR, st.PartitionEpoch = []int32{1, 2}, 6
	p.SetState(1, st, clock.t)
	if _, err := p.FollowerFetch(3, 3, 4, clock.t); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.DesiredISR(clock.t, time.Second, func(id int32) bool { return id != 3 }); ok {
		t.Fatal("asked to add an ineligible (fenced) replica")
	}
	p.RetryISR()
	ch, ok = p.DesiredISR(clock.t, time.Second, nil)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3}) {
		t.Fatalf("expand: %+v %v", ch, ok)
	}

	// The ISR falls below min.insync.replicas: acks=all is refused up
	// front, and a waiting batch gets NOT_ENOUGH_REPLICAS_AFTER_APPEND.
	res, err = p.Append(plainBatch(t, 1, ts), -1)
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() { done <- p.WaitCommitted(context.Background(), res.LastOffset, res.LeaderEpoch) }()
	st.ISR, st.PartitionEpoch = []int32{1}, 7
	p.SetState(1, st, clock.t)
	if err := <-done; !errors.Is(err, ErrNotEnoughISRAfterAppend) {
		t.Fatalf("ISR below min.insync.replicas while waiting: %v", err)
	}
	if _, err := p.Append(plainBatch(t, 1, ts), -1); !errors.Is(err, ErrNotEnoughISR) {
		t.Fatalf("acks=all with a short ISR: %v", err)
	}
	if _, err := p.Append(plainBatch(t, 1, ts), 1); err != nil {
		t.Fatalf("acks=1 with a short ISR: %v", err)
	}
	if hw := p.HighWatermark(); hw != 4 {
		t.Fatalf("HW moved to %d with the ISR below min.insync.replicas (KIP-966)", hw)
	}

	// Leadership moves: a waiter learns it, appends are refused.
	st.ISR, st.PartitionEpoch = []int32{1, 2}, 8
	p.SetState(1, st, clock.t)
	res, _ = p.Append(plainBatch(t, 1, ts), -1)
	done = make(chan error, 1)
	go func() { done <- p.WaitCommitted(context.Background(), res.LastOffset, res.LeaderEpoch) }()
	p.SetState(1, LeaderState{Leader: 2, LeaderEpoch: 4, PartitionEpoch: 9, Replicas: []int32{1, 2, 3}, ISR: []int32{2}}, clock.t)
	if err := <-done; !errors.Is(err, ErrNotLeader) {
		t.Fatalf("leadership moved while waiting: %v", err)
	}
	if _, err := p.Append(plainBatch(t, 1, ts), 1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("append as a follower: %v", err)
	}
}

// The follower's core: batches from the leader keep their offsets and
// epochs, the high watermark is the leader's capped at the local log end,
// and truncation drops a diverged suffix.
func TestFollowerAppendAndTruncate(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	ts := clock.t.UnixMilli()
	leader := openReplica(t, 1, LeaderState{Leader: 1, LeaderEpoch: 2, Replicas: []int32{1, 2}, ISR: []int32{1}}, 1, clock)
	for range 3 {
		if _, err := leader.Append(plainBatch(t, 2, ts), 1); err != nil {
			t.Fatal(err)
		}
	}
	rd, err := leader.Log().Read(0, 1<<20, leader.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	var fetched []byte
	for _, c := range rd.Chunks {
		b := make([]byte, c.Len)
		if _, err := c.File.ReadAt(b, c.Pos); err != nil {
			t.Fatal(err)
		}
		fetched = append(fetched, b...)
	}

	f := openReplica(t, 2, LeaderState{Leader: 1, LeaderEpoch: 2, Replicas: []int32{1, 2}, ISR: []int32{1}}, 1, clock)
	if err := f.AppendReplica(fetched, 4); err != nil {
		t.Fatal(err)
	}
	if f.LogEndOffset() != 6 || f.HighWatermark() != 4 || f.Log().LatestEpoch() != 2 {
		t.Fatalf("follower log end %d HW %d epoch %d", f.LogEndOffset(), f.HighWatermark(), f.Log().LatestEpoch())
	}
	f.SetFollowerHW(100)
	if f.HighWatermark() != 6 {
		t.Fatalf("HW %d not capped at the log end", f.HighWatermark())
	}
	if _, err := f.Append(plainBatch(t, 1, ts), 1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a follower accepted a produce: %v", err)
	}
	if err := f.TruncateTo(2); err != nil {
		t.Fatal(err)
	}
	if f.LogEndOffset() != 2 || f.HighWatermark() != 2 {
		t.Fatalf("after truncation: log end %d HW %d", f.LogEndOffset(), f.HighWatermark())
	}
	if err := f.ResetTo(10); err != nil {
		t.Fatal(err)
	}
	if f.LogStartOffset() != 10 || f.LogEndOffset() != 10 {
		t.Fatalf("after reset: start %d end %d", f.LogStartOffset(), f.LogEndOffset())
	}
	// A leader that gets replica data refuses it.
	if err := leader.AppendReplica(fetched, 0); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("leader took replica data: %v", err)
	}
}

// A follower whose broker registers a new incarnation (a restarted
// process, whose log may have lost what it fetched) counts only from its
// new fetches: the leader neither adds it back to the ISR nor advances
// the high watermark on its old fetch state (KIP-903).
func TestLeaderForgetsRestartedFollower(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	inc := map[int32]metadata.Uuid{1: {1}, 2: {2}, 3: {3}}
	st := LeaderState{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 5, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Incarnations: inc}
	p := openReplica(t, 1, st, 2, clock)
	p.SetState(1, st, clock.t)
	if _, err := p.Append(plainBatch(t, 4, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int32{2, 3} {
		if _, err := p.FollowerFetch(id, 3, 4, clock.t); err != nil {
			t.Fatal(err)
		}
	}
	// Broker 3 restarts before the leader asks to add it.
	st.PartitionEpoch, st.Incarnations = 6, map[int32]metadata.Uuid{1: {1}, 2: {2}, 3: {33}}
	p.SetState(1, st, clock.t)
	if ch, ok := p.DesiredISR(clock.t, time.Second, nil); ok {
		t.Fatalf("added a restarted follower on its old fetch state: %+v", ch)
	}
	if _, err := p.FollowerFetch(3, 3, 4, clock.t); err != nil {
		t.Fatal(err)
	}
	if ch, ok := p.DesiredISR(clock.t, time.Second, nil); !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3}) {
		t.Fatalf("caught up again after its restart: %+v %v", ch, ok)
	}
	// Broker 2 (in the ISR) restarts: the high watermark waits for its
	// new fetches.
	if _, err := p.Append(plainBatch(t, 2, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	st.PartitionEpoch, st.Incarnations = 7, map[int32]metadata.Uuid{1: {1}, 2: {22}, 3: {33}}
	p.SetState(1, st, clock.t)
	if _, err := p.FollowerFetch(3, 3, 6, clock.t); err != nil {
		t.Fatal(err)
	}
	if hw := p.HighWatermark(); hw != 4 {
		t.Fatalf("HW %d, want 4 until the restarted ISR member fetches", hw)
	}
}
