package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Config configures a Controller. Kafka's equivalents: NodeID is node.id,
// Voters is controller.quorum.voters, DataDir is the __cluster_metadata-0
// directory under metadata.log.dir, SnapshotEvery plays the role of
// metadata.log.max.record.bytes.between.snapshots (counted in entries).
type Config struct {
	// DataDir holds the WAL and snapshots, e.g. <data>/__cluster_metadata-0.
	DataDir string
	// FS is what every file operation on DataDir goes through (default
	// fs.OS(); tests inject faults with fs.Faulty).
	FS fs.FS
	// NodeID is this node's id (>= 0). Its raft id is NodeID+1.
	NodeID int32
	// ClusterID is written by the first leader as the first record if the
	// log has none; if the log has one, it must match (empty = accept any;
	// a fresh log with an empty ClusterID gets a random one).
	ClusterID string
	// Voters maps node id to "host:port" of every voter. Empty means a
	// single voter, NodeID. Only read when the log is created; afterwards
	// membership comes from the log.
	Voters map[int32]string
	// Transport carries raft messages to other voters. Nil means the
	// in-process no-op transport, valid only for a single voter.
	Transport Transport
	// SnapshotEvery is the number of applied entries between snapshots
	// (default 10000).
	SnapshotEvery int
	// TickInterval is the raft tick (default 100ms); elections time out
	// after 10-20 ticks, heartbeats go every tick.
	TickInterval time.Duration
	// SessionTimeout is broker.session.timeout.ms: the active controller
	// fences a broker it has not heard from for this long (liveness.go).
	// Zero disables fencing (a single node).
	SessionTimeout time.Duration
	// HeartbeatInterval is broker.heartbeat.interval.ms: how often the
	// active controller checks liveness (default 2s when SessionTimeout is
	// set).
	HeartbeatInterval time.Duration
	// Logger receives controller and raft logs (default: discard).
	Logger *slog.Logger

	// Leader elections (elect_loop.go). MinInsyncReplicas and
	// UncleanLeaderElection are the static min.insync.replicas (default
	// 1) and unclean.leader.election.enable (default false), used for
	// topics that set neither dynamically nor through a cluster-wide
	// dynamic broker config.
	MinInsyncReplicas     int
	UncleanLeaderElection bool
	// StrictELR is eligible.leader.replicas.strict (default false): a
	// broker that registers after an unclean stop leaves every ISR and
	// ELR, even as a partition's last candidate (KIP-966's strict rule;
	// see "Unclean restarts" in doc.go). This node's Propose stamps it
	// on the RegisterBroker records it proposes.
	StrictELR bool
	// AutoLeaderRebalance is auto.leader.rebalance.enable (nil: true):
	// every LeaderImbalanceCheckInterval
	// (leader.imbalance.check.interval.seconds, default 300s) the active
	// controller moves leadership back to the preferred replicas of the
	// brokers whose share of partitions led by another broker exceeds
	// LeaderImbalancePerBrokerPercentage
	// (leader.imbalance.per.broker.percentage, nil: 10).
	AutoLeaderRebalance                *bool
	LeaderImbalanceCheckInterval       time.Duration
	LeaderImbalancePerBrokerPercentage *int

	// AdvertisedAddr is the controller listener address ("host:port")
	// other nodes dial to reach this one. A node whose NodeID is not among
	// Voters joins the quorum as an observer (a raft learner, learner.go)
	// and announces it; empty means the Transport's (TCPTransport's
	// AdvertisedAddr).
	AdvertisedAddr string
}

// Defaults returns c with zero fields set to their defaults.
func (c Config) Defaults() Config {
	if c.FS == nil {
		c.FS = fs.OS()
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 10000
	}
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SessionTimeout > 0 && c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 2 * time.Second
	}
	if c.MinInsyncReplicas == 0 {
		c.MinInsyncReplicas = 1
	}
	if c.AutoLeaderRebalance == nil {
		on := true
		c.AutoLeaderRebalance = &on
	}
	if c.LeaderImbalanceCheckInterval == 0 {
		c.LeaderImbalanceCheckInterval = 300 * time.Second
	}
	if c.LeaderImbalancePerBrokerPercentage == nil {
		pct := 10
		c.LeaderImbalancePerBrokerPercentage = &pct
	}
	return c
}

// Validate reports the first invalid setting. Call it on Defaults().
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("controller: DataDir is required")
	case c.FS == nil:
		return errors.New("controller: FS is required")
	case c.NodeID < 0:
		return fmt.Errorf("controller: node.id %d must be >= 0", c.NodeID)
	case c.SnapshotEvery <= 0:
		return fmt.Errorf("controller: SnapshotEvery %d must be > 0", c.SnapshotEvery)
	case c.TickInterval <= 0:
		return fmt.Errorf("controller: TickInterval %v must be > 0", c.TickInterval)
	case c.Logger == nil:
		return errors.New("controller: Logger is required")
	case c.SessionTimeout < 0 || c.SessionTimeout > 0 && c.HeartbeatInterval <= 0:
		return fmt.Errorf("controller: broker.session.timeout.ms %v needs a positive broker.heartbeat.interval.ms (%v)", c.SessionTimeout, c.HeartbeatInterval)
	case c.MinInsyncReplicas < 1:
		return fmt.Errorf("controller: min.insync.replicas %d must be >= 1", c.MinInsyncReplicas)
	case c.LeaderImbalanceCheckInterval < 0:
		return fmt.Errorf("controller: leader.imbalance.check.interval.seconds %v must be > 0", c.LeaderImbalanceCheckInterval)
	case c.LeaderImbalancePerBrokerPercentage != nil && *c.LeaderImbalancePerBrokerPercentage < 0:
		return fmt.Errorf("controller: leader.imbalance.per.broker.percentage %d must be >= 0", *c.LeaderImbalancePerBrokerPercentage)
	}
	if len(c.Voters) == 0 {
		return nil
	}
	if _, ok := c.Voters[c.NodeID]; !ok && c.Transport == nil {
		// Not a voter: an observer (raft learner), which needs a transport.
		return fmt.Errorf("controller: node.id %d is not among controller.quorum.voters, so it joins as an observer and needs a Transport", c.NodeID)
	}
	for id, addr := range c.Voters {
		if id < 0 {
			return fmt.Errorf("controller: voter id %d must be >= 0", id)
		}
		if addr == "" && len(c.Voters) > 1 {
			return fmt.Errorf("controller: voter %d has no address", id)
		}
	}
	if len(c.Voters) > 1 && c.Transport == nil {
		return errors.New("controller: more than one voter needs a Transport")
	}
	return nil
}
