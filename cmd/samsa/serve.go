package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/txn"
)

type serveFlags struct {
	dataDir    string
	listen     string
	advertised string
	nodeID     int32
	configFile string
	logLevel   string
	pprofAddr  string

	voters           string
	roles            string
	controllerListen string

	replicationListen     string
	advertisedReplication string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Samsa broker",
		Long: `Run a Samsa broker. Settings come, in increasing precedence, from Kafka's
defaults, the server.properties file given with --config, SAMSA_* environment
variables, and flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			return runServe(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "./samsa-data", "directory for logs and metadata (log.dirs)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9092", "address to serve Kafka clients on (listeners)")
	fl.StringVar(&f.advertised, "advertised-listen", "", "address clients are told to connect to (advertised.listeners; default: --listen)")
	fl.Int32Var(&f.nodeID, "node-id", 1, "this node's id (node.id)")
	fl.StringVar(&f.configFile, "config", "", "server.properties file with Kafka setting names")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.pprofAddr, "pprof", "", "serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060); off by default")
	fl.StringVar(&f.voters, "voters", "", "metadata quorum voters, id@host:port,... (controller.quorum.voters); empty: a single-node cluster")
	fl.StringVar(&f.roles, "roles", "", "broker, controller or broker,controller (process.roles); default: both when --node-id is a voter, else broker")
	fl.StringVar(&f.controllerListen, "controller-listen", "", "address of this node's raft listener (the CONTROLLER listener); default: its address in --voters")
	fl.StringVar(&f.replicationListen, "replication-listen", "", "a second Kafka listener that followers fetch from (Kafka's inter-broker listener); default: followers use --listen")
	fl.StringVar(&f.advertisedReplication, "advertised-replication-listen", "", "address followers are told to fetch from (default: --replication-listen)")
	return cmd
}

// applyEnv fills every flag not given on the command line from its SAMSA_
// environment twin: --data-dir from SAMSA_DATA_DIR, and so on.
func applyEnv(fl *pflag.FlagSet) error {
	var err error
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "SAMSA_" + envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if serr := fl.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %v", name, serr)
			}
		}
	})
	return err
}

func envName(flag string) string {
	b := []byte(flag)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// loadBrokerConfig merges defaults, the config file and flags.
func loadBrokerConfig(cmd *cobra.Command, f serveFlags, lg *slog.Logger) (*config.Broker, error) {
	cfg := config.Broker{}.Defaults()
	cfg.Values["log.dir"] = "./samsa-data"
	if f.configFile != "" {
		unknown, err := cfg.LoadFile(f.configFile)
		if err != nil {
			return nil, err
		}
		for _, k := range unknown {
			lg.Warn("ignoring setting Samsa does not know", "name", k, "file", f.configFile)
		}
	}
	fl := cmd.Flags()
	set := func(flag, key, value string) error {
		if fl.Changed(flag) || !cfg.Set[key] && (key != "log.dirs" || !cfg.Set["log.dir"]) {
			if err := cfg.SetValue(key, value); err != nil {
				return fmt.Errorf("--%s: %v", flag, err)
			}
		}
		return nil
	}
	if err := set("data-dir", "log.dirs", f.dataDir); err != nil {
		return nil, err
	}
	if err := set("listen", "listeners", f.listen); err != nil {
		return nil, err
	}
	if f.advertised != "" {
		if err := set("advertised-listen", "advertised.listeners", f.advertised); err != nil {
			return nil, err
		}
	}
	if err := set("node-id", "node.id", strconv.Itoa(int(f.nodeID))); err != nil {
		return nil, err
	}
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

const cleanShutdownFile = ".kafka_cleanshutdown"

func runServe(ctx context.Context, cmd *cobra.Command, f serveFlags) error {
	level, err := parseLevel(f.logLevel)
	if err != nil {
		return err
	}
	lg := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	start := time.Now()
	cfg, err := loadBrokerConfig(cmd, f, lg)
	if err != nil {
		return err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cs, err := resolveCluster(cmd, f, cfg)
	if err != nil {
		return err
	}
	member := len(cs.voters) > 0
	meta, err := loadOrFormatMode(dataDir, cfg.NodeID, member)
	if err != nil {
		return err
	}
	markerPath := filepath.Join(dataDir, cleanShutdownFile)
	clean := false
	if _, err := os.Stat(markerPath); err == nil {
		clean = true
		if err := os.Remove(markerPath); err != nil {
			return fmt.Errorf("remove clean-shutdown marker: %w", err)
		}
	}
	lg.Info("starting samsa", "node.id", cfg.NodeID, "data", dataDir, "listen", cfg.Listen, "clean_shutdown", clean)

	ctlCfg := controller.Config{}.Defaults()
	ctlCfg.DataDir = filepath.Join(dataDir, "__cluster_metadata-0")
	ctlCfg.NodeID = cfg.NodeID
	ctlCfg.ClusterID = meta.clusterID
	ctlCfg.Logger = lg
	// The active controller's election policy defaults (topics override
	// them with their own configs).
	ctlCfg.MinInsyncReplicas = int(cfg.Int("min.insync.replicas", 1))
	ctlCfg.UncleanLeaderElection = strings.EqualFold(cfg.Values["unclean.leader.election.enable"], "true")
	autoRebalance := !strings.EqualFold(cfg.Values["auto.leader.rebalance.enable"], "false")
	ctlCfg.AutoLeaderRebalance = &autoRebalance
	ctlCfg.LeaderImbalanceCheckInterval = time.Duration(cfg.Int("leader.imbalance.check.interval.seconds", 300)) * time.Second
	imbalancePct := int(cfg.Int("leader.imbalance.per.broker.percentage", 10))
	ctlCfg.LeaderImbalancePerBrokerPercentage = &imbalancePct
	if member {
		tr, err := controller.NewTCPTransport(controller.TCPConfig{
			NodeID: cfg.NodeID, Listen: cs.controllerListen, Peers: cs.voters, Logger: lg,
		})
		if err != nil {
			return err
		}
		defer tr.Close()
		ctlCfg.Voters, ctlCfg.Transport = cs.voters, tr
		ctlCfg.SessionTimeout, ctlCfg.HeartbeatInterval = cs.session, cs.heartbeat
		lg.Info("joining the metadata quorum", "voters", f.voters, "controller.listener", tr.Addr().String(), "broker", cs.broker, "controller", cs.controller)
	}
	ctl, err := controller.Open(ctx, ctlCfg)
	if err != nil {
		return fmt.Errorf("metadata log: %w", err)
	}
	defer ctl.Close()
	if member && meta.clusterID == "" {
		id, err := waitClusterID(ctx, ctl)
		if err != nil {
			return fmt.Errorf("metadata log: waiting for the cluster id: %w", err)
		}
		meta.clusterID = id
		if err := formatMember(dataDir, meta); err != nil {
			return err
		}
		lg.Info("formatted data dir as a member of cluster", "cluster.id", id)
	}
	if member {
		if id, err := waitClusterID(ctx, ctl); err != nil {
			return fmt.Errorf("metadata log: waiting for the cluster id: %w", err)
		} else if id != meta.clusterID {
			return fmt.Errorf("data dir %s: meta.properties says cluster %s but the metadata log belongs to cluster %s; refusing to start", dataDir, meta.clusterID, id)
		}
	}
	if !cs.broker {
		lg.Info("samsa controller is serving", "cluster.id", meta.clusterID, "startup", time.Since(start).Round(time.Millisecond))
		<-ctx.Done()
		lg.Info("shutting down")
		if err := ctl.Close(); err != nil {
			lg.Error("unclean shutdown", "err", err)
			return errSilent
		}
		if err := writeMarker(markerPath); err != nil {
			lg.Warn("could not write clean-shutdown marker", "err", err)
		}
		lg.Info("stopped cleanly")
		return nil
	}
	if id := ctl.Image().ClusterID; id == "" {
		if _, err := ctl.Propose(ctx, metadata.SetClusterID{ID: meta.clusterID}); err != nil {
			return fmt.Errorf("set cluster id: %w", err)
		}
	} else if id != meta.clusterID {
		return fmt.Errorf("data dir %s: meta.properties says cluster %s but the metadata log belongs to cluster %s; refusing to start", dataDir, meta.clusterID, id)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	advertised := cfg.Advertised
	if !cfg.Set["advertised.listeners"] {
		advertised = ln.Addr().String()
	}
	host, portS, _ := net.SplitHostPort(advertised)
	port, _ := strconv.Atoi(portS)
	reg := metadata.RegisterBroker{ID: cfg.NodeID, Host: host, Port: int32(port), Rack: cfg.Rack, IncarnationID: metadata.RandomUuid(), CleanShutdown: clean}
	var replLn net.Listener
	if f.replicationListen != "" {
		replLn, err = net.Listen("tcp", f.replicationListen)
		if err != nil {
			return fmt.Errorf("--replication-listen: %w", err)
		}
		defer replLn.Close()
		adv := f.advertisedReplication
		if adv == "" {
			adv = replLn.Addr().String()
		}
		rh, rp, err := net.SplitHostPort(adv)
		rport, perr := strconv.Atoi(rp)
		if err != nil || perr != nil || rport <= 0 || rport > 65535 {
			return fmt.Errorf("--advertised-replication-listen: %q is not host:port", adv)
		}
		reg.ReplicationHost, reg.ReplicationPort = rh, int32(rport)
	} else if f.advertisedReplication != "" {
		return fmt.Errorf("--advertised-replication-listen needs --replication-listen")
	}
	if _, err := ctl.Propose(ctx, reg); err != nil {
		return fmt.Errorf("register broker: %w", err)
	}

	parts, err := partition.NewManager(partition.ManagerOptions{
		DataDir: dataDir, NodeID: cfg.NodeID, Broker: cfg, FS: fs.OS(),
		Logger: lg.With("component", "log"), Clock: wallClock{}, CleanShutdown: clean,
	})
	if err != nil {
		return err
	}
	startImg := ctl.Image()
	if err := parts.Sync(ctx, startImg, true); err != nil {
		parts.Close()
		return fmt.Errorf("open partitions: %w", err)
	}
	repl, err := newReplicator(cfg, ctl, parts, lg)
	if err != nil {
		parts.Close()
		return err
	}
	repl.Sync(startImg)
	unfenceWake := make(chan struct{}, 1)
	followImages(ctl, startImg.Offset, func(img *metadata.Image) {
		if err := parts.Sync(context.Background(), img, false); err != nil {
			lg.Warn("partition sync", "err", err)
		}
		repl.Sync(img)
		if b, ok := img.Brokers[reg.ID]; ok && b.Fenced {
			select {
			case unfenceWake <- struct{}{}:
			default:
			}
		}
	})

	groupSettings, err := group.SettingsFrom(cfg)
	if err != nil {
		parts.Close()
		return err
	}
	// The coordinator runtime writes and loads the coordinators' internal
	// topics and makes them own the partitions this broker leads.
	coords, err := coordinator.New(coordinator.Config{
		NodeID: cfg.NodeID, Images: ctl, Partitions: coordinator.ManagerPartitions(parts),
		Clock: coordinator.WallClock{}, Logger: lg.With("component", "coordinator"),
	})
	if err != nil {
		parts.Close()
		return err
	}
	groups, err := group.New(group.Config{
		Settings: groupSettings, Clock: group.WallClock{}, Logger: lg.With("component", "group"),
		Log: coords.Writer(coordinator.OffsetsTopic), Topics: coordinator.Topics{Images: ctl},
		Images: broker.GroupTopicImages(ctl),
	})
	if err != nil {
		parts.Close()
		return err
	}
	txnSettings, err := txn.SettingsFrom(cfg)
	if err != nil {
		groups.Close()
		parts.Close()
		return err
	}
	// The transaction coordinator's marker writer and producer ids are the
	// broker's; broker.New attaches them.
	txns, err := txn.New(txn.Config{
		Settings: txnSettings, Clock: txn.WallClock{}, Logger: lg.With("component", "txn"),
		Log: coords.Writer(coordinator.TxnStateTopic),
	})
	if err != nil {
		groups.Close()
		parts.Close()
		return err
	}
	b, err := broker.New(broker.Config{
		NodeID: cfg.NodeID, Advertised: advertised, Settings: cfg,
		Logger: lg.With("component", "broker"), Clock: wallClock{},
	}, ctl, parts, groups, txns)
	if err != nil {
		txns.Close()
		groups.Close()
		parts.Close()
		return err
	}
	// Lead the __consumer_offsets and __transaction_state partitions this
	// broker leads, now and after every metadata change (after parts.Sync,
	// subscribed above).
	coords.Register(coordinator.OffsetsTopic, groups)
	coords.Register(coordinator.TxnStateTopic, txns)
	coordImg := ctl.Image()
	coords.Sync(coordImg)
	followImages(ctl, coordImg.Offset, coords.Sync)

	bgCtx, stopBG := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		parts.RunRetention(bgCtx, time.Duration(cfg.RetentionCheckIntervalMs)*time.Millisecond)
	}()
	replDone := make(chan struct{})
	go func() {
		defer close(replDone)
		var wg sync.WaitGroup
		wg.Go(func() { selfUnfence(bgCtx, ctl, reg, unfenceWake, lg) })
		repl.Run(bgCtx)
		wg.Wait()
	}()

	if f.pprofAddr != "" {
		stopPprof, err := servePprof(f.pprofAddr, lg)
		if err != nil {
			stopBG()
			<-bgDone
			<-replDone
			parts.Close()
			return err
		}
		defer stopPprof()
	}

	lg.Info("samsa is serving", "addr", ln.Addr().String(), "advertised", advertised, "cluster.id", meta.clusterID, "startup", time.Since(start).Round(time.Millisecond))
	// Clients are served until the controlled shutdown has moved this
	// broker's leaderships away (or gave up), not just until the signal.
	serveCtx, stopServing := context.WithCancel(context.Background())
	shutdownDone := make(chan struct{})
	go func() {
		defer close(shutdownDone)
		select {
		case <-ctx.Done():
			controlledShutdown(ctl, cfg, reg, lg)
		case <-serveCtx.Done():
		}
		stopServing()
	}()
	var replServe chan error
	if replLn != nil {
		replServe = make(chan error, 1)
		go func() { replServe <- b.Serve(serveCtx, replLn) }()
	}
	serveErr := b.Serve(serveCtx, ln)
	stopServing()
	<-shutdownDone
	if replServe != nil {
		serveErr = errors.Join(serveErr, <-replServe)
	}
	lg.Info("shutting down")
	stopBG()
	<-bgDone
	<-replDone
	coords.Close() // loads first: they may complete transactions
	txns.Close()
	groups.Close()
	b.Close() // connections to other brokers (markers, verification)
	closeErr := parts.Close()
	ctlErr := ctl.Close()
	if err := errors.Join(serveErr, closeErr, ctlErr); err != nil {
		lg.Error("unclean shutdown", "err", err)
		return errSilent
	}
	if err := writeMarker(markerPath); err != nil {
		lg.Warn("could not write clean-shutdown marker", "err", err)
	}
	lg.Info("stopped cleanly")
	return nil
}

func writeMarker(path string) error {
	return fs.WriteFileAtomic(fs.OS(), path, nil)
}
