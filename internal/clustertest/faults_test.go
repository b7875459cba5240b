package clustertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const fastLiveness = "broker.heartbeat.interval.ms=300\nbroker.session.timeout.ms=2500\n"

func eventually(t *testing.T, what string, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func brokersListedBy(ctx context.Context, cl *kgo.Client, id int32) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, b := range md.Brokers {
		ids = append(ids, b.NodeID)
	}
	slices.Sort(ids)
	return ids, nil
}

// The raft links of a Proxied cluster run through the proxies; isolating
// the active controller makes the others elect a new one and fence it, and
// healing brings it back.
func TestClusterRaftProxiesIsolateAndHeal(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Proxied: true, raftOnly: true, Config: fastLiveness})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := c.Client(t)
	leader, err := c.ActiveController(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Every link has its proxy; the leader's links (raft followers do
	// not talk to each other) carried connections.
	for from := int32(1); from <= 3; from++ {
		for to := int32(1); to <= 3; to++ {
			p := c.RaftProxy(from, to)
			if (from == to) != (p == nil) {
				t.Fatalf("RaftProxy(%d, %d) = %v", from, to, p)
			}
			if p != nil && (from == leader || to == leader) && p.Accepted() == 0 {
				t.Errorf("raft link %d→%d carried no connection", from, to)
			}
		}
	}
	if c.ReplicationProxy(1) != nil {
		t.Fatal("raft-only cluster has a replication proxy")
	}
	c.IsolateController(leader)
	var others []int32
	for _, n := range c.Nodes {
		if n.ID != leader {
			others = append(others, n.ID)
		}
	}
	for _, id := range others {
		eventually(t, fmt.Sprintf("node %d to elect a leader other than isolated %d", id, leader), 20*time.Second, func() error {
			p, err := DescribeQuorum(ctx, cl, id)
			if err != nil {
				return err
			}
			if p.LeaderID < 0 || p.LeaderID == leader {
				return fmt.Errorf("leader %d", p.LeaderID)
			}
			return nil
		})
		eventually(t, fmt.Sprintf("node %d to fence isolated %d", id, leader), 20*time.Second, func() error {
			ids, err := brokersListedBy(ctx, cl, id)
			if err != nil {
				return err
			}
			if slices.Contains(ids, leader) {
				return fmt.Errorf("brokers %v", ids)
			}
			return nil
		})
	}
	c.Heal()
	for _, n := range c.Nodes {
		eventually(t, fmt.Sprintf("node %d to list every broker after healing", n.ID), 20*time.Second, func() error {
			ids, err := brokersListedBy(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			if !slices.Equal(ids, []int32{1, 2, 3}) {
				return fmt.Errorf("brokers %v", ids)
			}
			return nil
		})
	}
}

// Pause stops a node answering; Resume brings it back; Stop, Restart and
// Kill work on a paused node, and the end of the test stops a node left
// paused cleanly.
func TestClusterPauseResume(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Config: fastLiveness})
	n := c.Node(2)
	n.Pause()
	if !n.Paused() {
		t.Fatal("Paused() false after Pause")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	if err := probe(ctx, n.Addr); err == nil {
		t.Fatal("paused node answered ApiVersions")
	}
	cancel()
	n.Resume()
	if n.Paused() {
		t.Fatal("Paused() true after Resume")
	}
	if err := probe(context.Background(), n.Addr); err != nil {
		t.Fatalf("resumed node: %v", err)
	}

	n.Pause()
	start := time.Now()
	n.Stop()
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("Stop of a paused node took %v", el)
	}
	n.Restart(t)
	n.Pause()
	n.Restart(t) // restart of a paused, running node
	if n.Paused() {
		t.Fatal("restarted node is paused")
	}
	n.Pause()
	n.Kill()
	if n.Running() {
		t.Fatal("paused node still running after Kill")
	}
	n.Restart(t)
	c.Node(3).Pause() // left paused: the cleanup resumes and stops it
}

// Controller-only voters have no Kafka listener: StartCluster and Restart
// wait for their log to say they serve.
func TestClusterControllerOnly(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{ControllerOnly: true, Config: fastLiveness})
	if got := c.Bootstrap(); len(got) != 0 {
		t.Fatalf("controller-only cluster has Kafka addresses %v", got)
	}
	n := c.Node(1)
	if n.Broker || !n.Controller {
		t.Fatalf("node 1 roles %s", n.roles())
	}
	n.Kill()
	n.Restart(t)
	c.Node(2).Stop()
	c.Node(2).Restart(t)
}

// Broker-only nodes start with --roles broker and are not in --voters.
func TestClusterBrokerOnly(t *testing.T) {
	c, err := TryStartCluster(t, 3, ClusterOptions{ControllerOnly: true, Brokers: 1, Config: fastLiveness})
	if err != nil {
		t.Fatalf("broker-only nodes do not start: %v", err)
	}
	b := c.Node(4)
	if !b.Broker || b.Controller || slices.Contains(c.Bootstrap(), c.Node(1).Addr) {
		t.Fatalf("roles: node 4 %s, bootstrap %v", b.roles(), c.Bootstrap())
	}
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eventually(t, "the broker-only node to list itself", 20*time.Second, func() error {
		ids, err := brokersListedBy(ctx, cl, 4)
		if err != nil {
			return err
		}
		if !slices.Equal(ids, []int32{4}) {
			return fmt.Errorf("brokers %v", ids)
		}
		return nil
	})
}

// TestReplicationArgs: the flags of the listener followers fetch from,
// with and without InterBrokerListener and a proxy (no process started).
func TestReplicationArgs(t *testing.T) {
	c := &Cluster{repl: map[int32]*Proxy{1: {Addr: "127.0.0.1:9"}}}
	for _, tc := range []struct {
		name      string
		cn        *ClusterNode
		listeners []string
		want      string
	}{
		{"", &ClusterNode{Node: &Node{}, ID: 2}, nil, ""},
		{"", &ClusterNode{Node: &Node{}, ID: 1, ReplicationAddr: "127.0.0.1:7"}, nil,
			"--replication-listen 127.0.0.1:7 --advertised-replication-listen 127.0.0.1:9"},
		{"INTERNAL", &ClusterNode{Node: &Node{}, ID: 1, ReplicationAddr: "127.0.0.1:7"}, []string{"INTERNAL://127.0.0.1:7"},
			"--advertised-listen INTERNAL://127.0.0.1:9"},
		{"INTERNAL", &ClusterNode{Node: &Node{}, ID: 3, ReplicationAddr: "127.0.0.1:8"}, []string{"INTERNAL://127.0.0.1:8"}, ""},
	} {
		got := strings.Join(c.replicationArgs(tc.cn, tc.name), " ")
		if got != tc.want || !slices.Equal(tc.cn.listeners, tc.listeners) {
			t.Errorf("node %d, listener %q: args %q, listeners %q; want %q, %q", tc.cn.ID, tc.name, got, tc.cn.listeners, tc.want, tc.listeners)
		}
	}
}
