package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// memNet is an in-process network for tests: one inbox and one delivery
// goroutine per node. It exercises the Transport seam the TCP transport
// will use.
type memNet struct {
	mu      sync.Mutex
	inboxes map[uint64]chan *raftpb.Message
	down    map[uint64]bool
	wg      sync.WaitGroup
	stop    chan struct{}
}

func newMemNet(t *testing.T) *memNet {
	n := &memNet{inboxes: map[uint64]chan *raftpb.Message{}, down: map[uint64]bool{}, stop: make(chan struct{})}
	t.Cleanup(func() { close(n.stop); n.wg.Wait() })
	return n
}

type memTransport struct {
	net  *memNet
	self uint64
}

func (n *memNet) transport(nodeID int32) *memTransport {
	return &memTransport{net: n, self: RaftID(nodeID)}
}

func (tr *memTransport) Start(step func(context.Context, *raftpb.Message) error) {
	inbox := make(chan *raftpb.Message, 1024)
	tr.net.mu.Lock()
	tr.net.inboxes[tr.self] = inbox
	tr.net.mu.Unlock()
	tr.net.wg.Go(func() {
		for {
			select {
			case <-tr.net.stop:
				return
			case m := <-inbox:
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = step(ctx, m) // ErrClosed once the node is gone: drop
				cancel()
			}
		}
	})
}

func (tr *memTransport) Send(_ context.Context, msgs []*raftpb.Message) {
	tr.net.mu.Lock()
	defer tr.net.mu.Unlock()
	if tr.net.down[tr.self] {
		return
	}
	for _, m := range msgs {
		inbox, ok := tr.net.inboxes[m.GetTo()]
		if !ok || tr.net.down[m.GetTo()] {
			continue
		}
		select {
		case inbox <- proto.Clone(m).(*raftpb.Message): // as if serialized
		default: // full: drop, raft retransmits
		}
	}
}

func (n *memNet) setDown(nodeID int32) {
	n.mu.Lock()
	n.down[RaftID(nodeID)] = true
	n.mu.Unlock()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestThreeVoters(t *testing.T) {
	net := newMemNet(t)
	voters := map[int32]string{1: "mem:1", 2: "mem:2", 3: "mem:3"}
	cfgs := map[int32]Config{}
	for id := range voters {
		cfg := testConfig(t, t.TempDir())
		cfg.NodeID = id
		cfg.Voters = voters
		cfg.Transport = net.transport(id)
		cfgs[id] = cfg
	}
	nodes := map[int32]*Controller{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, cfg := range cfgs {
		wg.Go(func() {
			c := open(t, cfg)
			mu.Lock()
			nodes[id] = c
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(nodes) != 3 {
		t.FailNow()
	}
	leader := nodes[1].LeaderID()
	for id, c := range nodes {
		if c.LeaderID() != leader || c.IsLeader() != (id == leader) {
			t.Fatalf("node %d sees leader %d (leader=%v), node 1 sees %d", id, c.LeaderID(), c.IsLeader(), leader)
		}
	}
	var follower int32
	for id := range nodes {
		if id != leader {
			follower = id
		}
	}
	waitFor(t, "cluster id everywhere", func() bool {
		for _, c := range nodes {
			if c.Image().ClusterID != "test-cluster" {
				return false
			}
		}
		return true
	})

	// A follower's proposal is forwarded to the leader and answered on the
	// follower once applied there.
	fc := nodes[follower]
	registerBrokers(t, fc, 1, 2, 3)
	id := metadata.RandomUuid()
	img := propose(t, fc, metadata.CreateTopic{Name: "replicated", ID: id, Assignments: [][]int32{{1, 2, 3}}})
	if img.Topics["replicated"] == nil {
		t.Fatal("follower's proposal result lacks the topic")
	}
	propose(t, nodes[leader], metadata.AllocateProducerIDs{BrokerID: leader, Count: 10})
	converged := func(cs ...*Controller) func() bool {
		return func() bool {
			want := cs[0].Image()
			for _, c := range cs[1:] {
				if c.Image().Offset != want.Offset || content(t, c.Image()) != content(t, want) {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "images to converge", converged(nodes[1], nodes[2], nodes[3]))

	// Lose the leader: the other two elect a new one and keep going.
	net.setDown(leader)
	closeC(t, nodes[leader])
	var rest []*Controller
	for nid, c := range nodes {
		if nid != leader {
			rest = append(rest, c)
		}
	}
	waitFor(t, "a new leader", func() bool {
		l := rest[0].LeaderID()
		return l != -1 && l != leader && rest[1].LeaderID() == l
	})
	var img2 *metadata.Image
	waitFor(t, "a proposal after failover", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var err error
		img2, err = rest[0].Propose(ctx, metadata.AllocateProducerIDs{BrokerID: 1, Count: 5})
		return err == nil
	})
	if n := img2.NextProducerID; n < 15 || (n-10)%5 != 0 || img2.TopicsByID[id] == nil {
		t.Fatalf("after failover: %+v", img2)
	}
	waitFor(t, "survivors to converge", converged(rest...))
}
