package share

import (
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

type topicsMap map[string]TopicMeta

func (m topicsMap) Topic(n string) (TopicMeta, bool) { t, ok := m[n]; return t, ok }
func (m topicsMap) TopicByID(id [16]byte) (TopicMeta, bool) {
	for _, t := range m {
		if t.ID == id {
			return t, true
		}
	}
	return TopicMeta{}, false
}

func hb(group, member string, epoch int32, topics ...string) *kmsg.ShareGroupHeartbeatRequest {
	r := kmsg.NewPtrShareGroupHeartbeatRequest()
	r.Version = 1
	r.GroupID, r.MemberID, r.MemberEpoch = group, member, epoch
	if topics != nil {
		r.SubscribedTopicNames = topics
	}
	return r
}

func newTestManager(t *testing.T) (*Manager, *fakeClock) {
	clk := &fakeClock{t0}
	m, err := NewManager(Config{}.Defaults(), clk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

func count(a *kmsg.ShareGroupHeartbeatResponseAssignment) int {
	n := 0
	for _, tp := range a.TopicPartitions {
		n += len(tp.Partitions)
	}
	return n
}

func TestHeartbeatAssignsEvenly(t *testing.T) {
	m, _ := newTestManager(t)
	topics := topicsMap{"t": {ID: [16]byte{1}, Name: "t", Partitions: 6}}
	epochs := map[string]int32{}
	for _, id := range []string{"a", "b", "c"} {
		r := m.Heartbeat(hb("g", id, 0, "t"), topics, Client{})
		if r.ErrorCode != 0 {
			t.Fatalf("join %s: %v", id, kerr.ErrorForCode(r.ErrorCode))
		}
		epochs[id] = r.MemberEpoch
	}
	total := 0
	for _, id := range []string{"a", "b", "c"} {
		r := m.Heartbeat(hb("g", id, epochs[id]), topics, Client{})
		if r.ErrorCode != 0 || r.MemberEpoch != 3 {
			t.Fatalf("%s: %v epoch %d", id, kerr.ErrorForCode(r.ErrorCode), r.MemberEpoch)
		}
		if id != "c" && r.Assignment == nil {
			t.Fatalf("%s got no new assignment after the group grew", id)
		}
		if r.Assignment != nil {
			if n := count(r.Assignment); n != 2 {
				t.Fatalf("%s has %d partitions, want 2", id, n)
			}
		}
		total += 2
	}
	d, ok := m.Describe("g", topics)
	if !ok || d.GroupState != "Stable" || len(d.Members) != 3 || d.Assignor != "simple" {
		t.Fatalf("describe %+v", d)
	}
}

func TestMoreMembersThanPartitionsShare(t *testing.T) {
	m, _ := newTestManager(t)
	topics := topicsMap{"t": {ID: [16]byte{1}, Name: "t", Partitions: 2}}
	for _, id := range []string{"a", "b", "c", "d"} {
		m.Heartbeat(hb("g", id, 0, "t"), topics, Client{})
	}
	owners := map[int32]int{}
	for _, id := range []string{"a", "b", "c", "d"} {
		r := m.Heartbeat(hb("g", id, 0, "t"), topics, Client{})
		if count(r.Assignment) != 1 {
			t.Fatalf("%s: %+v", id, r.Assignment)
		}
		owners[r.Assignment.TopicPartitions[0].Partitions[0]]++
	}
	if owners[0] != 2 || owners[1] != 2 {
		t.Fatalf("owners %v", owners)
	}
}

func TestHeartbeatErrors(t *testing.T) {
	m, clk := newTestManager(t)
	topics := topicsMap{"t": {ID: [16]byte{1}, Name: "t", Partitions: 1}}
	code := func(r *kmsg.ShareGroupHeartbeatResponse) *kerr.Error {
		e, _ := kerr.ErrorForCode(r.ErrorCode).(*kerr.Error)
		return e
	}
	if e := code(m.Heartbeat(hb("g", "a", 0), topics, Client{})); e != kerr.InvalidRequest {
		t.Fatalf("join without topics: %v", e)
	}
	if e := code(m.Heartbeat(hb("g", "", 0, "t"), topics, Client{})); e != kerr.InvalidRequest {
		t.Fatalf("empty member id: %v", e)
	}
	r := m.Heartbeat(hb("g", "a", 0, "t"), topics, Client{})
	if e := code(m.Heartbeat(hb("g", "a", r.MemberEpoch+5), topics, Client{})); e != kerr.FencedMemberEpoch {
		t.Fatalf("stale epoch: %v", e)
	}
	if e := code(m.Heartbeat(hb("g", "zz", 3), topics, Client{})); e != kerr.UnknownMemberID {
		t.Fatalf("unknown member: %v", e)
	}
	if _, err := m.Delete("g"); err == nil {
		t.Fatal("deleted a group with members")
	}
	clk.t = clk.t.Add(46 * time.Second) // session timeout
	if l := m.List(); len(l) != 1 || l[0].State != "Empty" {
		t.Fatalf("after session timeout %+v", l)
	}
	if _, err := m.Delete("g"); err != nil {
		t.Fatal(err)
	}
	if m.HasGroup("g") {
		t.Fatal("group still there")
	}
}

func TestSessions(t *testing.T) {
	m, _ := newTestManager(t)
	tp := TP{Topic: [16]byte{1}, Partition: 0}
	if _, err := m.SessionUpdate(nil, "g", "a", 1, true, nil, nil); err == nil {
		t.Fatal("epoch 1 without a session")
	}
	if ps, err := m.SessionUpdate(nil, "g", "a", 0, true, []TP{tp}, nil); err != nil || len(ps) != 1 {
		t.Fatalf("open: %v %v", ps, err)
	}
	if _, err := m.SessionUpdate(nil, "g", "a", 2, false, nil, nil); err == nil {
		t.Fatal("wrong epoch accepted")
	}
	if _, err := m.SessionUpdate(nil, "g", "a", 1, false, nil, nil); err != nil {
		t.Fatal(err)
	}
	if ps, err := m.SessionUpdate(nil, "g", "a", -1, true, nil, nil); err != nil || len(ps) != 1 {
		t.Fatalf("close: %v %v", ps, err)
	}
}
