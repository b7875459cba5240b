package protocol

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testWorker is a Member plus what its callbacks were told.
type testWorker struct {
	m      *Member
	cancel context.CancelFunc
	done   chan error

	mu    sync.Mutex
	gen   int32
	owned Assignment
	log   []string
}

// snapBox is a snapshot shared by the test and the members.
type snapBox struct {
	mu   sync.Mutex
	snap Snapshot
}

func (b *snapBox) get() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := Snapshot{Offset: b.snap.Offset, Connectors: map[string]int{}}
	for k, v := range b.snap.Connectors {
		c.Connectors[k] = v
	}
	return c
}

func (b *snapBox) set(s Snapshot) { b.mu.Lock(); b.snap = s; b.mu.Unlock() }

func startTestWorker(t *testing.T, cl *kgo.Client, group, url string, box *snapBox) *testWorker {
	t.Helper()
	w := &testWorker{done: make(chan error, 1), gen: -1}
	cb := Callbacks{
		Metadata: func() Metadata { return Metadata{ConfigOffset: box.get().Offset} },
		Snapshot: box.get,
		Revoked: func(a Assignment) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.log = append(w.log, fmt.Sprintf("revoked %v %v", a.RevokedConnectors, a.RevokedTasks))
		},
		Assigned: func(gen int32, a Assignment) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.gen, w.owned = gen, a
			w.log = append(w.log, fmt.Sprintf("gen %d %v %v", gen, a.Connectors, a.Tasks))
		},
	}
	w.m = NewMember(cl, MemberConfig{GroupID: group, URL: url, SessionTimeout: 6 * time.Second,
		RebalanceTimeout: 15 * time.Second, HeartbeatInterval: 300 * time.Millisecond, MaxDelay: time.Second}, cb)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- w.m.Run(ctx) }()
	t.Cleanup(w.stop)
	return w
}

func (w *testWorker) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.cancel = nil
	}
}

// converged reports whether the workers agree on a generation and their
// assignments cover snap exactly once.
func converged(ws []*testWorker, snap Snapshot) (bool, string) {
	want := configured(snap)
	got := newWork()
	gen := int32(-2)
	desc := ""
	for _, w := range ws {
		w.mu.Lock()
		g, o := w.gen, w.owned
		w.mu.Unlock()
		desc += fmt.Sprintf("[%s gen=%d leader=%v %v %v] ", w.m.MemberID(), g, w.m.IsLeader(), o.Connectors, o.Tasks)
		if gen != -2 && g != gen {
			return false, desc
		}
		gen = g
		if len(o.RevokedConnectors)+len(o.RevokedTasks) > 0 || o.Delay > 0 || o.Error != 0 {
			return false, desc
		}
		for _, c := range o.Connectors {
			if got.conns[c] {
				return false, desc + " duplicate " + c
			}
			got.conns[c] = true
		}
		for _, tk := range o.Tasks {
			if got.tasks[tk] {
				return false, desc + " duplicate " + tk.String()
			}
			got.tasks[tk] = true
		}
	}
	return want.minus(got).empty() && got.minus(want).empty(), desc
}

func waitConverged(t *testing.T, ws []*testWorker, snap Snapshot) {
	t.Helper()
	var desc string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var ok bool
		if ok, desc = converged(ws, snap); ok {
			return
		}
	}
	t.Fatalf("workers did not converge: %s", desc)
}

// TestMembersConvergeAndRebalance runs three members against a real
// node: they split the work disjointly; when one leaves, the other two
// take its work over after the scheduled delay.
func TestMembersConvergeAndRebalance(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none"}})
	snap := Snapshot{Offset: 5, Connectors: map[string]int{"a": 3, "b": 2, "c": 1}}
	box := &snapBox{snap: snap}
	var ws []*testWorker
	for i := 0; i < 3; i++ {
		cl := n.Client(t)
		ws = append(ws, startTestWorker(t, cl, "connect-test", fmt.Sprintf("http://w%d:8083", i), box))
	}
	waitConverged(t, ws, snap)
	leaders := 0
	for _, w := range ws {
		if w.m.IsLeader() {
			leaders++
		}
		if w.m.LeaderURL() == "" || w.m.Generation() < 0 {
			t.Fatalf("member state: leaderURL %q gen %d", w.m.LeaderURL(), w.m.Generation())
		}
		w.mu.Lock()
		if len(w.owned.Tasks) == 0 {
			t.Errorf("member %s got no tasks: %v", w.m.MemberID(), w.log)
		}
		w.mu.Unlock()
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
	// The leader leaves: another member leads and hands its work out
	// after the scheduled delay.
	gen := ws[0].m.Generation()
	var rest []*testWorker
	for _, w := range ws {
		if w.m.IsLeader() {
			w.stop()
		} else {
			rest = append(rest, w)
		}
	}
	waitConverged(t, rest, snap)
	if g := rest[0].m.Generation(); g <= gen {
		t.Fatalf("no new generation after the leader left: %d <= %d", g, gen)
	}
	if !rest[0].m.IsLeader() && !rest[1].m.IsLeader() {
		t.Fatal("no new leader")
	}
	// A config change: the leader's snapshot grows and a rejoin spreads it.
	box.set(Snapshot{Offset: 6, Connectors: map[string]int{"a": 3, "b": 2, "c": 1, "d": 2}})
	rest[1].m.Rejoin()
	waitConverged(t, rest, box.get())
}

// TestMemberEagerProtocol: members configured with connect.protocol
// "default" use the eager assignor and still split the work.
func TestMemberEagerProtocol(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none"}})
	snap := Snapshot{Offset: 1, Connectors: map[string]int{"a": 2, "b": 2}}
	var ws []*testWorker
	for i := 0; i < 2; i++ {
		w := &testWorker{done: make(chan error, 1), gen: -1}
		cb := Callbacks{
			Metadata: func() Metadata { return Metadata{ConfigOffset: 1} },
			Snapshot: func() Snapshot { return snap },
			Assigned: func(gen int32, a Assignment) { w.mu.Lock(); w.gen, w.owned = gen, a; w.mu.Unlock() },
		}
		w.m = NewMember(n.Client(t), MemberConfig{GroupID: "connect-eager", URL: fmt.Sprint("http://e", i),
			Protocol: "default", SessionTimeout: 6 * time.Second, HeartbeatInterval: 300 * time.Millisecond}, cb)
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go func() { w.done <- w.m.Run(ctx) }()
		t.Cleanup(w.stop)
		ws = append(ws, w)
	}
	waitConverged(t, ws, snap)
}

// TestMemberConfigMismatch: while the leader's snapshot is behind a
// member's config offset every member gets CONFIG_MISMATCH and rejoins;
// once the leader catches up the group converges.
func TestMemberConfigMismatch(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none"}})
	box := &snapBox{snap: Snapshot{Offset: 1, Connectors: map[string]int{"a": 2}}}
	var mu sync.Mutex
	mismatches := 0
	var ws []*testWorker
	for i, off := range []int64{1, 5} {
		w := &testWorker{done: make(chan error, 1), gen: -1}
		off := off
		cb := Callbacks{
			Metadata: func() Metadata { return Metadata{ConfigOffset: off} },
			Snapshot: box.get,
			Assigned: func(gen int32, a Assignment) {
				if a.Error == ErrConfigMismatch {
					mu.Lock()
					mismatches++
					mu.Unlock()
				}
				w.mu.Lock()
				w.gen, w.owned = gen, a
				w.mu.Unlock()
			},
		}
		w.m = NewMember(n.Client(t), MemberConfig{GroupID: "connect-mismatch", URL: fmt.Sprint("http://m", i),
			SessionTimeout: 6 * time.Second, HeartbeatInterval: 300 * time.Millisecond}, cb)
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go func() { w.done <- w.m.Run(ctx) }()
		t.Cleanup(w.stop)
		ws = append(ws, w)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		seen := mismatches
		mu.Unlock()
		if seen > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CONFIG_MISMATCH assignment while the leader was behind")
		}
	}
	box.set(Snapshot{Offset: 5, Connectors: map[string]int{"a": 2}})
	waitConverged(t, ws, box.get())
}
