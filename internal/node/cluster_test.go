package node

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startCluster starts n combined nodes (ids 1..n) in this process, on
// ephemeral loopback ports. The raft listeners are bound first, since
// every node must know the voters' addresses up front.
func startCluster(t *testing.T, count int) []*Node {
	t.Helper()
	return startClusterWith(t, count, nil)
}

// startClusterWith is startCluster with tweak (if set) applied to each
// node's Config.
func startClusterWith(t *testing.T, count int, tweak func(*Config)) []*Node {
	t.Helper()
	voters := map[int32]string{}
	lns := map[int32]net.Listener{}
	for id := int32(1); id <= int32(count); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		voters[id], lns[id] = ln.Addr().String(), ln
	}
	nodes := make([]*Node, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		id := int32(i + 1)
		cfg := Config{
			NodeID: id, DataDir: t.TempDir(), Listen: "127.0.0.1:0",
			ReplicationListen: "127.0.0.1:0",
			Voters:            voters, ControllerListener: lns[id], Logger: testLogger(t).With("node", id),
		}
		if tweak != nil {
			tweak(&cfg)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wg.Go(func() { nodes[i], errs[i] = Start(ctx, cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, n := range nodes {
				if n != nil {
					n.Close()
				}
			}
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Close()
		}
	})
	return nodes
}

// leaderOf asks bootstrap for the leader of topic's partition p (-1 when
// none).
func leaderOf(t *testing.T, bootstrap []string, topic string, p int32) int32 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return -1
	}
	pd, ok := md.Topics[topic].Partitions[p]
	if !ok || pd.Err != nil {
		return -1
	}
	return pd.Leader
}

// TestInProcessCluster runs a three-node cluster in one process: a topic
// with RF=3 takes acks=all writes, one leader stops (a controlled
// shutdown), another node takes over and every record is still readable.
// It starts no binary, so it runs under -short (make test-race).
func TestInProcessCluster(t *testing.T) {
	nodes := startCluster(t, 3)
	var all []string
	for _, n := range nodes {
		if n.ClusterID() != nodes[0].ClusterID() || n.ControllerAddr() == "" || n.ReplicationAddr() == "" {
			t.Fatalf("node %d: cluster %q controller %q replication %q", n.NodeID(), n.ClusterID(), n.ControllerAddr(), n.ReplicationAddr())
		}
		all = append(all, n.Addr())
	}
	const topic, records = "replicated", 300
	createTopic(t, all, topic, 3, 3)
	produce(t, all, topic, "r", records)
	if got := consumeAll(t, all, topic, records); len(got) != records {
		t.Fatalf("consumed %d of %d", len(got), records)
	}

	old := leaderOf(t, all, topic, 0)
	if old < 1 || old > 3 {
		t.Fatalf("partition 0 has leader %d", old)
	}
	if err := nodes[old-1].Close(); err != nil {
		t.Fatalf("closing leader %d: %v", old, err)
	}
	var rest []string
	for _, n := range nodes {
		if n.NodeID() != old {
			rest = append(rest, n.Addr())
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := leaderOf(t, rest, topic, 0)
		if l > 0 && l != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition 0 still led by %d after node %d stopped", l, old)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := consumeAll(t, rest, topic, records)
	for i := range records {
		if !got[fmt.Sprintf("r-%d", i)] {
			t.Fatalf("record r-%d lost after leader %d stopped", i, old)
		}
	}
	// The two remaining nodes still take writes.
	produce(t, rest, topic, "s", 30)
	got = consumeAll(t, rest, topic, records+30)
	if n := len(got); n != records+30 {
		t.Fatalf("consumed %d, want %d", n, records+30)
	}
	for _, n := range nodes {
		if err := n.Close(); err != nil {
			t.Errorf("node %d: %v", n.NodeID(), err)
		}
	}
}

// A controller-only voter and a broker-only observer: the controller runs
// only the controller steps and its services, the broker serves.
func TestControllerOnlyAndBrokerOnly(t *testing.T) {
	ctlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	obsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	voters := map[int32]string{1: ctlLn.Addr().String()}
	var tr trace
	var env ServiceEnv
	cfgs := []Config{
		{NodeID: 1, DataDir: t.TempDir(), Voters: voters, Roles: Roles{Controller: true},
			ControllerListener: ctlLn, Logger: testLogger(t).With("node", 1), hook: tr.hook,
			Services: []ServiceFactory{func(e ServiceEnv) (Service, error) { env = e; return nil, nil }}},
		{NodeID: 2, DataDir: t.TempDir(), Listen: "127.0.0.1:0", Voters: voters, Roles: Roles{Broker: true},
			ControllerListener: obsLn, Logger: testLogger(t).With("node", 2)},
	}
	nodes := make([]*Node, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wg.Go(func() { nodes[i], errs[i] = Start(ctx, cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		defer nodes[i].Close()
	}
	want := []string{"admin listener", "data dir", "clean-shutdown marker", "controller transport", "controller", "cluster id", "metrics", "services"}
	if got := tr.of("start", ""); !slices.Equal(got, want) {
		t.Fatalf("controller-only steps %v, want %v", got, want)
	}
	if nodes[0].Addr() != "" || env.Bootstrap != "" || env.ClusterID != nodes[1].ClusterID() {
		t.Fatalf("controller-only node: addr %q, service env %+v", nodes[0].Addr(), env)
	}
	bs := []string{nodes[1].Addr()}
	createTopic(t, bs, "observed", 1, 1)
	produce(t, bs, "observed", "o", 20)
	if got := consumeAll(t, bs, "observed", 20); len(got) != 20 {
		t.Fatalf("consumed %d", len(got))
	}
	if err := nodes[1].Close(); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].Close(); err != nil {
		t.Fatal(err)
	}
}
