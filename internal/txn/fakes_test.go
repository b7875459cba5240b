package txn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// fakeClock is a Clock driven by Advance; timers run synchronously inside
// Advance, in deadline order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves time forward by d, running every timer that falls due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		var next *fakeTimer
		for i, t := range c.timers {
			if t.stopped {
				continue
			}
			if !t.at.After(end) {
				next = t
				c.timers = append(c.timers[:i:i], c.timers[i+1:]...)
			}
			break
		}
		if next == nil {
			c.now = end
			c.timers = compact(c.timers)
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

func compact(ts []*fakeTimer) []*fakeTimer {
	out := ts[:0]
	for _, t := range ts {
		if !t.stopped {
			out = append(out, t)
		}
	}
	return out
}

// memLog is an in-memory Log. fail makes appends fail; block makes Replay
// wait until released.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]Record
	fail  error
	block chan struct{}
}

func newMemLog() *memLog { return &memLog{parts: make(map[int32][]Record)} }

func (l *memLog) Append(ctx context.Context, p int32, recs []Record) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return -1, l.fail
	}
	off := int64(len(l.parts[p]))
	l.parts[p] = append(l.parts[p], recs...)
	return off, nil
}

// reader is the runtime's read of partition p; it waits for block first.
func (l *memLog) reader(p int32) coordinator.ReadFunc {
	return func(ctx context.Context, fn func(coordinator.Replayed) error) error { return l.replay(ctx, p, fn) }
}

func (l *memLog) replay(ctx context.Context, p int32, fn func(coordinator.Replayed) error) error {
	l.mu.Lock()
	block := l.block
	l.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	recs := append([]Record(nil), l.parts[p]...)
	l.mu.Unlock()
	for i, r := range recs {
		if err := fn(coordinator.Replayed{Offset: int64(i), Key: r.Key, Value: r.Value, ProducerID: -1, ProducerEpoch: -1}); err != nil {
			return err
		}
	}
	return nil
}

// states decodes the records of partition p for id, in order.
func (l *memLog) states(t *testing.T, p int32, id string) []*meta {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*meta
	for _, r := range l.parts[p] {
		k, ok, err := decodeKey(r.Key)
		if err != nil || !ok {
			t.Fatalf("bad key %x: %v", r.Key, err)
		}
		if k != id {
			continue
		}
		if r.Value == nil {
			out = append(out, nil)
			continue
		}
		m, err := decodeValue(k, r.Value)
		if err != nil {
			t.Fatalf("bad value: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// fakeMarkers records marker requests; failing partitions get err.
type fakeMarkers struct {
	mu      sync.Mutex
	calls   []Marker
	failing map[TopicPartition]error
}

func (f *fakeMarkers) WriteMarkers(_ context.Context, m Marker) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, m)
	errs := make([]error, len(m.Partitions))
	for i, tp := range m.Partitions {
		errs[i] = f.failing[tp]
	}
	return errs
}

func (f *fakeMarkers) last(t *testing.T) Marker {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("no markers written")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeMarkers) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeMarkers) setFailing(tp TopicPartition, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing == nil {
		f.failing = map[TopicPartition]error{}
	}
	if err == nil {
		delete(f.failing, tp)
	} else {
		f.failing[tp] = err
	}
}

type fakeIDs struct {
	mu   sync.Mutex
	next int64
}

func (f *fakeIDs) NextProducerID(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	return id, nil
}

var errMarkerRetry = errors.New("not leader yet")

// env is one coordinator over fakes, leading every partition of a
// numPartitions-partition __transaction_state.
type env struct {
	t       *testing.T
	clock   *fakeClock
	log     *memLog
	markers *fakeMarkers
	ids     *fakeIDs
	set     Settings
	c       *Coordinator
	n       int32
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, clock: newFakeClock(), log: newMemLog(), markers: &fakeMarkers{}, ids: &fakeIDs{next: 1000},
		set: Settings{}.Defaults(), n: 4}
	e.start()
	return e
}

// start (re)builds the coordinator over the same log and loads every
// partition.
func (e *env) start() {
	e.t.Helper()
	if e.c != nil {
		e.c.Close()
	}
	c, err := New(Config{Settings: e.set, Log: e.log, Clock: e.clock, Markers: e.markers, IDs: e.ids,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Close)
	c.SetPartitionCount(e.n)
	for p := int32(0); p < e.n; p++ {
		if err := c.BeginLoad(p, 7)(context.Background(), e.log.reader(p)); err != nil {
			e.t.Fatal(err)
		}
	}
	e.c = c
}

func (e *env) part(id string) int32 { return coordinator.PartitionFor(id, e.n) }

// get returns the in-memory state of id (a copy).
func (e *env) get(id string) *meta {
	e.t.Helper()
	s, err := e.c.lockShard(id)
	if err != nil {
		e.t.Fatalf("lockShard: %v", err)
	}
	defer s.mu.Unlock()
	m := s.txns[id]
	if m == nil {
		return nil
	}
	return m.clone()
}

// set replaces id's in-memory state (to reach states such as an exhausted
// epoch without 32 000 calls).
func (e *env) put(m *meta) {
	e.t.Helper()
	s, err := e.c.lockShard(m.id)
	if err != nil {
		e.t.Fatalf("lockShard: %v", err)
	}
	defer s.mu.Unlock()
	if err := s.persist(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) init(id string) (int64, int16) {
	e.t.Helper()
	pid, epoch, err := e.c.InitProducerID(context.Background(), id, 60000, -1, -1)
	if err != nil {
		e.t.Fatalf("InitProducerID(%s): %v", id, err)
	}
	return pid, epoch
}

func (e *env) add(id string, pid int64, epoch int16, tps ...TopicPartition) {
	e.t.Helper()
	if err := e.c.AddPartitions(context.Background(), id, pid, epoch, tps, 0); err != nil {
		e.t.Fatalf("AddPartitions: %v", err)
	}
}

func tp(topic string, p int32) TopicPartition { return TopicPartition{topic, p} }

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func wantState(t *testing.T, m *meta, st State) {
	t.Helper()
	if m == nil {
		t.Fatalf("no state, want %v", st)
	}
	if m.state != st {
		t.Fatalf("state %v, want %v", m.state, st)
	}
}
