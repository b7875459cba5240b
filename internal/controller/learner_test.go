package controller

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// addLearner adds a node that is not among the voters to tc (not started).
func (tc *tcpCluster) addLearner(id int32) *tcpNode {
	tc.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tc.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	nd := &tcpNode{id: id, dir: tc.t.TempDir(), addr: addr, snapshotEvery: 8}
	tc.nodes[id] = nd
	return nd
}

func (tc *tcpCluster) mustStart(nd *tcpNode) {
	tc.t.Helper()
	if err := tc.start(nd); err != nil {
		tc.t.Fatalf("start node %d: %v", nd.id, err)
	}
}

func leaderStatus(t *testing.T, c *Controller) QuorumStatus {
	t.Helper()
	var st QuorumStatus
	waitFor(t, "the leader's quorum status", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var err error
		st, err = c.LeaderStatus(ctx)
		return err == nil
	})
	return st
}

func observerIDs(st QuorumStatus) []int32 {
	var ids []int32
	for _, o := range st.Observers {
		ids = append(ids, o.NodeID)
	}
	return ids
}

// A node that is not a voter joins as a raft learner: it catches up (from
// a snapshot, the voters having compacted their logs), proposes through
// the leader, is listed as an observer, is heard by the leader (liveness),
// survives restarts of itself and of the voters without being re-added,
// and keeps following across a leader change.
func TestLearnerJoinsFollowsAndRestarts(t *testing.T) {
	tc := newTCPCluster(t, 3)
	tc.startAll(1, 2, 3)
	leader := tc.leader()
	// More entries than a snapshot's worth, so the voters compact and the
	// learner must start from a snapshot.
	registerBrokers(t, leader.c, 1, 2, 3)
	for i := range 12 {
		proposeRetry(t, leader.c, metadata.AllocateProducerIDs{BrokerID: 1, Count: int32(i + 1)})
	}
	waitFor(t, "voters to converge", tc.converged)

	lrn := tc.addLearner(4)
	tc.mustStart(lrn)
	if !lrn.c.IsLearner() || lrn.c.LeaderID() < 0 {
		t.Fatalf("learner: IsLearner=%v leader=%d", lrn.c.IsLearner(), lrn.c.LeaderID())
	}
	if n := lrn.c.members.joins.Load(); n < 1 {
		t.Fatalf("a fresh learner sent %d join requests", n)
	}
	waitFor(t, "the learner to catch up", tc.converged)
	if snaps, _ := snapFiles(fs.OS(), lrn.dir); len(snaps) == 0 {
		t.Fatal("the learner did not start from the leader's snapshot")
	}

	// It proposes like any node; the result is the image after the record.
	img := proposeRetry(t, lrn.c, metadata.RegisterBroker{ID: 4, Host: "localhost", Port: 9094, IncarnationID: metadata.RandomUuid()})
	if img.Brokers[4] == nil {
		t.Fatal("the learner's proposal result lacks its registration")
	}
	waitFor(t, "convergence after the learner's proposal", tc.converged)

	// Every voter knows its controller listener; the leader lists it as an
	// observer with its log end, and hears from it.
	for _, id := range []int32{1, 2, 3} {
		if got := tc.nodes[id].c.Learners()[4]; got != lrn.addr {
			t.Fatalf("voter %d has learner address %q, want %q", id, got, lrn.addr)
		}
	}
	leader = tc.leader()
	waitFor(t, "the leader to see the observer caught up", func() bool {
		st, err := leader.c.Status(testCtx(t))
		return err == nil && len(st.Voters) == 3 && slices.Equal(observerIDs(st), []int32{4}) &&
			st.Observers[0].LogEndOffset >= int64(st.Commit)-1 && !st.Observers[0].LastContact.IsZero()
	})
	if heard := leader.c.lastHeard(4); time.Since(heard) > time.Second {
		t.Fatalf("the leader last heard from the learner at %v", heard)
	}

	// The quorum status is the leader's wherever it is asked.
	for _, nd := range tc.nodes {
		st := leaderStatus(t, nd.c)
		if st.NodeID != leader.id || st.LeaderID != leader.id || len(st.Voters) != 3 || !slices.Equal(observerIDs(st), []int32{4}) {
			t.Fatalf("node %d: LeaderStatus %+v", nd.id, st)
		}
		for _, v := range st.Voters {
			if v.LogEndOffset <= 0 {
				t.Fatalf("node %d: voter %d has no log end: %+v", nd.id, v.NodeID, st)
			}
		}
	}

	// The learner restarts with its data dir while the log moves on: it
	// is already a member and does not ask to join again.
	tc.stop(lrn)
	for i := range 10 {
		proposeRetry(t, leader.c, metadata.AllocateProducerIDs{BrokerID: 1, Count: int32(i + 1)})
	}
	tc.mustStart(lrn)
	waitFor(t, "the restarted learner to catch up", tc.converged)
	if n := lrn.c.members.joins.Load(); n != 0 {
		t.Fatalf("a restarted learner sent %d join requests", n)
	}
	proposeRetry(t, lrn.c, metadata.AllocateProducerIDs{BrokerID: 4, Count: 1})

	// A voter restarted from its snapshot knows the learner's address at
	// once (it is in the snapshot, the conf change long compacted away).
	var voter *tcpNode
	for _, id := range []int32{1, 2, 3} {
		if id != leader.id {
			voter = tc.nodes[id]
		}
	}
	tc.stop(voter)
	voter.snapshotEvery = 1 << 20
	tc.mustStart(voter)
	if got := voter.c.Learners()[4]; got != lrn.addr {
		t.Fatalf("restarted voter has learner address %q, want %q", got, lrn.addr)
	}

	// The leader goes away: a new one is elected among the voters, reaches
	// the learner, and the learner's proposals still commit.
	tc.stop(leader)
	newLeader := tc.leader()
	if newLeader == leader || newLeader == lrn {
		t.Fatalf("leader after failover: node %d", newLeader.id)
	}
	proposeRetry(t, lrn.c, metadata.AllocateProducerIDs{BrokerID: 4, Count: 1})
	waitFor(t, "convergence after failover", tc.converged)
	waitFor(t, "the new leader to hear from the learner", func() bool {
		return time.Since(newLeader.c.lastHeard(4)) < 500*time.Millisecond
	})
}

// Proposals from other nodes that could corrupt the membership or make raft
// panic are dropped; the quorum is unharmed.
func TestRemoteConfChangesAreVetted(t *testing.T) {
	tc := newTCPCluster(t, 3)
	tc.startAll(1, 2, 3)
	leader := tc.leader()

	cc := func(typ raftpb.ConfChangeType, id uint64, ctx []byte) []byte {
		b, _ := proto.Marshal(&raftpb.ConfChange{Type: typ.Enum(), NodeId: new(id), Context: ctx})
		return b
	}
	addr := encodeLearnerContext("127.0.0.1:1")
	prop := func(from uint64, term uint64, entries ...*raftpb.Entry) *raftpb.Message {
		m := &raftpb.Message{Type: raftpb.MessageType_MsgProp.Enum(), From: new(from), To: new(RaftID(leader.id)), Entries: entries}
		if term != 0 {
			m.Term = new(term)
		}
		return m
	}
	confEntry := func(data []byte) *raftpb.Entry {
		return &raftpb.Entry{Type: raftpb.EntryType_EntryConfChange.Enum(), Data: data}
	}
	bad := map[string]*raftpb.Message{
		"add voter":                prop(9, 0, confEntry(cc(raftpb.ConfChangeType_ConfChangeAddNode, 9, addr))),
		"remove voter":             prop(9, 0, confEntry(cc(raftpb.ConfChangeType_ConfChangeRemoveNode, 2, nil))),
		"demote a voter":           prop(RaftID(2), 0, confEntry(cc(raftpb.ConfChangeType_ConfChangeAddLearnerNode, RaftID(2), addr))),
		"add someone else":         prop(9, 0, confEntry(cc(raftpb.ConfChangeType_ConfChangeAddLearnerNode, 10, addr))),
		"no address":               prop(9, 0, confEntry(cc(raftpb.ConfChangeType_ConfChangeAddLearnerNode, 9, nil))),
		"undecodable conf change":  prop(9, 0, confEntry([]byte{0xff, 0xff, 0xff})),
		"conf change v2":           prop(9, 0, &raftpb.Entry{Type: raftpb.EntryType_EntryConfChangeV2.Enum(), Data: []byte{}}),
		"empty proposal":           prop(9, 0),
		"proposal carrying a term": prop(9, 7, &raftpb.Entry{Data: []byte("x")}),
	}
	for name, m := range bad {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(name, err)
		}
		// Each on a connection of its own whose hello names the sender,
		// so that the leader's vetting, not the transport's sender check,
		// is what meets it.
		c, err := net.Dial("tcp", leader.addr)
		if err != nil {
			t.Fatal(err)
		}
		frame := appendHello(nil, hello{Version: helloVersion, NodeID: NodeID(m.GetFrom())})
		frame = append(frame, binary.BigEndian.AppendUint32(nil, uint32(len(b)))...)
		if _, err := c.Write(append(frame, b...)); err != nil {
			t.Fatal(name, err)
		}
		c.Close()
		if err := leader.c.checkRemote(m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A follower would forward them too; it vets them first.
	for _, nd := range tc.nodes {
		if nd != leader {
			for name, m := range bad {
				if err := nd.c.checkRemote(m); err == nil {
					t.Errorf("%s: accepted by a follower", name)
				}
			}
		}
	}
	registerBrokers(t, tc.leader().c, 1)
	waitFor(t, "convergence", tc.converged)
	st, err := tc.leader().c.Status(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Voters) != 3 || len(st.Observers) != 0 {
		t.Fatalf("membership changed: %+v", st)
	}
}

// A committed AddLearnerNode naming a voter is cancelled on apply; one
// naming a new node makes it a learner and records its address.
func TestApplyConfChange(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	closeC(t, c) // the loop is gone: drive the apply step directly
	demote := &raftpb.ConfChange{Type: raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), NodeId: new(RaftID(1)), Context: encodeLearnerContext("127.0.0.1:1")}
	c.applyConfChange(100, demote)
	if v, l := c.confState.GetVoters(), c.confState.GetLearners(); !slices.Equal(v, []uint64{RaftID(1)}) || len(l) != 0 {
		t.Fatalf("after a demotion: voters %v learners %v", v, l)
	}
	add := &raftpb.ConfChange{Type: raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), NodeId: new(RaftID(5)), Context: encodeLearnerContext("127.0.0.1:5555")}
	c.applyConfChange(101, add)
	if l := c.confState.GetLearners(); !slices.Equal(l, []uint64{RaftID(5)}) || c.Learners()[5] != "127.0.0.1:5555" {
		t.Fatalf("after adding a learner: learners %v, addresses %v", l, c.Learners())
	}
	// Added again with a new address: still one learner, address updated.
	c.applyConfChange(102, &raftpb.ConfChange{Type: raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), NodeId: new(RaftID(5)), Context: encodeLearnerContext("127.0.0.1:6666")})
	if l := c.confState.GetLearners(); !slices.Equal(l, []uint64{RaftID(5)}) || c.Learners()[5] != "127.0.0.1:6666" {
		t.Fatalf("after re-adding a learner: learners %v, addresses %v", l, c.Learners())
	}
}

func TestSnapshotDataEnvelope(t *testing.T) {
	img := []byte{1, '{', '}'}
	data, err := encodeSnapshotData(img, map[int32]string{4: "h:1", 7: "h:2"})
	if err != nil {
		t.Fatal(err)
	}
	got, learners, err := decodeSnapshotData(data)
	if err != nil || !bytes.Equal(got, img) || len(learners) != 2 || learners[4] != "h:1" || learners[7] != "h:2" {
		t.Fatalf("round trip: %q %v %v", got, learners, err)
	}
	// Data without the envelope (older snapshots) is an image.
	got, learners, err = decodeSnapshotData(img)
	if err != nil || !bytes.Equal(got, img) || learners != nil {
		t.Fatalf("legacy: %q %v %v", got, learners, err)
	}
	for _, bad := range [][]byte{data[:3], data[:7], append([]byte{snapDataEnvelope, 0, 0, 0, 2}, '[', ']')} {
		if _, _, err := decodeSnapshotData(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: err = %v, want ErrCorrupt", bad, err)
		}
	}
}

// A voter's data dir cannot come back as a learner, and a log made for
// other voters is refused.
func TestLearnerMembershipMismatch(t *testing.T) {
	tc := newTCPCluster(t, 3)
	tc.startAll(1, 2, 3)
	waitFor(t, "convergence", tc.converged)
	nd := tc.nodes[1]
	tc.stop(nd)
	for name, voters := range map[string]map[int32]string{
		"voter as learner": {2: tc.voters[2], 3: tc.voters[3], 4: "127.0.0.1:1"},
		"other voters":     {1: tc.voters[1], 2: tc.voters[2], 5: "127.0.0.1:1"},
	} {
		tr, err := NewTCPTransport(TCPConfig{NodeID: 1, Listen: "127.0.0.1:0", Peers: voters})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t, nd.dir)
		cfg.Voters, cfg.Transport = voters, tr
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := Open(ctx, cfg)
		cancel()
		tr.Close()
		if err == nil {
			c.Close()
			t.Fatalf("%s: opened", name)
		}
		if !errors.Is(err, ErrMembershipMismatch) {
			t.Fatalf("%s: err = %v, want ErrMembershipMismatch", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// The request channel of the TCP transport: answered by the handler,
// errors come back as errors, and unknown peers are refused.
func TestTCPTransportRequest(t *testing.T) {
	a, err := NewTCPTransport(TCPConfig{NodeID: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewTCPTransport(TCPConfig{NodeID: 2, Listen: "127.0.0.1:0", Peers: map[int32]string{1: a.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Start(func(context.Context, *raftpb.Message) error { return nil })
	b.Start(func(context.Context, *raftpb.Message) error { return nil })
	ctx := testCtx(t)
	if _, err := b.Request(ctx, 1, 1, nil); err == nil {
		t.Fatal("a request before a handler is installed succeeded")
	}
	a.SetRequestHandler(func(_ context.Context, kind byte, req []byte) ([]byte, error) {
		if kind != 1 {
			return nil, errors.New("unknown kind")
		}
		return append([]byte("echo:"), req...), nil
	})
	got, err := b.Request(ctx, 1, 1, []byte("hi"))
	if err != nil || string(got) != "echo:hi" {
		t.Fatalf("Request = %q, %v", got, err)
	}
	if _, err := b.Request(ctx, 1, 2, nil); err == nil {
		t.Fatal("a failing handler's error was lost")
	}
	if _, err := b.Request(ctx, 3, 1, nil); err == nil {
		t.Fatal("a request to an unknown node succeeded")
	}
	// A learner's address arrives at run time.
	if _, err := a.Request(ctx, 2, 1, nil); err == nil {
		t.Fatal("a request to a peer not yet known succeeded")
	}
	b.SetRequestHandler(func(context.Context, byte, []byte) ([]byte, error) { return []byte("b"), nil })
	a.SetPeer(2, b.AdvertisedAddr())
	if got, err := a.Request(ctx, 2, 1, nil); err != nil || string(got) != "b" {
		t.Fatalf("Request after SetPeer = %q, %v", got, err)
	}
}

// The active controller hears a learner through its answers to appends and
// heartbeats: a live broker-only node stays unfenced, a stopped one is
// fenced, and it is unfenced when it comes back.
func TestLivenessOfLearnerBroker(t *testing.T) {
	tc := newTCPCluster(t, 3)
	for _, nd := range tc.nodes {
		nd.session = 600 * time.Millisecond
	}
	tc.startAll(1, 2, 3)
	lrn := tc.addLearner(4)
	lrn.session = 600 * time.Millisecond
	tc.mustStart(lrn)
	proposeRetry(t, lrn.c, metadata.RegisterBroker{ID: 4, Host: "localhost", Port: 9094, IncarnationID: metadata.RandomUuid()})
	time.Sleep(1500 * time.Millisecond) // several session timeouts
	if b := tc.leader().c.Image().Brokers[4]; b == nil || b.Fenced {
		t.Fatalf("live learner broker: %+v", b)
	}
	tc.stop(lrn)
	waitFor(t, "the stopped learner broker to be fenced", func() bool {
		b := tc.leader().c.Image().Brokers[4]
		return b != nil && b.Fenced
	})
	tc.mustStart(lrn)
	inc := tc.leader().c.Image().Brokers[4].IncarnationID
	proposeRetry(t, lrn.c, metadata.UnfenceBroker{ID: 4, IncarnationID: inc})
	waitFor(t, "the returning learner broker to be unfenced", func() bool {
		return !tc.leader().c.Image().Brokers[4].Fenced
	})
}
