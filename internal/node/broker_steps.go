package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/quota"
)

// The start-up steps of the broker side, in order (doc.go).

func (n *Node) openPartitions(ctx context.Context) error {
	var fsys fs.FS = fs.OS()
	if n.metricsOn() {
		n.brokerMetrics, n.fsync = new(metrics.Broker), new(metrics.Latency)
		fsys = timedFS{FS: fsys, lat: n.fsync}
	}
	parts, err := partition.NewManager(partition.ManagerOptions{
		DataDir: n.dataDir, NodeID: n.cfg.NodeID, Broker: n.settings, FS: fsys,
		Logger: n.lg.With("component", "log"), Clock: wallClock{}, CleanShutdown: n.clean,
	})
	if err != nil {
		return err
	}
	n.parts = parts
	n.stack.push("partitions", true, parts.Close)
	n.startImg = n.ctl.Image()
	if err := parts.Sync(ctx, n.startImg, true); err != nil {
		return fmt.Errorf("open partitions: %w", err)
	}
	return nil
}

// setupInterBrokerDial sets how this broker dials the others
// (interBrokerDial), refusing a setup it cannot honour.
func (n *Node) setupInterBrokerDial(context.Context) error {
	dial, err := n.interBrokerDial()
	if err != nil {
		return err
	}
	n.ibDial = dial
	return nil
}

func (n *Node) newReplicator(context.Context) error {
	repl, err := newReplicator(n.settings, n.ctl, n.parts, n.lg, n.ibDial)
	if err != nil {
		return err
	}
	n.repl = repl
	repl.Sync(n.startImg)
	return nil
}

// followPartitions brings the partitions and the replicator in line with
// every image after the start-up pass, and wakes selfUnfence when the image
// shows this broker fenced.
func (n *Node) followPartitions(context.Context) error {
	n.unfenceWake = make(chan struct{}, 1)
	stop := followImages(n.ctl, n.startImg.Offset, func(img *metadata.Image) {
		n.parts.Follow(img) // opens partitions on the manager's opener, off this goroutine
		n.repl.Sync(img)
		if b, ok := img.Brokers[n.reg.ID]; ok && b.Fenced {
			select {
			case n.unfenceWake <- struct{}{}:
			default:
			}
		}
	})
	n.stack.push("image following", false, stop)
	return nil
}

func (n *Node) startCoordinators(context.Context) error {
	// The broker's connections to other brokers carry the transaction
	// coordinator's markers: they close after the coordinators, so this
	// closer is pushed before theirs (the broker is built next).
	n.stack.push("broker connections", false, func() error {
		if n.broker != nil {
			n.broker.Close()
		}
		return nil
	})
	coords, groups, txns, err := newCoordinators(n.settings, n.ctl, n.parts, n.lg)
	if err != nil {
		return err
	}
	n.coords, n.groups, n.txns = coords, groups, txns
	n.shareStates = newShareCoordinator(n.settings, coords, n.lg)
	n.stack.push("group coordinator", false, func() error { groups.Close(); return nil })
	n.stack.push("transaction coordinator", false, func() error { txns.Close(); return nil })
	// Loads stop first: they may complete transactions.
	n.stack.push("coordinator runtime", false, func() error { coords.Close(); return nil })
	return nil
}

func (n *Node) startBroker(context.Context) error {
	aclCfg, err := aclConfig(n.settings)
	if err != nil {
		return err
	}
	b, err := broker.New(broker.Config{
		NodeID: n.cfg.NodeID, Advertised: n.advertised, Settings: n.settings,
		Logger: n.lg.With("component", "broker"), Clock: wallClock{}, ACL: aclCfg, Quota: quotaConfig(n.settings), InterBrokerDial: n.ibDial,
		Metrics:             n.brokerMetrics,
		ShareStates:         n.shareStates,
		SeparateInterBroker: n.cfg.ReplicationListen != "" || n.settings.InterBrokerListener != "" && n.settings.InterBrokerListener != n.settings.Listeners[0].Name,
	}, n.ctl, n.parts, n.groups, n.txns)
	if err != nil {
		return err
	}
	n.broker = b
	// Lead the __consumer_offsets and __transaction_state partitions this
	// broker leads, now and after every metadata change (after the
	// partitions' Sync, subscribed before).
	img := n.ctl.Image()
	// Partitions open off the raft goroutine, after the image that asks
	// for them: the runtime looks again once they are open.
	n.parts.OnOpened(func() { n.coords.Sync(n.ctl.Image()) })
	n.coords.Sync(img)
	stop := followImages(n.ctl, img.Offset, n.coords.Sync)
	n.stack.push("coordinator image following", false, stop)
	return n.registerLagMetrics()
}

// startBackground starts retention, the replicator and self-unfencing.
func (n *Node) startBackground(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	interval := time.Duration(n.settings.RetentionCheckIntervalMs) * time.Millisecond
	wg.Go(func() { n.parts.RunRetention(ctx, interval) })
	wg.Go(func() { selfUnfence(ctx, n.ctl, n.reg, n.unfenceWake, n.lg) })
	wg.Go(func() { n.repl.Run(ctx) })
	wg.Go(func() { fenceOnLogDirFailure(ctx, n.ctl, n.parts, n.reg, n.lg) })
	n.stack.push("background loops", false, func() error {
		cancel()
		wg.Wait()
		return nil
	})
	return nil
}

// serve starts serving clients on the Kafka listener and followers on
// the replication listener. Clients are served until the controlled
// shutdown has moved this broker's leaderships away (or gave up).
func (n *Node) serve(ctx context.Context) error {
	if err := n.serveListeners(ctx); err != nil {
		return err
	}
	n.stack.push("controlled shutdown", false, func() error {
		if n.Err() != nil {
			return nil // the metadata log is broken: nothing can be proposed
		}
		controlledShutdown(n.ctl, n.settings, n.reg, n.lg)
		return nil
	})
	return nil
}

// listenerService serves the Kafka protocol on ln; if it stops on its own
// (an accept error), the node is told to stop.
func (n *Node) listenerService(name string, ln net.Listener, l broker.Listener) Service {
	return &listenerService{name: name, b: n.broker, ln: ln, onExit: n.stop, l: l}
}

type listenerService struct {
	name   string
	b      *broker.Broker
	ln     net.Listener
	onExit func()
	l      broker.Listener
	cancel context.CancelFunc
	done   chan error
}

func (s *listenerService) Name() string { return s.name }

func (s *listenerService) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { // owned by s; stopped and waited by Close
		err := s.b.Serve(ctx, s.ln, s.l)
		if ctx.Err() == nil {
			s.onExit()
		}
		s.done <- err
	}()
	return nil
}

// Close stops accepting, lets every connection finish its request (for at
// most the broker's shutdown grace) and returns Serve's error.
func (s *listenerService) Close() error {
	s.cancel()
	err := <-s.done
	s.done <- err // Close may run again; the buffer keeps the answer
	return err
}

// ignoreClosed drops the error of closing what is already closed.
func ignoreClosed(close func() error) func() error {
	return func() error {
		if err := close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

// aclConfig is the authorizer's configuration, or nil without
// authorizer.class.name (every request allowed, as in Kafka).
func aclConfig(s *config.Broker) (*acl.Config, error) {
	if strings.TrimSpace(s.Values["authorizer.class.name"]) == "" {
		return nil, nil
	}
	su, err := acl.ParseSuperUsers(s.Values["super.users"])
	if err != nil {
		return nil, fmt.Errorf("super.users: %w", err)
	}
	return &acl.Config{SuperUsers: su, AllowEveryoneIfNoACL: strings.EqualFold(s.Values["allow.everyone.if.no.acl.found"], "true")}, nil
}

// quotaConfig is the client-quota windows and the broker-wide connection
// rate from the settings.
func quotaConfig(s *config.Broker) quota.Config {
	q := quota.Config{}.Defaults()
	geti := func(name string, v *int) {
		if n, err := strconv.Atoi(s.Values[name]); err == nil {
			*v = n
		}
	}
	geti("quota.window.num", &q.QuotaWindowNum)
	geti("quota.window.size.seconds", &q.QuotaWindowSizeSeconds)
	geti("controller.quota.window.num", &q.ControllerQuotaWindowNum)
	geti("controller.quota.window.size.seconds", &q.ControllerQuotaWindowSizeSeconds)
	geti("max.connection.creation.rate", &q.MaxConnectionCreationRate)
	return q
}
