package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/samsa-streaming/samsa/internal/restproxy"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
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
		if host, ok := strings.CutPrefix(cfg.RegistryURL, "https://"); ok {
			var err error
			if _, cfg.RegistryTLS, err = n.serviceTLS("REGISTRY", host); err != nil {
				return fmt.Errorf("rest proxy: the registry's TLS: %w", err)
			}
		}
	}
	if err := n.restSecurity(&cfg); err != nil {
		return fmt.Errorf("rest proxy: %w", err)
	}
	srv, err := restproxy.New(cfg)
	if err != nil {
		if cfg.Auth != nil {
			cfg.Auth.Close()
		}
		return fmt.Errorf("rest proxy: %w", err)
	}
	if cfg.Auth != nil {
		n.stack.push("rest proxy logins", false, func() error { cfg.Auth.Close(); return nil })
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

// restSecurity applies the REST proxy's security settings to cfg: an
// https:// --rest-listen serves TLS with the listener.name.rest.ssl.*
// settings (ssl.* as fallback; certificates reload as a Kafka listener's),
// and with ssl.client.auth=required a client certificate's subject, mapped
// by ssl.principal.mapping.rules, names the caller;
// samsa.rest.authentication.method=BASIC requires Kafka users' basic
// credentials and passes each user through to the broker.
func (n *Node) restSecurity(cfg *restproxy.Config) error {
	if rest, ok := strings.CutPrefix(cfg.Listen, "https://"); ok {
		server, r, err := n.serviceTLSReloader("REST")
		if err != nil {
			return err
		}
		cfg.TLS, cfg.Listen = server, rest
		tc, err := tlsconf.FromProperties(n.settings.SecurityProps(), "REST")
		if err != nil {
			return err
		}
		if tc.ClientAuth == tlsconf.ClientAuthRequired {
			cfg.CertPrincipal = func(cs tls.ConnectionState) (string, error) {
				p, err := r.Principal(cs)
				return p.Name, err
			}
		}
	}
	cfg.Listen = strings.TrimPrefix(cfg.Listen, "http://")
	auth, err := n.serviceAuth("rest", "samsa-rest-proxy")
	if err != nil {
		return err
	}
	cfg.Auth = auth
	return nil
}
