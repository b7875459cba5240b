package node

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/samsa-streaming/samsa/internal/restproxy"
)

// DefaultRESTListen is where the REST proxy binds unless told otherwise:
// Confluent's port, on loopback.
const DefaultRESTListen = restproxy.DefaultListen

// startREST starts the REST proxy service (internal/restproxy), a Kafka
// client of this node's listener, when Config.RESTListen asks for it; its
// avro, jsonschema and protobuf formats use this node's schema registry
// when it runs one. As with the registry, the default address being taken
// only leaves the proxy out, with a warning.
func (n *Node) startREST(ctx context.Context, env ServiceEnv) error {
	addr := n.cfg.RESTListen
	if addr == "" || addr == "none" || env.Bootstrap == "" {
		return nil
	}
	cfg := restproxy.Config{
		Listen:  addr,
		Brokers: []string{env.Bootstrap},
		Logger:  n.lg.With("service", "rest"),
	}
	if n.registry != nil {
		cfg.RegistryURL = n.registry.URL()
	}
	srv, err := restproxy.New(cfg)
	if err != nil {
		return fmt.Errorf("rest proxy: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		if !n.cfg.RESTListenGiven && addr == DefaultRESTListen && errors.Is(err, syscall.EADDRINUSE) {
			n.lg.Warn("rest proxy not started: its default address is taken (set --rest-listen)", "addr", addr, "err", err)
			return nil
		}
		return err
	}
	n.rest = srv
	n.stack.push(srv.Name(), false, srv.Close)
	return nil
}
