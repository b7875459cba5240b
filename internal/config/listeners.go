package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Security protocols of a listener, Kafka's names.
const (
	ProtocolPlaintext     = "PLAINTEXT"
	ProtocolSSL           = "SSL"
	ProtocolSASLPlaintext = "SASL_PLAINTEXT"
	ProtocolSASLSSL       = "SASL_SSL"
)

// Listener is one entry of listeners: a name, the security protocol
// listener.security.protocol.map gives it, the address to bind and the
// address advertised.listeners gives clients ("" until bound: the bound
// address).
type Listener struct {
	Name       string // upper case, as Kafka compares them
	Protocol   string
	Addr       string // host:port to bind; port 0 picks one
	Advertised string // host:port; "": the bound address
}

// TLS reports whether the listener's protocol runs over TLS.
func (l Listener) TLS() bool { return l.Protocol == ProtocolSSL || l.Protocol == ProtocolSASLSSL }

// SASL reports whether the listener authenticates with SASL.
func (l Listener) SASL() bool {
	return l.Protocol == ProtocolSASLPlaintext || l.Protocol == ProtocolSASLSSL
}

// defaultProtocolMap is Kafka's listener.security.protocol.map default:
// each protocol maps to itself.
var defaultProtocolMap = map[string]string{
	ProtocolPlaintext: ProtocolPlaintext, ProtocolSSL: ProtocolSSL,
	ProtocolSASLPlaintext: ProtocolSASLPlaintext, ProtocolSASLSSL: ProtocolSASLSSL,
}

// protocolMap parses listener.security.protocol.map over Kafka's default.
func protocolMap(v string) (map[string]string, error) {
	m := make(map[string]string, len(defaultProtocolMap))
	for k, p := range defaultProtocolMap {
		m[k] = p
	}
	for _, kv := range strings.Split(v, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, p, ok := strings.Cut(kv, ":")
		p = strings.ToUpper(strings.TrimSpace(p))
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("listener.security.protocol.map: %q is not NAME:PROTOCOL", kv)
		}
		if _, known := defaultProtocolMap[p]; !known {
			return nil, fmt.Errorf("listener.security.protocol.map: %q: unknown security protocol %q (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)", kv, p)
		}
		m[strings.ToUpper(strings.TrimSpace(name))] = p
	}
	return m, nil
}

// parseListenerList parses Kafka's "NAME://host:port,..." (a bare
// host:port is PLAINTEXT://host:port) into name → address, in order.
func parseListenerList(key, v string) ([]string, map[string]string, error) {
	var names []string
	addrs := map[string]string{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "://")
		if !ok {
			name, addr = ProtocolPlaintext, item
		}
		name = strings.ToUpper(strings.TrimSpace(name))
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %q is not NAME://host:port", key, item)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return nil, nil, fmt.Errorf("%s: bad port in %q", key, item)
		}
		if _, dup := addrs[name]; dup {
			return nil, nil, fmt.Errorf("%s: listener name %s appears twice", key, name)
		}
		names = append(names, name)
		addrs[name] = net.JoinHostPort(host, port)
	}
	return names, addrs, nil
}

// resolveListeners sets Listeners, Listen, Advertised and
// InterBrokerListener from listeners, advertised.listeners,
// listener.security.protocol.map, controller.listener.names and
// inter.broker.listener.name. The controller's listeners (raft) are not
// Kafka listeners and are left out.
func (b *Broker) resolveListeners() error {
	pm, err := protocolMap(b.Values["listener.security.protocol.map"])
	if err != nil {
		return err
	}
	names, addrs, err := parseListenerList("listeners", b.Values["listeners"])
	if err != nil {
		return err
	}
	_, adv, err := parseListenerList("advertised.listeners", b.Values["advertised.listeners"])
	if err != nil {
		return err
	}
	controller := map[string]bool{}
	for _, n := range strings.Split(b.Values["controller.listener.names"], ",") {
		controller[strings.ToUpper(strings.TrimSpace(n))] = true
	}
	b.Listeners = b.Listeners[:0]
	ports := map[string]string{}
	for _, n := range names {
		if controller[n] {
			continue
		}
		p, ok := pm[n]
		if !ok {
			return fmt.Errorf("listeners: listener %s has no security protocol: name it PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, or map it in listener.security.protocol.map", n)
		}
		if _, port, _ := net.SplitHostPort(addrs[n]); port != "0" {
			if other, dup := ports[addrs[n]]; dup {
				return fmt.Errorf("listeners: %s and %s both bind %s", other, n, addrs[n])
			}
			ports[addrs[n]] = n
		}
		b.Listeners = append(b.Listeners, Listener{Name: n, Protocol: p, Addr: addrs[n], Advertised: adv[n]})
	}
	if len(b.Listeners) == 0 {
		return fmt.Errorf("listeners: %q names no Kafka listener (only controller ones)", b.Values["listeners"])
	}
	for n := range adv {
		if _, ok := addrs[n]; !ok && !controller[n] {
			return fmt.Errorf("advertised.listeners: listener %s is not in listeners", n)
		}
	}
	b.Listen, b.Advertised = b.Listeners[0].Addr, b.Listeners[0].Advertised
	if b.Advertised == "" {
		b.Advertised = b.Listen
	}
	b.InterBrokerListener = ""
	if n := strings.ToUpper(strings.TrimSpace(b.Values["inter.broker.listener.name"])); n != "" {
		if _, ok := b.Listener(n); !ok {
			return fmt.Errorf("inter.broker.listener.name: %s is not a listener in listeners", n)
		}
		b.InterBrokerListener = n
	}
	return nil
}

// Listener returns the Kafka listener of that name (upper case).
func (b *Broker) Listener(name string) (Listener, bool) {
	for _, l := range b.Listeners {
		if l.Name == name {
			return l, true
		}
	}
	return Listener{}, false
}

// SetPrimaryListen rebinds the first Kafka listener to addr (host:port),
// keeping its name and the other listeners: what --listen changes.
func (b *Broker) SetPrimaryListen(addr string) error {
	if len(b.Listeners) == 0 {
		return b.SetValue("listeners", addr)
	}
	first := b.Listeners[0].Name
	names, addrs, err := parseListenerList("listeners", b.Values["listeners"])
	if err != nil {
		return err
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		a := addrs[n]
		if n == first {
			a = addr
		}
		parts = append(parts, n+"://"+a)
	}
	return b.SetValue("listeners", strings.Join(parts, ","))
}
