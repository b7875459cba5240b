package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/httpserve"

	"github.com/samsa-streaming/samsa/internal/registry"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
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
	auth, err := n.registryAuth()
	if err != nil {
		return err
	}
	rc := registry.Config{
		Listen:  addr,
		Brokers: []string{env.Bootstrap},
		Auth:    auth,
		Logger:  n.lg.With("service", "registry"),
	}
	if rest, ok := strings.CutPrefix(addr, "https://"); ok {
		if rc.TLS, rc.ForwardTLS, err = n.serviceTLS("REGISTRY", rest); err != nil {
			return fmt.Errorf("schema registry: %w", err)
		}
		rc.Listen = rest
	}
	rc.Listen = strings.TrimPrefix(rc.Listen, "http://")
	reg, err := registry.New(rc)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	if auth != nil {
		n.stack.push("schema registry logins", false, func() error { auth.Close(); return nil })
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

// registryAuth is the registry's basic authentication when
// samsa.registry.authentication.method=BASIC: users log in to the node's
// first SASL_PLAINTEXT listener with the configured mechanism.
func (n *Node) registryAuth() (*httpserve.BasicAuth, error) {
	return n.serviceAuth("registry", "samsa-schema-registry")
}

// serviceAuth is the basic authentication of the HTTP service whose
// properties are samsa.<service>.authentication.*, nil unless its method
// is BASIC: users log in to the node's first SASL_PLAINTEXT listener with
// samsa.<service>.authentication.sasl.mechanism (default SCRAM-SHA-512).
func (n *Node) serviceAuth(service, realm string) (*httpserve.BasicAuth, error) {
	b := n.cfg.Broker
	prefix := "samsa." + service + ".authentication."
	if b == nil || !strings.EqualFold(b.Values[prefix+"method"], "BASIC") {
		return nil, nil
	}
	mech := b.Values[prefix+"sasl.mechanism"]
	if mech == "" {
		mech = "SCRAM-SHA-512"
	}
	for _, bl := range n.listeners {
		if bl.cfg.Protocol == config.ProtocolSASLPlaintext {
			return httpserve.New(httpserve.Config{Brokers: []string{bl.advertised}, Mechanism: mech, Realm: realm})
		}
	}
	return nil, fmt.Errorf("%smethod=BASIC needs a SASL_PLAINTEXT listener for the logins; this node has none", prefix)
}

// serviceTLS is the TLS of an HTTP service's listener named name
// (listener.name.<name>.ssl.* settings, falling back to ssl.*, as for a
// Kafka listener): the server side, and the client side its instances
// use to reach each other at addr.
func (n *Node) serviceTLS(name, addr string) (*tls.Config, *tls.Config, error) {
	server, r, err := n.serviceTLSReloader(name)
	if err != nil {
		return nil, nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	return server, r.ClientConfig(host), nil
}

// serviceTLSReloader is serviceTLS's server side and the Reloader behind
// it (which also maps client certificates to principals).
func (n *Node) serviceTLSReloader(name string) (*tls.Config, *tlsconf.Reloader, error) {
	tc, err := tlsconf.FromProperties(n.settings.SecurityProps(), name)
	if err != nil {
		return nil, nil, err
	}
	r, err := tlsconf.NewReloader(tc, n.lg.With("component", "tls", "listener", name))
	if err != nil {
		return nil, nil, err
	}
	server, err := r.ServerConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("listener %s: %w (set listener.name.%s.ssl.keystore.location)", name, err, strings.ToLower(name))
	}
	return server, r, nil
}
