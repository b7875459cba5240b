package coordinator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

const (
	self  = int32(1)
	other = int32(2)
	// waitFor bounds how long a test waits for a background step.
	waitFor = 5 * time.Second
)

// fakeImages is Images over a settable image.
type fakeImages struct {
	img atomic.Pointer[metadata.Image]
}

func (f *fakeImages) Image() *metadata.Image { return f.img.Load() }

// lead describes one partition of a test image.
type lead struct {
	leader, epoch int32
}

// image builds an image at offset whose topic has the given partitions
// (no topic if parts is empty).
func image(offset int64, topic string, parts ...lead) *metadata.Image {
	img := &metadata.Image{Offset: offset, Topics: map[string]*metadata.Topic{}}
	if len(parts) == 0 {
		return img
	}
	t := &metadata.Topic{Name: topic}
	for i, l := range parts {
		t.Partitions = append(t.Partitions, &metadata.Partition{Topic: topic, Index: int32(i), Leader: l.leader, LeaderEpoch: l.epoch})
	}
	img.Topics[topic] = t
	return img
}

// fakePartitions hosts fakeReplicas.
type fakePartitions struct {
	mu    sync.Mutex
	parts map[partition.Key]*fakeReplica
}

func (f *fakePartitions) Partition(topic string, p int32) (Replica, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.parts[partition.Key{Topic: topic, Partition: p}]
	if !ok {
		return nil, false
	}
	return r, true
}

func (f *fakePartitions) host(topic string, p int32) *fakeReplica {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := partition.Key{Topic: topic, Partition: p}
	if r, ok := f.parts[k]; ok {
		return r
	}
	r := &fakeReplica{epoch: 1}
	f.parts[k] = r
	return r
}

func (f *fakePartitions) drop(topic string, p int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, partition.Key{Topic: topic, Partition: p})
}

// fakeReplica is an in-memory log: batches with their offsets assigned.
type fakeReplica struct {
	mu        sync.Mutex
	batches   [][]byte
	end       int64
	epoch     int32
	producers []partition.ProducerInfo
	appendErr error // Append fails with it
	waitErr   error // WaitCommitted fails with it
	waited    []int64
}

func (r *fakeReplica) Append(b []byte, acks int16) (partition.AppendResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.appendErr != nil {
		return partition.AppendResult{}, r.appendErr
	}
	if acks != -1 {
		return partition.AppendResult{}, fmt.Errorf("acks %d, want -1", acks)
	}
	return r.appendLocked(b)
}

func (r *fakeReplica) appendLocked(b []byte) (partition.AppendResult, error) {
	h, err := batch.ParseHeader(b)
	if err != nil {
		return partition.AppendResult{}, err
	}
	b = append([]byte(nil), b...)
	batch.SetBaseOffset(b, r.end)
	res := partition.AppendResult{BaseOffset: r.end, LastOffset: r.end + int64(h.LastOffsetDelta), LeaderEpoch: r.epoch}
	r.batches = append(r.batches, b)
	r.end = res.LastOffset + 1
	return res, nil
}

// marker appends a transaction marker, as the broker's marker path does.
func (r *fakeReplica) marker(t *testing.T, pid int64, epoch int16, commit bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.appendLocked(batch.BuildControlBatch(pid, epoch, commit, 0, 0)); err != nil {
		t.Fatal(err)
	}
}

func (r *fakeReplica) WaitCommitted(ctx context.Context, offset int64, epoch int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return fmt.Errorf("WaitCommitted without a deadline")
	}
	r.waited = append(r.waited, offset)
	return r.waitErr
}

func (r *fakeReplica) Producers() []partition.ProducerInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.producers
}

func (r *fakeReplica) LogEndOffset() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end
}

func (r *fakeReplica) ScanBatches(from int64, fn func(h batch.Header, b []byte) error) error {
	r.mu.Lock()
	bs := r.batches
	r.mu.Unlock()
	for _, b := range bs {
		h, err := batch.ParseHeader(b)
		if err != nil {
			return err
		}
		if h.LastOffset() < from {
			continue
		}
		if err := fn(h, b); err != nil {
			return err
		}
	}
	return nil
}

// fakeClock hands every timer to the test, which fires it.
type fakeClock struct{ timers chan *fakeTimer }

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped atomic.Bool
}

func newFakeClock() *fakeClock { return &fakeClock{timers: make(chan *fakeTimer, 16)} }

func (c *fakeClock) Now() time.Time { return time.UnixMilli(1_700_000_000_000) }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	t := &fakeTimer{d: d, f: f}
	c.timers <- t
	return func() bool { return !t.stopped.Swap(true) }
}

// next is the next timer armed.
func (c *fakeClock) next(t *testing.T) *fakeTimer {
	t.Helper()
	select {
	case tm := <-c.timers:
		return tm
	case <-time.After(waitFor):
		t.Fatal("no timer armed")
		return nil
	}
}

// attempt is one call of a load function BeginLoad returned; the test
// answers it on result.
type attempt struct {
	p, epoch int32
	ctx      context.Context
	read     ReadFunc
	result   chan error
}

// fakeShards records the runtime's calls and hands each load attempt to
// the test.
type fakeShards struct {
	mu       sync.Mutex
	count    int32
	events   []string
	attempts chan *attempt
}

func newFakeShards() *fakeShards { return &fakeShards{count: -1, attempts: make(chan *attempt, 16)} }

func (s *fakeShards) SetPartitionCount(n int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count = n
}

func (s *fakeShards) BeginLoad(p, epoch int32) func(context.Context, ReadFunc) error {
	s.log("begin %d@%d", p, epoch)
	return func(ctx context.Context, read ReadFunc) error {
		a := &attempt{p: p, epoch: epoch, ctx: ctx, read: read, result: make(chan error, 1)}
		s.attempts <- a
		select {
		case err := <-a.result:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *fakeShards) Unload(p int32) { s.log("unload %d", p) }

func (s *fakeShards) log(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fmt.Sprintf(format, args...))
}

// took returns and clears the events so far.
func (s *fakeShards) took() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.events
	s.events = nil
	return ev
}

func (s *fakeShards) partitionCount() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// next is the next load attempt.
func (s *fakeShards) next(t *testing.T) *attempt {
	t.Helper()
	select {
	case a := <-s.attempts:
		return a
	case <-time.After(waitFor):
		t.Fatal("no load attempt")
		return nil
	}
}

// none checks that no load attempt is pending.
func (s *fakeShards) none(t *testing.T) {
	t.Helper()
	select {
	case a := <-s.attempts:
		t.Fatalf("unexpected load attempt of %d@%d", a.p, a.epoch)
	case <-time.After(20 * time.Millisecond):
	}
}

// cancelled waits for ctx to end.
func cancelled(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(waitFor):
		t.Fatal("load not cancelled")
	}
}

// env is a runtime over fakes with one registered topic.
type env struct {
	rt     *Runtime
	images *fakeImages
	parts  *fakePartitions
	clock  *fakeClock
	shards *fakeShards
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{images: &fakeImages{}, parts: &fakePartitions{parts: map[partition.Key]*fakeReplica{}}, clock: newFakeClock(), shards: newFakeShards()}
	e.images.img.Store(image(0, OffsetsTopic))
	rt, err := New(Config{NodeID: self, Images: e.images, Partitions: e.parts, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rt.Register(OffsetsTopic, e.shards)
	e.rt = rt
	t.Cleanup(rt.Close)
	return e
}

// publish makes img current and syncs the runtime with it.
func (e *env) publish(img *metadata.Image) {
	e.images.img.Store(img)
	e.rt.Sync(img)
}

// headerOf is the header of rep's i-th batch.
func headerOf(t *testing.T, rep *fakeReplica, i int) batch.Header {
	t.Helper()
	rep.mu.Lock()
	defer rep.mu.Unlock()
	h, err := batch.ParseHeader(rep.batches[i])
	if err != nil {
		t.Fatal(err)
	}
	return h
}
