package node

import (
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
//   - SASL_PLAINTEXT, SASL_SSL: refused (not implemented for raft).

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
	case proto != config.ProtocolSSL:
		return fmt.Errorf("controller listener %s: %s is not available there: use SSL with client certificates for the controller listener", name, proto)
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
