package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/sasl"
)

// Config configures a Node. LoadConfig builds one from a command line and
// server.properties; tests and embedders fill one in and call Defaults.
type Config struct {
	// Broker holds every Kafka broker setting by its server.properties
	// name, resolved. Nil: Kafka's defaults. Start works on a copy with
	// NodeID, DataDir, Listen and Advertised written into it.
	Broker *config.Broker

	// NodeID is node.id.
	NodeID int32
	// DataDir is log.dirs (one directory); empty: Broker's.
	DataDir string
	// Listen is the Kafka listener (listeners), host:port; port 0 picks a
	// free port (Addr reports it). Empty: Broker's.
	Listen string
	// Advertised is the address clients are told to connect to
	// (advertised.listeners); empty: the bound Listen address.
	Advertised string
	// ReplicationListen is a second Kafka listener followers fetch from
	// (Kafka's inter-broker listener); empty: followers use Listen.
	ReplicationListen string
	// AdvertisedReplication is the address followers are told to fetch
	// from; empty: the bound ReplicationListen address.
	AdvertisedReplication string

	// Voters is controller.quorum.voters, node id to the raft listener's
	// host:port. Empty: the single-node cluster (no raft transport).
	Voters map[int32]string
	// Roles is process.roles. Zero: both when NodeID is a voter or there
	// are no voters, else broker.
	Roles Roles
	// ControllerListen is this node's raft listener (the CONTROLLER
	// listener); empty: its address in Voters.
	ControllerListen string
	// ControllerListener, if set, is a bound raft listener used instead of
	// listening on ControllerListen; the node closes it. (Tests bind one
	// on port 0 to know the voters' addresses up front.)
	ControllerListener net.Listener
	// HeartbeatInterval and SessionTimeout are broker.heartbeat.interval.ms
	// and broker.session.timeout.ms; zero: Broker's.
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration

	// AddScram are `kafka-storage format --add-scram` arguments
	// (SCRAM-SHA-256=[name=admin,password=admin-secret]): the credentials
	// are created when the metadata log is new, so a secured cluster is
	// never open (security.go).
	AddScram []string

	// AdminListen is the admin HTTP listener (samsa.admin.listener;
	// admin.go); "" or "none": off. AdminListenGiven says the address was
	// asked for explicitly, so failing to bind it fails start-up.
	AdminListen      string
	AdminListenGiven bool
	// MetricsListen is the metrics listener (samsa.metrics.listener;
	// admin.go): /metrics, /healthz and /readyz only; "" or "none": off.
	MetricsListen string
	// RegistryListen is the schema registry's HTTP listener
	// (samsa.registry.listener; registry.go); "" or "none": off.
	// RegistryListenGiven says it was asked for explicitly, so failing to
	// bind it fails start-up.
	RegistryListen      string
	RegistryListenGiven bool
	// RESTListen is the REST proxy's HTTP listener (samsa.rest.listener;
	// restproxy.go); "" or "none": off. RESTListenGiven as above.
	RESTListen      string
	RESTListenGiven bool
	// LogLevel, when set, is the level Logger's handler reads, changed at
	// run time by PUT /admin/loggers/root.
	LogLevel *slog.LevelVar

	// PprofAddr, if set, serves Go's pprof profiles there (a service).
	PprofAddr string
	// Logger receives every log line of the node (default: discard).
	Logger *slog.Logger
	// Services are started, in order, after the broker serves (after the
	// Kafka listener is bound), and closed first, in reverse.
	Services []ServiceFactory

	// hook, when set (tests), is told of every start-up step ("start") and
	// every closer pushed ("push") or run ("close"); an error returned
	// for "start" fails that step.
	hook func(event, name string) error
}

// Defaults returns c with zero fields set to their defaults: Kafka's
// broker settings, and the node fields taken from them.
func (c Config) Defaults() Config {
	if c.Broker == nil {
		b := config.Broker{}.Defaults()
		c.Broker = &b
	}
	if c.DataDir == "" {
		c.DataDir = c.Broker.DataDir
	}
	if c.Listen == "" {
		c.Listen = c.Broker.Listen
	}
	ms := func(name string) time.Duration {
		n, _ := strconv.Atoi(c.Broker.Values[name])
		return time.Duration(n) * time.Millisecond
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = ms("broker.heartbeat.interval.ms")
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = ms("broker.session.timeout.ms")
	}
	if !c.Roles.Broker && !c.Roles.Controller {
		_, isVoter := c.Voters[c.NodeID]
		c.Roles = Roles{Broker: true, Controller: len(c.Voters) == 0 || isVoter}
	}
	if c.ControllerListen == "" {
		c.ControllerListen = c.Voters[c.NodeID]
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports what is wrong with c. Call it on Defaults().
func (c Config) Validate() error {
	if c.Logger == nil || c.Broker == nil {
		return errors.New("node: Logger and Broker are required (call Defaults)")
	}
	if _, err := c.brokerSettings(); err != nil {
		return err
	}
	for _, spec := range c.AddScram {
		if _, _, err := sasl.ParseAddScram(spec, nil); err != nil {
			return fmt.Errorf("--add-scram %q: %w", spec, err)
		}
	}
	if c.AdvertisedReplication != "" {
		if c.ReplicationListen == "" {
			return fmt.Errorf("--advertised-replication-listen needs --replication-listen")
		}
		if _, _, err := splitHostPort(c.AdvertisedReplication); err != nil {
			return fmt.Errorf("--advertised-replication-listen: %q is not host:port", c.AdvertisedReplication)
		}
	}
	if c.Advertised != "" {
		if _, _, err := splitHostPort(c.Advertised); err != nil {
			return fmt.Errorf("advertised.listeners: %q is not host:port", c.Advertised)
		}
	}
	return c.validateCluster()
}

// brokerSettings returns a copy of Broker with the node fields written
// into it (only those that differ, so a loaded configuration keeps which
// settings the user gave), resolved and validated.
func (c Config) brokerSettings() (*config.Broker, error) {
	b := *c.Broker
	b.Listeners = slices.Clone(c.Broker.Listeners)
	b.Values, b.Set = make(map[string]string, len(c.Broker.Values)), make(map[string]bool, len(c.Broker.Set))
	for k, v := range c.Broker.Values {
		b.Values[k] = v
	}
	for k, v := range c.Broker.Set {
		b.Set[k] = v
	}
	set := []struct {
		differs    bool
		key, value string
	}{
		{b.NodeID != c.NodeID, "node.id", strconv.Itoa(int(c.NodeID))},
		{b.DataDir != c.DataDir, "log.dirs", c.DataDir},

		{c.Advertised != "" && b.Advertised != c.Advertised, "advertised.listeners", c.Advertised},
	}
	if b.Listen != c.Listen {
		if err := b.SetPrimaryListen(c.Listen); err != nil {
			return nil, err
		}
	}
	for _, s := range set {
		if !s.differs {
			continue
		}
		if err := b.SetValue(s.key, s.value); err != nil {
			return nil, err
		}
	}
	if err := b.Resolve(); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// splitHostPort splits host:port and checks the port is 1-65535.
func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return h, port, nil
}
