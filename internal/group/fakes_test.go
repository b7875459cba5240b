package group

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// fakeClock fires timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at           time.Time
	f            func()
	stopped, ran bool
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
		was := !t.stopped && !t.ran
		t.stopped = true
		return was
	}
}

// Advance moves time forward by d, running due timers in time order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.ran && !t.at.After(target) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = target
			live := c.timers[:0]
			for _, t := range c.timers {
				if !t.stopped && !t.ran {
					live = append(live, t)
				}
			}
			c.timers = live
			c.mu.Unlock()
			return
		}
		if next.at.After(c.now) {
			c.now = next.at
		}
		next.ran = true
		c.mu.Unlock()
		next.f()
	}
}

// memLog is an in-memory __consumer_offsets.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]memEntry
	fail  error
}

// memEntry is one record of a memLog, or a transaction marker.
type memEntry struct {
	Record
	pid    int64 // -1: not transactional
	epoch  int16
	marker bool
	commit bool
}

func newMemLog() *memLog { return &memLog{parts: make(map[int32][]memEntry)} }

func (l *memLog) Append(ctx context.Context, p int32, recs []Record) (int64, error) {
	return l.AppendTxn(ctx, p, -1, -1, recs)
}

func (l *memLog) AppendTxn(_ context.Context, p int32, pid int64, epoch int16, recs []Record) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return -1, l.fail
	}
	off := int64(len(l.parts[p]))
	for _, r := range recs {
		l.parts[p] = append(l.parts[p], memEntry{Record: Record{Key: append([]byte(nil), r.Key...), Value: clone(r.Value)}, pid: pid, epoch: epoch})
	}
	return off, nil
}

// appendMarker writes a transaction marker, as the transaction
// coordinator's marker path does.
func (l *memLog) appendMarker(p int32, pid int64, epoch int16, commit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.parts[p] = append(l.parts[p], memEntry{pid: pid, epoch: epoch, marker: true, commit: commit})
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// reader is the runtime's read of partition p.
func (l *memLog) reader(p int32) coordinator.ReadFunc {
	return func(ctx context.Context, fn func(Replayed) error) error { return l.replay(ctx, p, fn) }
}

func (l *memLog) replay(_ context.Context, p int32, fn func(r Replayed) error) error {
	l.mu.Lock()
	ents := append([]memEntry(nil), l.parts[p]...)
	l.mu.Unlock()
	for i, e := range ents {
		r := Replayed{Offset: int64(i), Key: clone(e.Key), Value: clone(e.Value), ProducerID: e.pid, ProducerEpoch: e.epoch, Marker: e.marker, Commit: e.commit}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// records are the partition's records, markers left out.
func (l *memLog) records(p int32) []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Record
	for _, e := range l.parts[p] {
		if !e.marker {
			out = append(out, e.Record)
		}
	}
	return out
}

// topicSet says every partition below 16 of the named topics exists.
type topicSet map[string]bool

func (t topicSet) PartitionExists(topic string, p int32) bool { return t[topic] && p >= 0 && p < 16 }

type env struct {
	t     *testing.T
	c     *Coordinator
	clock *fakeClock
	log   *memLog
	set   Settings
	// img, if set, is the coordinator's topic image (Config.Images).
	img TopicImage
}

// testSettings are fast: no initial delay, 1 ms minimum session timeout.
func testSettings() Settings {
	s := Settings{}.Defaults()
	s.InitialRebalanceDelay = 0
	s.MinSessionTimeout = time.Millisecond
	return s
}

func newEnv(t *testing.T, set Settings) *env {
	e := &env{t: t, clock: newFakeClock(), log: newMemLog(), set: set}
	e.start()
	return e
}

// start (re)creates the coordinator over the same log and clock, leading
// partition 0 of 1.
func (e *env) start() {
	e.t.Helper()
	c, err := New(Config{Settings: e.set, Log: e.log, Clock: e.clock, Topics: topicSet{"t": true, "u": true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil && e.img != nil {
		img := e.img
		c.cfg.Images = func() TopicImage { return img }
	}
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetPartitionCount(1)
	if err := c.BeginLoad(0, 1)(context.Background(), e.log.reader(0)); err != nil {
		e.t.Fatal(err)
	}
	e.c = c
	e.t.Cleanup(c.Close)
}

var cl = Client{ID: "cl", Host: "/127.0.0.1"}

func joinReq(version int16, group, member string, instance *string, protos ...string) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = version
	r.Group = group
	r.MemberID = member
	r.InstanceID = instance
	r.SessionTimeoutMillis = 10_000
	r.RebalanceTimeoutMillis = 30_000
	r.ProtocolType = "consumer"
	if len(protos) == 0 {
		protos = []string{"range"}
	}
	for _, p := range protos {
		md := kmsg.NewConsumerMemberMetadata()
		md.Topics = []string{"t"}
		r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: md.AppendTo(nil)})
	}
	return r
}

// joinAsync runs JoinGroup on its own goroutine.
func (e *env) joinAsync(req *kmsg.JoinGroupRequest) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { ch <- e.c.JoinGroup(context.Background(), cl, req) }()
	return ch
}

func (e *env) syncAsync(req *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { ch <- e.c.SyncGroup(context.Background(), req) }()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no response within 5s")
	}
	var zero T
	return zero
}

func parked[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("expected the request to park, got %+v", v)
	case <-time.After(50 * time.Millisecond):
	}
}

// joinNew makes a dynamic member join (v9: MEMBER_ID_REQUIRED first) and
// returns the channel of its second join.
func (e *env) joinNew(group string) (<-chan *kmsg.JoinGroupResponse, string) {
	e.t.Helper()
	r := e.c.JoinGroup(context.Background(), cl, joinReq(9, group, "", nil))
	if r.ErrorCode != 79 { // MEMBER_ID_REQUIRED
		e.t.Fatalf("first join: error %d, want MEMBER_ID_REQUIRED", r.ErrorCode)
	}
	return e.joinAsync(joinReq(9, group, r.MemberID, nil)), r.MemberID
}

func syncReq(group, member string, gen int32, assign map[string]string) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = 5
	r.Group, r.MemberID, r.Generation = group, member, gen
	for m, a := range assign {
		r.GroupAssignment = append(r.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(a)})
	}
	return r
}

func (e *env) heartbeat(group, member string, gen int32, instance *string) int16 {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = 4
	r.Group, r.MemberID, r.Generation, r.InstanceID = group, member, gen, instance
	return e.c.Heartbeat(context.Background(), r).ErrorCode
}

func (e *env) describe(group string) kmsg.DescribeGroupsResponseGroup {
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = 5
	r.Groups = []string{group}
	return e.c.DescribeGroups(context.Background(), r).Groups[0]
}

func (e *env) commit(version int16, group, member string, gen int32, topic string, part int32, off int64, md string) int16 {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = version
	r.Group, r.MemberID, r.Generation = group, member, gen
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset, p.Metadata, p.LeaderEpoch = part, off, kmsg.StringPtr(md), 3
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
	return e.c.OffsetCommit(context.Background(), r).Topics[0].Partitions[0].ErrorCode
}

// fetched returns the committed offset (-1 if none) via OffsetFetch v8.
func (e *env) fetched(group, topic string, part int32) int64 {
	e.t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: group, MemberEpoch: -1, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: []int32{part}}}}}
	resp := e.c.OffsetFetch(context.Background(), r)
	g := resp.Groups[0]
	if g.ErrorCode != 0 {
		e.t.Fatalf("fetch offsets: error %d", g.ErrorCode)
	}
	return g.Topics[0].Partitions[0].Offset
}

func (e *env) listGroups() []kmsg.ListGroupsResponseGroup {
	r := kmsg.NewPtrListGroupsRequest()
	r.Version = 5
	return e.c.ListGroups(context.Background(), r).Groups
}
