package node

import (
	"context"
	"fmt"
	"net"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// boundListener is one Kafka listener the node serves: its settings, its
// socket, the address it advertises and how the broker serves it.
type boundListener struct {
	cfg        config.Listener
	ln         net.Listener
	advertised string
	serve      broker.Listener
}

// bindListeners binds every Kafka listener after the first (n.ln) and the
// --replication-listen one, and fills in the registration: the first
// listener's address, the others as endpoints, and the replication
// endpoint (--replication-listen, or inter.broker.listener.name when it
// names another listener than the first).
func (n *Node) bindListeners(served []broker.Listener) error {
	ls := n.settings.Listeners
	n.listeners = []boundListener{{cfg: ls[0], ln: n.ln, advertised: n.advertised, serve: served[0]}}
	n.reg.Listener = ls[0].Name
	for i, l := range ls[1:] {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			return fmt.Errorf("listen: listener %s: %w", l.Name, err)
		}
		n.stack.push("listener "+l.Name+" socket", false, ignoreClosed(ln.Close))
		adv := l.Advertised
		if adv == "" {
			adv = ln.Addr().String()
		}
		host, port, err := splitHostPort(adv)
		if err != nil {
			return fmt.Errorf("advertised.listeners: listener %s: %w", l.Name, err)
		}
		inter := served[i+1].InterBroker
		n.listeners = append(n.listeners, boundListener{cfg: l, ln: ln, advertised: adv, serve: served[i+1]})
		n.reg.Endpoints = append(n.reg.Endpoints, metadata.Endpoint{Name: l.Name, Host: host, Port: int32(port)})
		if inter {
			n.reg.ReplicationHost, n.reg.ReplicationPort = host, int32(port)
		}
	}
	return nil
}

// prepareListeners sets up how the broker serves each Kafka listener (TLS,
// SASL), in listeners order, before any is bound.
func (n *Node) prepareListeners() ([]broker.Listener, error) {
	out := make([]broker.Listener, 0, len(n.settings.Listeners))
	for i, l := range n.settings.Listeners {
		inter := i > 0 && l.Name == n.settings.InterBrokerListener && n.cfg.ReplicationListen == ""
		bl, err := n.brokerListener(l, inter)
		if err != nil {
			return nil, err
		}
		out = append(out, bl)
	}
	return out, nil
}

// brokerListener is how the broker serves l: its TLS configuration and
// principal mapping for SSL and SASL_SSL.
func (n *Node) brokerListener(l config.Listener, interBroker bool) (broker.Listener, error) {
	bl := broker.Listener{Name: l.Name, Protocol: l.Protocol, InterBroker: interBroker}
	props := n.settings.SecurityProps()
	if l.TLS() {
		if err := n.listenerTLS(l, props, &bl); err != nil {
			return bl, err
		}
	}
	if !l.SASL() {
		return bl, nil
	}
	var err error
	if bl.SASL, err = n.listenerSASL(l); err != nil {
		return bl, err
	}
	if bl.ReauthMs, err = reauthMs(props, l); err != nil {
		return bl, err
	}
	bl.MaxPreAuthBytes, err = maxPreAuthBytes(props, l)
	return bl, err
}

// serveListeners starts serving every Kafka listener, the replication
// ones first.
func (n *Node) serveListeners(ctx context.Context) error {
	if n.replLn != nil {
		// Exempt from max.connections, as Kafka's inter-broker listener.
		// Unnamed: Metadata on it answers the brokers' first listener.
		l := broker.Listener{Protocol: config.ProtocolPlaintext, InterBroker: true}
		if err := n.startService(ctx, n.listenerService("replication listener", n.replLn, l), true); err != nil {
			return err
		}
	}
	for _, bl := range n.listeners[1:] {
		if err := n.startService(ctx, n.listenerService("listener "+bl.cfg.Name, bl.ln, bl.serve), true); err != nil {
			return err
		}
	}
	return n.startService(ctx, n.listenerService("kafka listener", n.ln, n.listeners[0].serve), true)
}

// ListenerAddr is the bound address of the named Kafka listener ("" if
// there is none).
func (n *Node) ListenerAddr(name string) string {
	for _, bl := range n.listeners {
		if bl.cfg.Name == name {
			return bl.ln.Addr().String()
		}
	}
	return ""
}
