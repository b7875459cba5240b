package controller

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// tcpNode is one controller of an in-process quorum over loopback TCP.
type tcpNode struct {
	id            int32
	dir           string
	addr          string
	snapshotEvery int
	session       time.Duration // SessionTimeout; 0 = no fencing
	tr            *TCPTransport
	c             *Controller
}

type tcpCluster struct {
	t      *testing.T
	voters map[int32]string
	nodes  map[int32]*tcpNode
}

func newTCPCluster(t *testing.T, n int) *tcpCluster {
	tc := &tcpCluster{t: t, voters: map[int32]string{}, nodes: map[int32]*tcpNode{}}
	for id := int32(1); id <= int32(n); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		tc.voters[id] = addr
		tc.nodes[id] = &tcpNode{id: id, dir: t.TempDir(), addr: addr, snapshotEvery: 8}
	}
	t.Cleanup(func() {
		for _, nd := range tc.nodes {
			tc.stop(nd)
		}
	})
	return tc
}

// start opens the node's transport and controller; Open returns once a
// leader is known, so nodes of a new quorum must start concurrently.
func (tc *tcpCluster) start(nd *tcpNode) error {
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after a close
		if ln, err = net.Listen("tcp", nd.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	tr, err := NewTCPTransport(TCPConfig{NodeID: nd.id, Listener: ln, Peers: tc.voters})
	if err != nil {
		ln.Close()
		return err
	}
	cfg := testConfig(tc.t, nd.dir)
	cfg.NodeID = nd.id
	cfg.Voters = tc.voters
	cfg.Transport = tr
	cfg.SnapshotEvery = nd.snapshotEvery
	if nd.session > 0 {
		cfg.SessionTimeout, cfg.HeartbeatInterval = nd.session, nd.session/6
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Open(ctx, cfg)
	if err != nil {
		tr.Close()
		return err
	}
	nd.tr, nd.c = tr, c
	return nil
}

func (tc *tcpCluster) startAll(ids ...int32) {
	tc.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() { errs[i] = tc.start(tc.nodes[id]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tc.t.Fatalf("start node %d: %v", ids[i], err)
		}
	}
}

func (tc *tcpCluster) stop(nd *tcpNode) {
	if nd.c != nil {
		if err := nd.c.Close(); err != nil {
			tc.t.Errorf("close controller %d: %v", nd.id, err)
		}
		nd.c = nil
	}
	if nd.tr != nil {
		if err := nd.tr.Close(); err != nil {
			tc.t.Errorf("close transport %d: %v", nd.id, err)
		}
		nd.tr = nil
	}
}

// leader waits until the running nodes agree on a leader and returns it.
func (tc *tcpCluster) leader() *tcpNode {
	tc.t.Helper()
	var l int32 = -1
	waitFor(tc.t, "an agreed leader", func() bool {
		l = -1
		for _, nd := range tc.nodes {
			if nd.c == nil {
				continue
			}
			id := nd.c.LeaderID()
			if id < 0 || (l >= 0 && id != l) || tc.nodes[id] == nil || tc.nodes[id].c == nil {
				return false
			}
			l = id
		}
		return l >= 0
	})
	return tc.nodes[l]
}

func (tc *tcpCluster) converged() bool {
	var want string
	var off int64 = -1
	for _, nd := range tc.nodes {
		if nd.c == nil {
			continue
		}
		img := nd.c.Image()
		got := content(tc.t, img)
		if off == -1 {
			want, off = got, img.Offset
		} else if got != want || img.Offset != off {
			return false
		}
	}
	return true
}

func proposeRetry(t *testing.T, c *Controller, r metadata.Record) *metadata.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	img, err := c.Propose(ctx, r)
	if err != nil {
		t.Fatalf("Propose(%#v): %v", r, err)
	}
	return img
}

func TestTCPQuorum(t *testing.T) {
	tc := newTCPCluster(t, 3)
	tc.startAll(1, 2, 3)
	leader := tc.leader()
	var follower *tcpNode
	for _, nd := range tc.nodes {
		if nd != leader {
			follower = nd
		}
	}
	waitFor(t, "cluster id everywhere", func() bool {
		for _, nd := range tc.nodes {
			if nd.c.Image().ClusterID != "test-cluster" {
				return false
			}
		}
		return true
	})

	// Proposals through a follower are forwarded and answered there.
	registerBrokers(t, follower.c, 1, 2, 3)
	id := metadata.RandomUuid()
	img := proposeRetry(t, follower.c, metadata.CreateTopic{Name: "t1", ID: id, Assignments: [][]int32{{1}, {2}, {3}}})
	if img.Topics["t1"] == nil {
		t.Fatal("follower's proposal result lacks the topic")
	}
	waitFor(t, "images to converge", tc.converged)

	// The quorum status names all voters; the leader knows their offsets.
	st, err := leader.c.Status(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.LeaderID != leader.id || len(st.Voters) != 3 || st.Commit == 0 || st.Term == 0 {
		t.Fatalf("leader status: %+v", st)
	}
	for _, v := range st.Voters {
		if v.LogEndOffset <= 0 {
			t.Fatalf("leader status lacks the offset of voter %d: %+v", v.NodeID, st)
		}
	}

	// Kill the leader: the others elect a new one and keep going.
	old := leader
	tc.stop(old)
	leader = tc.leader()
	if leader == old {
		t.Fatal("the stopped node is still the leader")
	}
	var survivor *tcpNode
	for _, nd := range tc.nodes {
		if nd != leader && nd.c != nil {
			survivor = nd
		}
	}
	proposeRetry(t, survivor.c, metadata.CreateTopic{Name: "t2", ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}})

	// The old leader restarts and catches up from the log.
	if err := tc.start(old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restarted node to catch up", tc.converged)
	if old.c.Image().Topics["t2"] == nil {
		t.Fatal("restarted node lacks t2")
	}

	// A node that misses more than a snapshot's worth of entries catches
	// up from a snapshot sent over the transport (it takes none itself).
	lag := survivor
	if lag == tc.leader() {
		lag = old
	}
	names, _ := snapFiles(fs.OS(), lag.dir)
	tc.stop(lag)
	leader = tc.leader()
	for i := range 40 {
		proposeRetry(t, leader.c, metadata.AllocateProducerIDs{BrokerID: 1, Count: int32(i + 1)})
	}
	lag.snapshotEvery = 1 << 20
	if err := tc.start(lag); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lagging node to catch up", tc.converged)
	after, _ := snapFiles(fs.OS(), lag.dir)
	if len(after) == 0 || (len(names) > 0 && after[len(after)-1] <= names[len(names)-1]) {
		t.Fatalf("lagging node did not install a snapshot: before %v, after %v", names, after)
	}
	// It survives a restart from the received snapshot.
	tc.stop(lag)
	if err := tc.start(lag); err != nil {
		t.Fatal(err)
	}
	proposeRetry(t, lag.c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
	waitFor(t, "convergence after restart", tc.converged)
}

func TestTCPTransportMalformedFrames(t *testing.T) {
	tc := newTCPCluster(t, 3)
	tc.startAll(1, 2, 3)
	target := tc.nodes[1]

	frame := func(b []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
	}
	misaddressed, _ := proto.Marshal(&raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), To: new(uint64(99)), From: new(RaftID(3))})
	cases := map[string][]byte{
		"huge length":  binary.BigEndian.AppendUint32(nil, 0xffffffff),
		"zero length":  binary.BigEndian.AppendUint32(nil, 0),
		"garbage":      frame([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3}),
		"misaddressed": frame(misaddressed),
		// A length larger than what follows: the connection ends mid-frame.
		"truncated": append(binary.BigEndian.AppendUint32(nil, 1<<20), 1, 2, 3),
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", target.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// Past the hello (node 3's), to the frame checks.
			h := appendHello(nil, hello{Version: helloVersion, NodeID: 3})
			if _, err := c.Write(append(h, payload...)); err != nil {
				t.Fatal(err)
			}
			if name == "truncated" {
				c.(*net.TCPConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var b [1]byte
			if _, err := c.Read(b[:]); err != io.EOF {
				t.Fatalf("want the connection closed (EOF), got %v", err)
			}
		})
	}
	// The quorum is unharmed.
	registerBrokers(t, tc.leader().c, 1)
	waitFor(t, "convergence", tc.converged)
}

func TestSingleVoterLogRefusesQuorum(t *testing.T) {
	dir := t.TempDir()
	c := open(t, testConfig(t, dir))
	closeC(t, c)

	tc := newTCPCluster(t, 3)
	nd := tc.nodes[1]
	nd.dir = dir
	err := tc.start(nd)
	if err == nil {
		t.Fatal("a single-voter log opened as a quorum member")
	}
	if !errors.Is(err, ErrMembershipMismatch) {
		t.Fatalf("err = %v, want ErrMembershipMismatch", err)
	}
	t.Log(err)
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func TestLivenessFencesSilentBroker(t *testing.T) {
	tc := newTCPCluster(t, 3)
	for _, nd := range tc.nodes {
		nd.session = 600 * time.Millisecond
	}
	tc.startAll(1, 2, 3)
	leader := tc.leader()
	registerBrokers(t, leader.c, 1, 2, 3)
	var quiet *tcpNode
	for _, nd := range tc.nodes {
		if nd != leader {
			quiet = nd
		}
	}
	// Live brokers stay unfenced for several session timeouts.
	time.Sleep(1500 * time.Millisecond)
	for id, b := range leader.c.Image().Brokers {
		if b.Fenced {
			t.Fatalf("live broker %d fenced", id)
		}
	}
	tc.stop(quiet)
	waitFor(t, "the stopped broker to be fenced", func() bool {
		b := tc.leader().c.Image().Brokers[quiet.id]
		return b != nil && b.Fenced
	})
	for id, b := range tc.leader().c.Image().Brokers {
		if id != quiet.id && b.Fenced {
			t.Fatalf("live broker %d fenced", id)
		}
	}
	// Back (same incarnation: no re-registration), it asks to be
	// unfenced, as serve's selfUnfence does; a deposed incarnation could
	// not.
	if err := tc.start(quiet); err != nil {
		t.Fatal(err)
	}
	inc := tc.leader().c.Image().Brokers[quiet.id].IncarnationID
	proposeRetry(t, quiet.c, metadata.UnfenceBroker{ID: quiet.id, IncarnationID: inc})
	waitFor(t, "the returning broker to be unfenced", func() bool {
		return !tc.leader().c.Image().Brokers[quiet.id].Fenced
	})
}
