package node

import (
	"log/slog"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// newCoordinators builds the group and transaction coordinators over
// their storage adapters (the __consumer_offsets and __transaction_state
// logs). This is the one place that wires those adapters. The transaction
// coordinator's marker writer and producer ids are the broker's;
// broker.New attaches them.
func newCoordinators(cfg *config.Broker, ctl *controller.Controller, parts *partition.Manager, lg *slog.Logger) (*group.Coordinator, *txn.Coordinator, error) {
	groupSettings, err := group.SettingsFrom(cfg)
	if err != nil {
		return nil, nil, err
	}
	txnSettings, err := txn.SettingsFrom(cfg)
	if err != nil {
		return nil, nil, err
	}
	groups, err := group.New(group.Config{
		Settings: groupSettings, Clock: group.WallClock{}, Logger: lg.With("component", "group"),
		Log: broker.NewGroupLog(ctl, parts, cfg.NodeID, wallClock{}), Topics: broker.NewGroupTopics(ctl),
		Images: broker.GroupTopicImages(ctl),
	})
	if err != nil {
		return nil, nil, err
	}
	txns, err := txn.New(txn.Config{
		Settings: txnSettings, Clock: txn.WallClock{}, Logger: lg.With("component", "txn"),
		Log: broker.NewTxnLog(ctl, parts, cfg.NodeID, wallClock{}),
	})
	if err != nil {
		groups.Close()
		return nil, nil, err
	}
	return groups, txns, nil
}
