package clustertest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClusterOptions configures StartCluster. The zero value starts nodes with
// fresh data directories and default settings.
type ClusterOptions struct {
	// Args are extra command-line arguments for every node.
	Args []string
	// Env holds extra KEY=VALUE entries for every node.
	Env []string
	// Config, if set, is written to a server.properties passed to every
	// node with --config.
	Config string
}

// Cluster is a multi-node quorum of real processes on loopback: every node
// is a voter and a broker (combined mode).
type Cluster struct {
	Nodes []*ClusterNode
	// Voters is the --voters value every node was started with.
	Voters string
}

// ClusterNode is one node of a Cluster.
type ClusterNode struct {
	*Node
	// ID is the node id (1..n).
	ID int32
	// ControllerAddr is the node's raft listener.
	ControllerAddr string
}

// StartCluster starts n combined broker+controller nodes with ids 1..n,
// --voters listing all of them and a --controller-listen each, and waits
// until every node answers ApiVersions (which a node does only once the
// quorum has formed and it has registered). Nodes stop when the test ends.
func StartCluster(t testing.TB, n int, opts ClusterOptions) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("clustertest: StartCluster with %d nodes", n)
	}
	bin := Binary(t)
	c := &Cluster{}
	var voters []string
	for i := range n {
		id := int32(i + 1)
		kp, err1 := freePort()
		cp, err2 := freePort()
		if err1 != nil || err2 != nil {
			t.Fatalf("clustertest: %v %v", err1, err2)
		}
		cn := &ClusterNode{
			Node: &Node{t: t, DataDir: t.TempDir(), env: opts.Env,
				Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(kp))},
			ID:             id,
			ControllerAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(cp)),
		}
		c.Nodes = append(c.Nodes, cn)
		voters = append(voters, fmt.Sprintf("%d@%s", id, cn.ControllerAddr))
	}
	c.Voters = strings.Join(voters, ",")
	for _, cn := range c.Nodes {
		logDir := t.TempDir()
		cn.LogPath = filepath.Join(logDir, "samsa.log")
		if opts.Config != "" {
			cfg := filepath.Join(logDir, "server.properties")
			if err := os.WriteFile(cfg, []byte(opts.Config), 0o644); err != nil {
				t.Fatalf("clustertest: write config: %v", err)
			}
			cn.args = append(cn.args, "--config", cfg)
		}
		cn.args = append(cn.args,
			"--node-id", strconv.Itoa(int(cn.ID)),
			"--voters", c.Voters,
			"--controller-listen", cn.ControllerAddr,
		)
		cn.args = append(cn.args, opts.Args...)
		t.Cleanup(func() {
			cn.shutdown()
			if t.Failed() || os.Getenv("SAMSA_TEST_LOG") == "1" {
				cn.dumpLog()
			}
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, cn := range c.Nodes {
		wg.Go(func() { errs[i] = cn.start(bin) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("clustertest: start node %d: %v", c.Nodes[i].ID, err)
		}
	}
	return c
}

// Bootstrap lists the nodes' Kafka addresses.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr)
	}
	return out
}

// Node returns the node with the given id, or nil.
func (c *Cluster) Node(id int32) *ClusterNode {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Client returns a franz-go client seeded with every running node, closed
// when the test ends.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	var seeds []string
	for _, n := range c.Nodes {
		if n.Running() {
			seeds = append(seeds, n.Addr)
		}
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("clustertest: new client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}
