package node

import (
	"log/slog"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/partition"
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
