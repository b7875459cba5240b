package node

import (
	"context"
	"fmt"

	"github.com/samsa-streaming/samsa/internal/connect"
)

// startConnect starts the Kafka Connect worker (internal/connect), a
// Kafka client of this node's listener, when Config.ConnectListen asks
// for it (off by default). It uses group samsa-connect and the topics
// connect-configs, connect-offsets and connect-status.
func (n *Node) startConnect(ctx context.Context, env ServiceEnv) error {
	addr := n.cfg.ConnectListen
	if addr == "" || addr == "none" || env.Bootstrap == "" {
		return nil
	}
	plugins, err := connect.DefaultPlugins()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	cfg := connect.Config{
		Listen:    addr,
		Brokers:   []string{env.Bootstrap},
		GroupID:   "samsa-connect",
		ClusterID: env.ClusterID,
		Plugins:   plugins,
		Logger:    n.lg.With("service", "connect"),
		LogLevel:  n.cfg.LogLevel,
	}
	srv, err := connect.New(cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	n.connect = srv
	n.stack.push(srv.Name(), false, srv.Close)
	return nil
}
