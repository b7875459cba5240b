package config

import "strings"

// ListenerProtocol is the security protocol listener.security.protocol.map
// gives the listener name (any case), and whether it gives one: what the
// node needs for the controller listener, which Listeners leaves out.
func (b *Broker) ListenerProtocol(name string) (string, bool, error) {
	pm, err := protocolMap(b.Values["listener.security.protocol.map"])
	if err != nil {
		return "", false, err
	}
	p, ok := pm[strings.ToUpper(strings.TrimSpace(name))]
	return p, ok, nil
}
