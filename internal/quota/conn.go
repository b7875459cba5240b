package quota

import (
	"math"
	"net/netip"
	"time"
)

// Connection creation rates (KIP-612), as Kafka's ConnectionQuotas: the
// acceptor first calls ConnectionDelay and waits what it says (the
// broker-wide max.connection.creation.rate), then AdmitConnection for
// the client's address (connection_creation_rate of ips/<ip>, else
// ips/<default>). Both throttles are capped at one quota window.

// ConnectionDelay records a new connection against
// max.connection.creation.rate and returns how long the acceptor waits
// before going on with it (0 when within the rate or unlimited).
func (m *Manager) ConnectionDelay() time.Duration {
	bound := m.cfg.MaxConnectionCreationRate
	if bound == math.MaxInt32 {
		return 0
	}
	now := m.now()
	m.connMu.Lock()
	defer m.connMu.Unlock()
	return ms(m.connRate.recordAndThrottle(m.client, 1, float64(bound), now, m.client.sizeMs))
}

// AdmitConnection records a connection from ip against its
// connection_creation_rate. ok false means the address is over its rate:
// the broker does not serve the connection and closes it after throttle
// (Kafka's delayed close), and the connection is taken back from the
// counts (the address's and the broker-wide one), as it was never
// accepted.
func (m *Manager) AdmitConnection(ip netip.Addr) (throttle time.Duration, ok bool) {
	ip = ip.Unmap().WithZone("")
	limit, ok := m.store.Load().ipRate(ip)
	if !ok || limit >= math.MaxInt32 {
		return 0, true
	}
	now := m.now()
	sh, s := m.sensors.get(sensorKey{kind: kindConnection, user: ip.String()}, now)
	t := s.rate.recordAndThrottle(m.client, 1, limit, now, m.client.sizeMs)
	if t > 0 {
		s.rate.record(m.client, -1, now)
	}
	sh.mu.Unlock()
	if t == 0 {
		return 0, true
	}
	if m.cfg.MaxConnectionCreationRate != math.MaxInt32 {
		m.connMu.Lock()
		m.connRate.record(m.client, -1, now)
		m.connMu.Unlock()
	}
	return ms(t), false
}
