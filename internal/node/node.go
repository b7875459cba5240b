package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/connect"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/registry"
	"github.com/samsa-streaming/samsa/internal/replication"
	"github.com/samsa-streaming/samsa/internal/restproxy"
	"github.com/samsa-streaming/samsa/internal/share"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// ErrUncleanShutdown is returned (wrapped) by Close when part of the node
// failed to stop cleanly; it has been logged, and no clean-shutdown marker
// was written.
var ErrUncleanShutdown = errors.New("node: unclean shutdown")

// Node is one running Samsa node: a broker, a controller, or both.
type Node struct {
	cfg      Config
	settings *config.Broker
	lg       *slog.Logger
	stack    *stack
	begun    time.Time

	// Set by the start-up steps (steps.go), read-only afterwards.
	dataDir      string
	meta         metaProps
	clean        bool
	member       bool // of a multi-node quorum
	tr           *controller.TCPTransport
	ctl          *controller.Controller
	ln, replLn   net.Listener
	listeners    []boundListener // the Kafka listeners, n.ln's first (listeners.go)
	freshLog     bool            // the metadata log was empty at start
	admin        *adminState     // admin.go
	lagCollector *lagCollector   // metrics_lag.go
	adminAddr    string
	metricsAddr  string
	registry     *registry.Registry                              // the schema registry service, nil when off
	rest         *restproxy.Server                               // the REST proxy service, nil when off
	connect      *connect.Server                                 // the Connect worker, nil when off
	ibDial       func(context.Context, string) (net.Conn, error) // to other brokers (security.go)
	advertised   string
	reg          metadata.RegisterBroker
	parts        *partition.Manager
	startImg     *metadata.Image
	repl         *replication.Replicator
	unfenceWake  chan struct{}
	coords       *coordinator.Runtime
	groups       *group.Coordinator
	txns         *txn.Coordinator
	shareStates  *share.Coordinator // on coords; __share_group_state
	broker       *broker.Broker
	// brokerMetrics is what the broker records, fsync the partition logs'
	// fsync times; nil with the admin listener off (metrics_broker.go).
	brokerMetrics *metrics.Broker
	fsync         *metrics.Latency

	stopping     chan struct{} // closed when a listener stopped serving on its own
	stoppingOnce sync.Once
	fatalMu      sync.Mutex
	fatal        error // why the node stopped on its own (storage.go)
	closeOnce    sync.Once
	closed       chan struct{} // closed once Close has finished
	closeErr     error
}

// Start validates cfg and starts a node in the order doc.go gives. If a
// step fails, what the earlier steps started is closed, in reverse, and
// the step's error returned. ctx bounds the start only; the node runs
// until Close.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	settings, err := cfg.brokerSettings()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, settings: settings, lg: cfg.Logger, begun: time.Now(),
		stack:    &stack{lg: cfg.Logger, hook: cfg.hook},
		stopping: make(chan struct{}), closed: make(chan struct{}),
	}
	if err := n.stack.run(ctx, n.steps()); err != nil {
		return nil, err
	}
	took := time.Since(n.begun).Round(time.Millisecond)
	n.admin.ready.Store(true)
	if n.cfg.Roles.Broker {
		n.lg.Info("samsa is serving", "addr", n.ln.Addr().String(), "advertised", n.advertised, "cluster.id", n.meta.clusterID, "startup", took)
	} else {
		n.lg.Info("samsa controller is serving", "cluster.id", n.meta.clusterID, "startup", took)
	}
	return n, nil
}

// steps lists the start-up steps of this node's roles, in order.
func (n *Node) steps() []step {
	s := []step{{"admin listener", n.startAdmin}}
	if n.cfg.Roles.Broker {
		// Before anything is opened: a broker that could not reach the
		// others must not join.
		s = append(s, step{"inter-broker security", n.setupInterBrokerDial})
	}
	s = append(s, []step{
		{"data dir", n.openDataDir},
		{"clean-shutdown marker", n.takeMarker},
		{"controller transport", n.startTransport},
		{"controller", n.openController},
		{"cluster id", n.settleClusterID},
	}...)
	if n.cfg.Roles.Broker {
		s = append(s,
			step{"listeners", n.listen},
			step{"broker registration", n.register},
			step{"partitions", n.openPartitions},
			step{"replicator", n.newReplicator},
			step{"image following", n.followPartitions},
			step{"coordinators", n.startCoordinators},
			step{"broker", n.startBroker},
			step{"background loops", n.startBackground},
			step{"serving", n.serve},
		)
	}
	return append(s, step{"metrics", n.registerMetrics}, step{"services", n.startServices})
}

// Run starts a node, runs it until ctx ends (or it stops on its own) and
// closes it. A fatal error (the metadata log cannot be written) is
// returned, with Close's.
func Run(ctx context.Context, cfg Config) error {
	n, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-n.stopping:
	}
	cerr := n.Close()
	if ferr := n.Err(); ferr != nil {
		return errors.Join(ferr, cerr)
	}
	return cerr
}

// Close stops the node in the reverse order of its start (doc.go): it
// moves its leaderships away, stops serving, and closes everything,
// writing the clean-shutdown marker if all of it closed cleanly. It
// returns an error wrapping ErrUncleanShutdown otherwise. Close is
// idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.lg.Info("shutting down")
		if n.admin != nil {
			n.admin.ready.Store(false) // /readyz fails through the controlled shutdown
		}
		if err := n.stack.unwind(); err != nil {
			n.lg.Error("unclean shutdown", "err", err)
			n.closeErr = fmt.Errorf("%w: %w", ErrUncleanShutdown, err)
		} else {
			n.lg.Info("stopped cleanly")
		}
		close(n.closed)
	})
	return n.closeErr
}

// Done is closed when the node should be closed although nobody asked: a
// listener stopped serving on its own, or the metadata log failed (Err).
// Close still has to be called.
func (n *Node) Done() <-chan struct{} { return n.stopping }

// Wait blocks until Close has finished and returns its error.
func (n *Node) Wait() error {
	<-n.closed
	return n.closeErr
}

// stop marks the node as needing to stop (Done).
func (n *Node) stop() { n.stoppingOnce.Do(func() { close(n.stopping) }) }

// Addr is the bound Kafka listener ("" on a controller-only node).
func (n *Node) Addr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// AdvertisedAddr is the address clients are told to connect to.
func (n *Node) AdvertisedAddr() string { return n.advertised }

// ReplicationAddr is the bound replication listener ("" without one).
func (n *Node) ReplicationAddr() string {
	if n.replLn == nil {
		return ""
	}
	return n.replLn.Addr().String()
}

// ControllerAddr is the bound raft listener ("" for the single-node
// cluster, which has none).
func (n *Node) ControllerAddr() string {
	if n.tr == nil {
		return ""
	}
	return n.tr.Addr().String()
}

// ClusterID is the cluster's id.
func (n *Node) ClusterID() string { return n.meta.clusterID }

// NodeID is this node's id.
func (n *Node) NodeID() int32 { return n.cfg.NodeID }

// DataDir is the absolute data directory.
func (n *Node) DataDir() string { return n.dataDir }
