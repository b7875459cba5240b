package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// The start-up steps of the controller side, in order (doc.go).

func (n *Node) openDataDir(context.Context) error {
	dataDir, err := filepath.Abs(n.settings.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	n.dataDir = dataDir
	n.member = len(n.cfg.Voters) > 0
	n.meta, err = loadOrFormat(dataDir, n.cfg.NodeID, n.member)
	return err
}

func (n *Node) takeMarker(context.Context) error {
	clean, err := takeMarker(n.dataDir)
	if err != nil {
		return err
	}
	n.clean = clean
	n.stack.push("clean-shutdown marker", false, func() error {
		if n.stack.unclean {
			return nil
		}
		if err := writeMarker(n.dataDir); err != nil {
			n.lg.Warn("could not write clean-shutdown marker", "err", err)
		}
		return nil
	})
	n.lg.Info("starting samsa", "node.id", n.cfg.NodeID, "data", n.dataDir, "listen", n.cfg.Listen, "clean_shutdown", clean)
	return nil
}

func (n *Node) startTransport(context.Context) error {
	if !n.member {
		return nil
	}
	tcfg := controller.TCPConfig{
		NodeID: n.cfg.NodeID, Listen: n.cfg.ControllerListen, Listener: n.cfg.ControllerListener,
		Peers: n.cfg.Voters, Logger: n.lg, ClusterID: n.meta.clusterID,
	}
	if err := n.controllerSecurity(&tcfg); err != nil {
		return err
	}
	tr, err := controller.NewTCPTransport(tcfg)
	if err != nil {
		return err
	}
	n.tr = tr
	n.stack.push("controller transport", false, tr.Close)
	n.lg.Info("joining the metadata quorum", "voters", FormatVoters(n.cfg.Voters), "controller.listener", tr.Addr().String(),
		"broker", n.cfg.Roles.Broker, "controller", n.cfg.Roles.Controller)
	return nil
}

func (n *Node) openController(ctx context.Context) error {
	cfg := n.settings
	ctlCfg := controller.Config{}.Defaults()
	ctlCfg.DataDir = filepath.Join(n.dataDir, metadataLogDir)
	ctlCfg.NodeID = n.cfg.NodeID
	ctlCfg.ClusterID = n.meta.clusterID
	ctlCfg.Logger = n.lg
	// The active controller's election policy defaults (topics override
	// them with their own configs).
	ctlCfg.MinInsyncReplicas = int(cfg.Int("min.insync.replicas", 1))
	ctlCfg.UncleanLeaderElection = strings.EqualFold(cfg.Values["unclean.leader.election.enable"], "true")
	ctlCfg.StrictELR = cfg.Bool("eligible.leader.replicas.strict")
	autoRebalance := !strings.EqualFold(cfg.Values["auto.leader.rebalance.enable"], "false")
	ctlCfg.AutoLeaderRebalance = &autoRebalance
	ctlCfg.LeaderImbalanceCheckInterval = time.Duration(cfg.Int("leader.imbalance.check.interval.seconds", 300)) * time.Second
	imbalancePct := int(cfg.Int("leader.imbalance.per.broker.percentage", 10))
	ctlCfg.LeaderImbalancePerBrokerPercentage = &imbalancePct
	if n.member {
		ctlCfg.Voters, ctlCfg.Transport = n.cfg.Voters, n.tr
		ctlCfg.SessionTimeout, ctlCfg.HeartbeatInterval = n.cfg.SessionTimeout, n.cfg.HeartbeatInterval
	}
	if err := n.checkMetadataLog(); err != nil {
		return err
	}
	n.freshLog = metadataLogEmpty(ctlCfg.DataDir)
	ctl, err := controller.Open(ctx, ctlCfg)
	if err != nil {
		return fmt.Errorf("metadata log: %w", err)
	}
	n.ctl = ctl
	n.stack.push("controller", true, ctl.Close)
	n.watchController(ctlCfg.DataDir)
	return nil
}

// checkMetadataLog refuses to start, before the controller would
// bootstrap a new metadata log, when the log holds nothing (its directory
// missing, no snapshot, no WAL entry) but the data dir holds partition
// directories: their topics would be unknown, so every one would be set
// aside as a stray and the cluster would start over beside them. Nothing
// is touched.
func (n *Node) checkMetadataLog() error {
	if !metadataLogEmpty(filepath.Join(n.dataDir, metadataLogDir)) {
		return nil
	}
	keys, err := partition.ListDirs(fs.OS(), n.dataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	return fmt.Errorf("data dir %s holds %d partition directories (such as %s) but the metadata log %s is empty or missing: refusing to start, because every topic would be unknown; "+
		"restore %s, or move the partition directories out of the data dir to start a new cluster (nothing was changed)",
		n.dataDir, len(keys), partition.DirName(keys[0].Topic, keys[0].Partition),
		filepath.Join(n.dataDir, metadataLogDir), metadataLogDir)
}

// metadataLogEmpty reports whether the controller's directory holds no
// snapshot and no WAL beyond its 12-byte header (controller/doc.go), so
// the controller would bootstrap a new log.
func metadataLogEmpty(dir string) bool {
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.snap"))
	if len(snaps) > 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "wal"))
	return err != nil || st.Size() <= 12
}

// metadataLogDir is the metadata log's directory in the data dir.
const metadataLogDir = "__cluster_metadata-0"

// settleClusterID makes meta.properties and the metadata log agree on the
// cluster id: a new member learns it from the log and formats its data
// dir; a broker of a new single-node cluster writes it.
func (n *Node) settleClusterID(ctx context.Context) error {
	if err := n.settleClusterIDOnly(ctx); err != nil {
		return err
	}
	return n.bootstrapScram(ctx)
}

func (n *Node) settleClusterIDOnly(ctx context.Context) error {
	if n.member && n.meta.clusterID == "" {
		id, err := waitClusterID(ctx, n.ctl)
		if err != nil {
			return fmt.Errorf("metadata log: waiting for the cluster id: %w", err)
		}
		n.meta.clusterID = id
		if err := formatMember(n.dataDir, n.meta); err != nil {
			return err
		}
		n.tr.SetClusterID(id) // the transport enforces it from now on
		n.lg.Info("formatted data dir as a member of cluster", "cluster.id", id)
	}
	if n.member {
		if id, err := waitClusterID(ctx, n.ctl); err != nil {
			return fmt.Errorf("metadata log: waiting for the cluster id: %w", err)
		} else if id != n.meta.clusterID {
			return n.clusterMismatch(id)
		}
	}
	if !n.cfg.Roles.Broker {
		return nil
	}
	if id := n.ctl.Image().ClusterID; id == "" {
		if _, err := n.ctl.Propose(ctx, metadata.SetClusterID{ID: n.meta.clusterID}); err != nil {
			return fmt.Errorf("set cluster id: %w", err)
		}
	} else if id != n.meta.clusterID {
		return n.clusterMismatch(id)
	}
	return nil
}

func (n *Node) clusterMismatch(logID string) error {
	return fmt.Errorf("data dir %s: meta.properties says cluster %s but the metadata log belongs to cluster %s; refusing to start", n.dataDir, n.meta.clusterID, logID)
}

// startServices starts the admin listener's logins, pprof and
// Config.Services, in order, each a Kafka client of the bound listener.
func (n *Node) startServices(ctx context.Context) error {
	if n.cfg.PprofAddr != "" {
		if err := n.startService(ctx, &pprofService{addr: n.cfg.PprofAddr, lg: n.lg}, false); err != nil {
			return err
		}
	}
	if err := n.startAdminAuth(); err != nil {
		return err
	}
	env := ServiceEnv{
		Bootstrap: n.advertised, ClusterID: n.meta.clusterID, NodeID: n.cfg.NodeID,
		DataDir: n.dataDir, Logger: n.lg,
	}
	if err := n.startRegistry(ctx, env); err != nil {
		return err
	}
	if err := n.startREST(ctx, env); err != nil {
		return err
	}
	for i, f := range n.cfg.Services {
		svc, err := f(env)
		if err != nil {
			return fmt.Errorf("service %d: %w", i, err)
		}
		if svc == nil {
			continue
		}
		if err := n.startService(ctx, svc, false); err != nil {
			return fmt.Errorf("service %s: %w", svc.Name(), err)
		}
	}
	return nil
}

// listen binds the Kafka listener and the replication listener, and
// prepares the broker's registration with their advertised addresses.
func (n *Node) listen(context.Context) error {
	// Every listener's TLS and SASL set-up first: a listener that is
	// configured wrong stops start-up before any socket accepts.
	served, err := n.prepareListeners()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	n.ln = ln
	n.stack.push("kafka listener socket", false, ignoreClosed(ln.Close))
	n.advertised = n.cfg.Advertised
	if n.advertised == "" {
		n.advertised = ln.Addr().String()
	}
	host, port, err := splitHostPort(n.advertised)
	if err != nil {
		return fmt.Errorf("advertised.listeners: %w", err)
	}
	n.reg = metadata.RegisterBroker{
		ID: n.cfg.NodeID, Host: host, Port: int32(port), Rack: n.settings.Rack,
		IncarnationID: metadata.RandomUuid(), CleanShutdown: n.clean,
	}
	if err := n.bindListeners(served); err != nil {
		return err
	}
	if n.cfg.ReplicationListen == "" {
		return nil
	}
	replLn, err := net.Listen("tcp", n.cfg.ReplicationListen)
	if err != nil {
		return fmt.Errorf("--replication-listen: %w", err)
	}
	n.replLn = replLn
	n.stack.push("replication listener socket", false, ignoreClosed(replLn.Close))
	adv := n.cfg.AdvertisedReplication
	if adv == "" {
		adv = replLn.Addr().String()
	}
	rh, rport, err := splitHostPort(adv)
	if err != nil {
		return fmt.Errorf("--advertised-replication-listen: %q is not host:port", adv)
	}
	n.reg.ReplicationHost, n.reg.ReplicationPort = rh, int32(rport)
	return nil
}

func (n *Node) register(ctx context.Context) error {
	if _, err := n.ctl.Propose(ctx, n.reg); err != nil {
		return fmt.Errorf("register broker: %w", err)
	}
	return nil
}
