package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"

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
// samsa.registry.authentication.method=BASIC (serviceAuth).
func (n *Node) registryAuth() (*httpserve.BasicAuth, error) {
	return n.serviceAuth("registry", "samsa-schema-registry")
}

// serviceAuth is the basic authentication of the HTTP service whose
// properties are samsa.<service>.authentication.*, nil unless its method
// is BASIC: users log in to one of the node's SASL listeners
// (loginListener) with samsa.<service>.authentication.sasl.mechanism
// (default SCRAM-SHA-512).
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
	addr, opts, err := n.loginListener()
	if err != nil {
		return nil, fmt.Errorf("%smethod=BASIC: %w", prefix, err)
	}
	return httpserve.New(httpserve.Config{Brokers: []string{addr}, ClientOpts: opts, Mechanism: mech, Realm: realm})
}

// loginListener is the Kafka listener HTTP services log their users in
// to, and the client options that reach it: a SASL_PLAINTEXT listener
// advertised on loopback first (the password never leaves the machine),
// else a SASL_SSL one (loginTLS), else a SASL_PLAINTEXT one elsewhere.
func (n *Node) loginListener() (string, []kgo.Opt, error) {
	var plain, secured *boundListener
	for i := range n.listeners {
		bl := &n.listeners[i]
		switch bl.cfg.Protocol {
		case config.ProtocolSASLPlaintext:
			if loopbackAddr(bl.advertised) {
				return bl.advertised, nil, nil
			}
			if plain == nil {
				plain = bl
			}
		case config.ProtocolSASLSSL:
			if secured == nil {
				secured = bl
			}
		}
	}
	switch {
	case secured != nil:
		dial, err := n.loginTLS(secured)
		if err != nil {
			return "", nil, err
		}
		return secured.advertised, []kgo.Opt{kgo.Dialer(dial)}, nil
	case plain != nil:
		return plain.advertised, nil, nil
	}
	return "", nil, errors.New("the logins need a SASL_PLAINTEXT or SASL_SSL listener; this node has none")
}

// loopbackAddr reports whether host:port names this machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loginTLS dials the node's own SASL_SSL listener bl for the logins (and
// for the users' clients, which may then reach the other brokers' same
// listener). The server is trusted if its chain verifies, for the host
// dialled (the name is always checked, whatever
// ssl.endpoint.identification.algorithm says), against the listener's
// trust store (its listener.name.<l>.ssl.truststore.* or ssl.truststore.*
// settings, the system's without one) together with the certificates the
// listener itself serves now: the same process's own certificate and its
// issuers, so a listener without a trust store is still reached, and a
// reloaded certificate is trusted from the next dial. With a keystore the
// client presents the listener's certificate when asked for one
// (ssl.client.auth on that listener).
func (n *Node) loginTLS(bl *boundListener) (func(ctx context.Context, network, host string) (net.Conn, error), error) {
	if bl.serve.TLS == nil || bl.serve.TLS.GetCertificate == nil {
		return nil, fmt.Errorf("listener %s has no certificate", bl.cfg.Name)
	}
	tc, err := tlsconf.FromProperties(n.settings.SecurityProps(), bl.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", bl.cfg.Name, err)
	}
	r, err := tlsconf.NewReloader(tc, n.lg.With("component", "tls", "listener", bl.cfg.Name, "side", "logins"))
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", bl.cfg.Name, err)
	}
	served := bl.serve.TLS.GetCertificate
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		c := r.ClientConfig(host)
		c.InsecureSkipVerify, c.VerifyConnection = false, nil
		cert, err := served(&tls.ClientHelloInfo{ServerName: host})
		if err != nil {
			return nil, fmt.Errorf("listener %s's certificate: %w", bl.cfg.Name, err)
		}
		if c.RootCAs, err = withChain(c.RootCAs, cert); err != nil {
			return nil, fmt.Errorf("listener %s's certificate: %w", bl.cfg.Name, err)
		}
		d := tls.Dialer{Config: c}
		return d.DialContext(ctx, network, addr)
	}, nil
}

// withChain is a copy of roots (the system's when nil) with the
// certificates of cert's chain added.
func withChain(roots *x509.CertPool, cert *tls.Certificate) (*x509.CertPool, error) {
	if roots == nil {
		sys, err := x509.SystemCertPool()
		if err != nil {
			sys = x509.NewCertPool()
		}
		roots = sys
	} else {
		roots = roots.Clone()
	}
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		roots.AddCert(c)
	}
	return roots, nil
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
