package clustertest

import (
	"errors"
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

	// Proxied routes every link between nodes through a Proxy (proxy.go):
	// each directed raft link i→j to a voter j has its own proxy (node i
	// is started with its own --voters, in which node j's address is the
	// proxy i→j; --controller-listen stays the node's real raft listener;
	// links to a broker-only node use the address it announces and are
	// not proxied), and every
	// broker's replication listener has a proxy in front of it (the node
	// gets --replication-listen on a free port and
	// --advertised-replication-listen naming the proxy, so followers fetch
	// through it; with InterBrokerListener, that listener instead). While
	// the binary lacks --replication-listen the test is skipped. See
	// Cluster.IsolateController, IsolateReplication and Heal.
	Proxied bool
	// ControllerOnly starts the n voters with --roles controller: they
	// serve no Kafka listener, and are ready once the log says the
	// controller is serving.
	ControllerOnly bool
	// Brokers adds broker-only nodes (--roles broker, not in --voters)
	// with ids n+1..n+Brokers.
	Brokers int
	// InterBrokerListener, if set, names a second Kafka listener (say
	// INTERNAL) every broker gets on a free port beside its PLAINTEXT one
	// at Addr: --listen PLAINTEXT://Addr,NAME://127.0.0.1:port (its address
	// is ClusterNode.ReplicationAddr). Its protocol and security settings,
	// and inter.broker.listener.name=NAME, go in Config. With Proxied it
	// takes the place of --replication-listen: the replication proxy is in
	// front of it and the node advertises NAME://proxy (--advertised-listen),
	// so followers fetch through the proxy, which forwards bytes and so
	// carries TLS too.
	InterBrokerListener string

	// raftOnly (this package's tests) proxies the raft links only.
	raftOnly bool
}

// Cluster is a multi-node quorum of real processes on loopback. By default
// every node is a voter and a broker (combined mode).
type Cluster struct {
	Nodes []*ClusterNode
	// Voters is the --voters value with every node's real raft listener
	// (with Proxied each node is started with its own variant).
	Voters string

	t testing.TB
	// raft holds the proxy of each directed raft link {from, to}.
	raft map[[2]int32]*Proxy
	// repl holds the proxy in front of each broker's replication listener.
	repl map[int32]*Proxy
}

// ClusterNode is one node of a Cluster.
type ClusterNode struct {
	*Node
	// ID is the node id (1..n for voters, then the broker-only nodes).
	ID int32
	// ControllerAddr is the node's raft listener (for a broker-only node,
	// the listener it follows the log on as a raft learner).
	ControllerAddr string
	// Controller and Broker are the node's roles.
	Controller, Broker bool
	// ReplicationAddr is the node's real replication listener (with
	// Proxied or InterBrokerListener; "" otherwise). With Proxied,
	// followers reach it through ReplicationProxy.
	ReplicationAddr string
}

// StartCluster starts n combined broker+controller nodes with ids 1..n
// (see ClusterOptions for proxies, controller-only and broker-only nodes),
// --voters listing all of them and a --controller-listen each, and waits
// until every broker answers ApiVersions (which a node does only once the
// quorum has formed and it has registered) and every controller-only node
// says it is serving. Nodes stop, and proxies close, when the test ends.
func StartCluster(t testing.TB, n int, opts ClusterOptions) *Cluster {
	t.Helper()
	c, err := TryStartCluster(t, n, opts)
	if err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	return c
}

// TryStartCluster is StartCluster returning a node's failure to start (with
// the tail of its log) instead of failing the test, for tests that expect a
// start to fail or want to say which kind of node did not start. Nodes that
// did start are still stopped when the test ends.
func TryStartCluster(t testing.TB, n int, opts ClusterOptions) (*Cluster, error) {
	t.Helper()
	if n < 1 || opts.Brokers < 0 {
		t.Fatalf("clustertest: StartCluster with %d voters and %d broker-only nodes", n, opts.Brokers)
	}
	bin := Binary(t)
	proxyRepl := opts.Proxied && !opts.raftOnly
	if proxyRepl && opts.InterBrokerListener == "" {
		RequireServeFlag(t, "--replication-listen")
		RequireServeFlag(t, "--advertised-replication-listen")
	}
	c := &Cluster{t: t, raft: map[[2]int32]*Proxy{}, repl: map[int32]*Proxy{}}
	total := n + opts.Brokers
	var voters []string
	for i := range total {
		id := int32(i + 1)
		kp, err := freePort()
		if err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		cn := &ClusterNode{
			Node: &Node{t: t, DataDir: t.TempDir(), env: opts.Env,
				Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(kp))},
			ID:         id,
			Controller: i < n,
			Broker:     i >= n || !opts.ControllerOnly,
		}
		cp, err := freePort()
		if err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		cn.ControllerAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cp))
		if cn.Controller {
			voters = append(voters, fmt.Sprintf("%d@%s", id, cn.ControllerAddr))
		}
		if cn.Broker && (proxyRepl || opts.InterBrokerListener != "") {
			rp, err := freePort()
			if err != nil {
				t.Fatalf("clustertest: %v", err)
			}
			cn.ReplicationAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(rp))
			if proxyRepl {
				c.repl[id] = StartProxy(t, cn.ReplicationAddr)
			}
		}
		c.Nodes = append(c.Nodes, cn)
	}
	c.Voters = strings.Join(voters, ",")
	if opts.Proxied {
		for _, from := range c.Nodes {
			for _, to := range c.Nodes {
				if from != to && to.Controller {
					c.raft[[2]int32{from.ID, to.ID}] = StartProxy(t, to.ControllerAddr)
				}
			}
		}
	}

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
			"--voters", c.votersFor(cn.ID),
		)
		switch {
		case cn.Controller && cn.Broker:
			cn.args = append(cn.args, "--controller-listen", cn.ControllerAddr)
		case cn.Controller:
			cn.args = append(cn.args, "--roles", "controller", "--controller-listen", cn.ControllerAddr)
		default:
			// A broker-only node follows the log as a raft learner
			// and needs a listener of its own for the leader's appends.
			cn.args = append(cn.args, "--roles", "broker", "--controller-listen", cn.ControllerAddr)
		}
		cn.args = append(cn.args, c.replicationArgs(cn, opts.InterBrokerListener)...)
		cn.args = append(cn.args, opts.Args...)
	}
	// At the end: heal every link and resume paused nodes so that each
	// stops cleanly, then stop the nodes in parallel. (One after the other,
	// the last node would have lost the quorum and wait out its controlled
	// shutdown.) Proxies were registered earlier, so they close after.
	t.Cleanup(func() {
		c.Heal()
		// Broker-only nodes first, while the controllers still answer
		// their controlled shutdown; then the voters.
		for _, voters := range []bool{false, true} {
			var wg sync.WaitGroup
			for _, cn := range c.Nodes {
				if cn.Controller == voters {
					cn.Resume()
					wg.Go(cn.shutdown)
				}
			}
			wg.Wait()
		}
		if t.Failed() || os.Getenv("SAMSA_TEST_LOG") == "1" {
			for _, cn := range c.Nodes {
				cn.dumpLog()
			}
		}
	})

	var wg sync.WaitGroup
	errs := make([]error, total)
	for i, cn := range c.Nodes {
		wg.Go(func() { errs[i] = cn.startAny(bin) })
	}
	wg.Wait()
	var failed []error
	for i, err := range errs {
		if err != nil {
			cn := c.Nodes[i]
			failed = append(failed, fmt.Errorf("start node %d (%s): %w\n--- log tail ---\n%s", cn.ID, cn.roles(), err, readTail(cn.LogPath, 3000)))
		}
	}
	return c, errors.Join(failed...)
}

// replicationArgs are the flags of the listener followers fetch from:
// --replication-listen behind its proxy, or the named inter-broker
// listener (ClusterOptions.InterBrokerListener), advertised as its proxy
// if it has one.
func (c *Cluster) replicationArgs(cn *ClusterNode, name string) []string {
	switch {
	case cn.ReplicationAddr == "":
		return nil
	case name == "":
		return []string{"--replication-listen", cn.ReplicationAddr,
			"--advertised-replication-listen", c.repl[cn.ID].Addr}
	}
	cn.listeners = []string{name + "://" + cn.ReplicationAddr}
	if p := c.repl[cn.ID]; p != nil {
		return []string{"--advertised-listen", name + "://" + p.Addr}
	}
	return nil
}

// votersFor is the --voters value node id is started with: with proxies,
// every other voter's address is the proxy of the link id→voter.
func (c *Cluster) votersFor(id int32) string {
	var out []string
	for _, v := range c.Nodes {
		if !v.Controller {
			continue
		}
		addr := v.ControllerAddr
		if p := c.raft[[2]int32{id, v.ID}]; p != nil {
			addr = p.Addr
		}
		out = append(out, fmt.Sprintf("%d@%s", v.ID, addr))
	}
	return strings.Join(out, ",")
}

func (cn *ClusterNode) roles() string {
	switch {
	case cn.Controller && cn.Broker:
		return "broker,controller"
	case cn.Controller:
		return "controller"
	default:
		return "broker"
	}
}

// startAny starts the node and waits for its readiness: ApiVersions for a
// broker, the "controller is serving" log line for a controller-only node.
func (cn *ClusterNode) startAny(bin string) error {
	if cn.Broker {
		return cn.start(bin)
	}
	return cn.startController(bin)
}

// Bootstrap lists the brokers' Kafka addresses.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, n := range c.Nodes {
		if n.Broker {
			out = append(out, n.Addr)
		}
	}
	return out
}

// Brokers returns the nodes that serve Kafka clients.
func (c *Cluster) Brokers() []*ClusterNode {
	var out []*ClusterNode
	for _, n := range c.Nodes {
		if n.Broker {
			out = append(out, n)
		}
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

// RunningBootstrap lists the Kafka addresses of the brokers running now
// and not paused.
func (c *Cluster) RunningBootstrap() []string {
	var seeds []string
	for _, n := range c.Nodes {
		if n.Broker && n.Running() && !n.Paused() {
			seeds = append(seeds, n.Addr)
		}
	}
	return seeds
}

// Client returns a franz-go client seeded with every running (and not
// paused) broker, closed
// when the test ends.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(c.RunningBootstrap()...)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("clustertest: new client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// RaftProxy is the proxy carrying raft messages from node from to node
// to, or nil without Proxied.
func (c *Cluster) RaftProxy(from, to int32) *Proxy { return c.raft[[2]int32{from, to}] }

// ReplicationProxy is the proxy in front of node id's replication
// listener, or nil without Proxied.
func (c *Cluster) ReplicationProxy(id int32) *Proxy { return c.repl[id] }

// IsolateController cuts (blackholes) every raft link from and to node id.
func (c *Cluster) IsolateController(id int32) {
	c.t.Helper()
	if len(c.raft) == 0 {
		c.t.Fatal("clustertest: IsolateController needs ClusterOptions.Proxied")
	}
	for link, p := range c.raft {
		if link[0] == id || link[1] == id {
			p.Cut()
		}
	}
}

// IsolateReplication cuts (blackholes) the proxy in front of node id's
// replication listener: no follower can fetch from it.
func (c *Cluster) IsolateReplication(id int32) {
	c.t.Helper()
	p := c.repl[id]
	if p == nil {
		c.t.Fatalf("clustertest: IsolateReplication(%d) needs ClusterOptions.Proxied and a broker", id)
	}
	p.Cut()
}

// Heal opens every proxy again.
func (c *Cluster) Heal() {
	for _, p := range c.raft {
		p.Heal()
	}
	for _, p := range c.repl {
		p.Heal()
	}
}

// Stop resumes the node if it is paused, then stops it (Node.Stop).
func (cn *ClusterNode) Stop() {
	cn.t.Helper()
	cn.Resume()
	cn.Node.Stop()
}

// Restart resumes the node if it is paused, stops it cleanly if it is
// running, and starts it again on the same addresses and data directory,
// waiting for its readiness.
func (cn *ClusterNode) Restart(t testing.TB) {
	t.Helper()
	if err := cn.TryRestart(t); err != nil {
		t.Fatalf("clustertest: Restart node %d: %v", cn.ID, err)
	}
}

// TryRestart is Restart returning the start's failure (the node did not
// become ready within the start timeout, or exited; it is then stopped)
// instead of failing the test, for tests of a node that must not join.
func (cn *ClusterNode) TryRestart(t testing.TB) error {
	t.Helper()
	cn.Resume()
	if cn.Running() {
		if err := cn.stop(); err != nil {
			t.Errorf("clustertest: Restart %s: stop: %v", cn.Addr, err)
		}
	} else {
		// A process that died on its own is reaped first.
		cn.kill()
	}
	return cn.startAny(Binary(t))
}
