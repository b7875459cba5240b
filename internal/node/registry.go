package node

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/samsa-streaming/samsa/internal/registry"
)

// DefaultRegistryListen is where the schema registry binds unless told
// otherwise: Confluent's port, on loopback.
const DefaultRegistryListen = registry.DefaultListen

// startRegistry starts the schema registry service (internal/registry), a
// Kafka client of this node's listener, when Config.RegistryListen asks
// for it. Like the admin listener, the default address being taken (a
// second node on the same machine) only leaves the registry out, with a
// warning; an address asked for explicitly must bind. Controller-only
// nodes have no registry.
func (n *Node) startRegistry(ctx context.Context, env ServiceEnv) error {
	addr := n.cfg.RegistryListen
	if addr == "" || addr == "none" || env.Bootstrap == "" {
		return nil
	}
	reg, err := registry.New(registry.Config{
		Listen:  addr,
		Brokers: []string{env.Bootstrap},
		Logger:  n.lg.With("service", "registry"),
	})
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	if err := reg.Start(ctx); err != nil {
		if !n.cfg.RegistryListenGiven && addr == DefaultRegistryListen && errors.Is(err, syscall.EADDRINUSE) {
			n.lg.Warn("schema registry not started: its default address is taken (set --registry-listen)", "addr", addr, "err", err)
			return nil
		}
		return err
	}
	n.registry = reg
	// Topics with samsa.schema.validation check produced records against
	// this node's registry (every node's reads the whole _schemas).
	n.broker.SetSchemaValidator(reg)
	n.stack.push(reg.Name(), false, func() error {
		n.broker.SetSchemaValidator(nil)
		return reg.Close()
	})
	return nil
}

// RegistryAddr is the address the schema registry listens on, "" when
// this node runs none.
func (n *Node) RegistryAddr() string {
	if n.registry == nil {
		return ""
	}
	return n.registry.Addr()
}
