package node

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/share"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// newCoordinators builds the coordinator runtime (internal/coordinator:
// shard ownership from partition leadership, loading and the partition
// writer of __consumer_offsets and __transaction_state) and the group and
// transaction state machines on it. This is the one place that wires
// them. The transaction coordinator's marker writer and producer ids are
// the broker's; broker.New attaches them.
func newCoordinators(cfg *config.Broker, ctl *controller.Controller, parts *partition.Manager, lg *slog.Logger) (*coordinator.Runtime, *group.Coordinator, *txn.Coordinator, error) {
	groupSettings, err := group.SettingsFrom(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	txnSettings, err := txn.SettingsFrom(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	coords, err := coordinator.New(coordinator.Config{
		NodeID: cfg.NodeID, Images: ctl, Partitions: coordinator.ManagerPartitions(parts),
		Clock: coordinator.WallClock{}, Logger: lg.With("component", "coordinator"),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	groups, err := group.New(group.Config{
		Settings: groupSettings, Clock: group.WallClock{}, Logger: lg.With("component", "group"),
		Log: coords.Writer(coordinator.OffsetsTopic), Topics: coordinator.Topics{Images: ctl},
		Images: broker.GroupTopicImages(ctl),
	})
	if err != nil {
		coords.Close()
		return nil, nil, nil, err
	}
	txns, err := txn.New(txn.Config{
		Settings: txnSettings, Clock: txn.WallClock{}, Logger: lg.With("component", "txn"),
		Log: coords.Writer(coordinator.TxnStateTopic),
	})
	if err != nil {
		groups.Close()
		coords.Close()
		return nil, nil, nil, err
	}
	coords.Register(coordinator.OffsetsTopic, groups)
	coords.Register(coordinator.TxnStateTopic, txns)
	return coords, groups, txns, nil
}

// newShareCoordinator builds the share coordinator on the runtime: the
// state of share partitions in __share_group_state (internal/share). The
// broker reads and writes it (broker.Config.ShareStates).
func newShareCoordinator(cfg *config.Broker, coords *coordinator.Runtime, lg *slog.Logger) *share.Coordinator {
	perSnapshot, _ := strconv.Atoi(cfg.Values["share.coordinator.snapshot.update.records.per.snapshot"])
	sc := share.NewCoordinator(coords.Writer(coordinator.ShareGroupStateTopic), lg.With("component", "share"), perSnapshot,
		func() int64 { return time.Now().UnixMilli() })
	coords.Register(coordinator.ShareGroupStateTopic, sc)
	return sc
}
