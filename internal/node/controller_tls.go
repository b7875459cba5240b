package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/sasl"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
)

// Security of the controller listener (the raft transport). Its protocol
// is listener.security.protocol.map's entry for the first name in
// controller.listener.names (no entry: PLAINTEXT, as before):
//
//   - PLAINTEXT: no TLS. Every connection still starts with the
//     transport's hello, so a node of another cluster is refused and a
//     connection speaks for one node only (controller/transport_tcp.go).
//   - SSL: mutual TLS from the listener's ssl.* settings
//     (listener.name.<controller>.ssl.* over ssl.*), reloaded when the
//     files change. ssl.client.auth is always required there, and a trust
//     store is needed to verify the other nodes. A peer is allowed when
//     its certificate's principal (ssl.principal.mapping.rules) is in
//     super.users, for any node id: Kafka authorizes the controller
//     listener's clients for ClusterAction, and brokers and controllers
//     are conventionally super users (often one shared principal). This
//     node's own principal must be one too, or it could not join.
//   - SASL_PLAINTEXT, SASL_SSL: every connection authenticates with SASL
//     PLAIN after its hello (controller/transport_sasl.go), over the
//     listener's TLS with SASL_SSL (client certificates as its
//     ssl.client.auth says). The node logs in with
//     sasl.mechanism.controller.protocol (PLAIN; Kafka's default GSSAPI is
//     refused, and SCRAM too: its credentials live in the metadata log the
//     controllers replicate) and the username and password of
//     listener.name.<controller>.plain.sasl.jaas.config, whose user_<name>
//     entries are the logins it accepts. As with SSL, a peer is allowed
//     when its principal (User:<username>) is in super.users, and this
//     node's own must be.

// controllerListenerName is the first of controller.listener.names.
func controllerListenerName(cfg *config.Broker) string {
	name, _, _ := strings.Cut(cfg.Values["controller.listener.names"], ",")
	if name = strings.ToUpper(strings.TrimSpace(name)); name == "" {
		return "CONTROLLER"
	}
	return name
}

// controllerSecurity sets the transport's TLS and peer authorization from
// the controller listener's protocol.
func (n *Node) controllerSecurity(tc *controller.TCPConfig) error {
	name := controllerListenerName(n.settings)
	proto, mapped, err := n.settings.ListenerProtocol(name)
	if err != nil {
		return err
	}
	switch {
	case !mapped || proto == config.ProtocolPlaintext:
		return nil
	case proto == config.ProtocolSASLPlaintext || proto == config.ProtocolSASLSSL:
		return n.controllerSASL(tc, config.Listener{Name: name, Protocol: proto})
	case proto != config.ProtocolSSL:
		return fmt.Errorf("controller listener %s: %s is not available there: use SSL with client certificates, SASL_PLAINTEXT or SASL_SSL", name, proto)
	}
	r, err := n.controllerTLS(name)
	if err != nil {
		return fmt.Errorf("controller listener %s: %w", name, err)
	}
	if tc.ServerTLS, err = r.ServerConfig(); err != nil {
		return fmt.Errorf("controller listener %s: %w", name, err)
	}
	tc.ClientTLS = func(addr string) *tls.Config {
		host, _, _ := net.SplitHostPort(addr)
		return r.ClientConfig(host)
	}
	allowed, err := n.controllerPrincipals(name, r)
	if err != nil {
		return err
	}
	tc.Authorize = func(cs tls.ConnectionState, nodeID int32) error {
		p, err := r.Principal(cs)
		if err != nil {
			return err
		}
		if !slices.Contains(allowed, p.String()) {
			return fmt.Errorf("principal %s may not speak for node %d: it is not in super.users", p, nodeID)
		}
		return nil
	}
	n.lg.Info("controller listener uses mutual TLS", "listener", name, "allowed", strings.Join(allowed, ";"))
	return nil
}

// controllerTLS reads the listener's ssl.* settings, with client
// certificates required.
func (n *Node) controllerTLS(name string) (*tlsconf.Reloader, error) {
	cfg, err := tlsconf.FromProperties(n.settings.SecurityProps(), name)
	if err != nil {
		return nil, err
	}
	if !cfg.HasKeystore() || !cfg.HasTruststore() {
		return nil, errors.New("SSL needs this node's certificate (ssl.keystore.*) and the CA that issued the other nodes' (ssl.truststore.*)")
	}
	cfg.ClientAuth = tlsconf.ClientAuthRequired
	return tlsconf.NewReloader(cfg, n.lg.With("component", "tls", "listener", name))
}

// controllerPrincipals are the principals allowed on the controller
// listener (super.users), which must include this node's own.
func (n *Node) controllerPrincipals(name string, r *tlsconf.Reloader) ([]string, error) {
	allowed, err := acl.ParseSuperUsers(n.settings.Values["super.users"])
	if err != nil {
		return nil, fmt.Errorf("super.users: %w", err)
	}
	// This node's certificate as its peers see it.
	leaf := r.Leaf()
	own, err := r.Principal(tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}})
	if err != nil {
		return nil, fmt.Errorf("controller listener %s: this node's certificate: %w", name, err)
	}
	if !slices.Contains(allowed, own.String()) {
		return nil, fmt.Errorf("controller listener %s: this node's certificate principal %s is not in super.users (%q): "+
			"the other nodes would refuse it; add it (nodes conventionally share one super-user principal)", name, own, n.settings.Values["super.users"])
	}
	return allowed, nil
}

// controllerSASL sets the transport's SASL (and with SASL_SSL its TLS) for
// the controller listener l.
func (n *Node) controllerSASL(tc *controller.TCPConfig, l config.Listener) error {
	props := n.settings.SecurityProps()
	login, err := newSASLLogin(props, l.Name, "sasl.mechanism.controller.protocol", sasl.MechanismPlain)
	if err != nil {
		return fmt.Errorf("controller %w", err)
	}
	cfg, err := sasl.ConfigFromProperties(props, l.Name)
	if err != nil {
		return fmt.Errorf("controller listener %s: %w", l.Name, err)
	}
	if !slices.Contains(cfg.EnabledMechanisms, sasl.MechanismPlain) {
		return fmt.Errorf("controller listener %s: sasl.enabled.mechanisms (%s) must include PLAIN, the mechanism of sasl.mechanism.controller.protocol",
			l.Name, strings.Join(cfg.EnabledMechanisms, ","))
	}
	mech, err := n.mechanism(sasl.MechanismPlain, l, cfg, props)
	if err != nil {
		return fmt.Errorf("controller listener %s: %w", l.Name, err)
	}
	allowed, err := acl.ParseSuperUsers(n.settings.Values["super.users"])
	if err != nil {
		return fmt.Errorf("super.users: %w", err)
	}
	if !slices.Contains(allowed, login.principal()) {
		return fmt.Errorf("controller listener %s: this node logs in as %s, which is not in super.users (%q): the other nodes would refuse it",
			l.Name, login.principal(), n.settings.Values["super.users"])
	}
	if l.TLS() {
		if err := n.controllerSASLTLS(tc, l.Name, props); err != nil {
			return err
		}
	}
	tc.SASL = &controller.TransportSASL{
		Mechanism: login.mechanism,
		Login: func(ctx context.Context, host string) (controller.SASLClientSession, []byte, error) {
			return login.mech.Authenticate(ctx, host)
		},
		Accept: func(m string) (controller.SASLServerExchange, error) {
			if m != mech.Name() {
				return nil, fmt.Errorf("SASL mechanism %s is not enabled on the controller listener (%s is)", m, mech.Name())
			}
			return &saslExchange{ex: mech.Start()}, nil
		},
		Authorize: func(p string, nodeID int32) error {
			if !slices.Contains(allowed, p) {
				return fmt.Errorf("principal %s may not speak for node %d: it is not in super.users", p, nodeID)
			}
			return nil
		},
	}
	n.lg.Info("controller listener uses SASL", "listener", l.Name, "protocol", l.Protocol, "mechanism", login.mechanism,
		"principal", login.principal(), "allowed", strings.Join(allowed, ";"))
	return nil
}

// controllerSASLTLS is the TLS under SASL_SSL: the listener's ssl.*
// settings, client certificates as ssl.client.auth says.
func (n *Node) controllerSASLTLS(tc *controller.TCPConfig, name string, props map[string]string) error {
	cfg, err := tlsconf.FromProperties(props, name)
	if err != nil {
		return fmt.Errorf("controller listener %s: %w", name, err)
	}
	if !cfg.HasKeystore() {
		return fmt.Errorf("controller listener %s: SASL_SSL needs this node's certificate (ssl.keystore.*)", name)
	}
	r, err := tlsconf.NewReloader(cfg, n.lg.With("component", "tls", "listener", name))
	if err != nil {
		return fmt.Errorf("controller listener %s: %w", name, err)
	}
	if tc.ServerTLS, err = r.ServerConfig(); err != nil {
		return fmt.Errorf("controller listener %s: %w", name, err)
	}
	tc.ClientTLS = func(addr string) *tls.Config {
		host, _, _ := net.SplitHostPort(addr)
		return r.ClientConfig(host)
	}
	return nil
}
