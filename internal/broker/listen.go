package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
)

// bufferPoolBytes bounds the large request buffers kept for reuse across
// all connections (protocol.BufferPool): enough for a few producers'
// multi-megabyte requests to cycle without allocating, independent of the
// number of connections.
const bufferPoolBytes = 64 << 20

// shutdownGrace is how long Serve, once stopped, lets connections finish
// the request they are handling before closing their sockets, abandoning
// responses a client does not read.
const shutdownGrace = 5 * time.Second

// maxAcceptBackoff caps the wait between failed accepts.
const maxAcceptBackoff = time.Second

// refusalLogEvery rate-limits the log of refused connections.
const refusalLogEvery = 10 * time.Second

// Returning dropped request buffers to the OS (trimMemory): after at least
// trimAfterBytes were dropped, at most once per trimEvery.
const (
	trimAfterBytes = 64 << 20
	trimEvery      = 5 * time.Second
)

// memTrim is trimMemory's state.
type memTrim struct {
	mu      sync.Mutex
	last    time.Time
	dropped atomic.Int64 // BufferPool.Dropped at the last trim
}

// trimMemory hands the memory of large request buffers that were dropped
// back to the OS once no large request is in flight. Without it, the Go
// heap keeps the pages of a burst of large requests resident until its
// next collection, which an idle broker may not run for minutes. It runs
// on the calling connection's goroutine, after its response is written.
func (b *Broker) trimMemory() {
	d := b.bufs.Dropped()
	if d-b.trim.dropped.Load() < trimAfterBytes || b.budget != nil && b.budget.Used() > 0 {
		return
	}
	b.trim.mu.Lock()
	if d-b.trim.dropped.Load() < trimAfterBytes || time.Since(b.trim.last) < trimEvery {
		b.trim.mu.Unlock()
		return
	}
	b.trim.last = time.Now()
	b.trim.dropped.Store(d)
	b.trim.mu.Unlock()
	debug.FreeOSMemory()
}

// connLimits are the connection settings, fixed at start-up.
type connLimits struct {
	maxConns  int // max.connections, broker-wide
	maxPerIP  int // max.connections.per.ip
	overrides map[string]int
	idle      time.Duration // connections.max.idle.ms; 0 for none
}

func newConnLimits(s *config.Broker) (connLimits, error) {
	l := connLimits{maxConns: int(s.MaxConnections), maxPerIP: int(s.MaxConnectionsPerIP)}
	if s.ConnectionsMaxIdleMs > 0 {
		l.idle = time.Duration(s.ConnectionsMaxIdleMs) * time.Millisecond
	}
	var err error
	l.overrides, err = parseIPOverrides(s.MaxConnectionsPerIPOverrides)
	return l, err
}

// parseIPOverrides parses max.connections.per.ip.overrides, Kafka's
// "host:count,host:count"; a host name is resolved to its addresses.
func parseIPOverrides(v string) (map[string]int, error) {
	out := make(map[string]int)
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndex(item, ":")
		n, err := strconv.Atoi(strings.TrimSpace(item[i+1:]))
		if i <= 0 || err != nil || n < 0 {
			return nil, fmt.Errorf("broker: max.connections.per.ip.overrides: %q is not host:count", item)
		}
		host := strings.Trim(strings.TrimSpace(item[:i]), "[]")
		if ip := net.ParseIP(host); ip != nil {
			out[ip.String()] = n
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, host)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("broker: max.connections.per.ip.overrides: %w", err)
		}
		for _, a := range addrs {
			out[net.ParseIP(a).String()] = n
		}
	}
	return out, nil
}

func (l *connLimits) perIP(ip string) int {
	if n, ok := l.overrides[ip]; ok {
		return n
	}
	return l.maxPerIP
}

// refusalLog rate-limits the log of refused connections; guarded by
// Broker.connMu.
type refusalLog struct {
	last       time.Time
	suppressed int
}

// Listener describes a Kafka listener the broker serves: its name (as
// registered, so Metadata answers each broker's address on the same
// listener), its security protocol and what that needs.
type Listener struct {
	Name     string // upper case, as in listeners; "" for an unnamed one
	Protocol string // config.Protocol*; "" is PLAINTEXT
	// TLS is the server configuration of an SSL or SASL_SSL listener.
	TLS *tls.Config
	// Principal maps a verified client certificate (an SSL listener's
	// handshake) to a principal, as ssl.principal.mapping.rules say; an
	// error fails the connection. Nil: "User:" + the subject as Go prints
	// it.
	Principal func(tls.ConnectionState) (string, error)
	// SASL authenticates a SASL_PLAINTEXT or SASL_SSL listener's
	// connections (required for those, nil for the others).
	SASL SASL
	// ReauthMs is connections.max.reauth.ms (0: sessions never expire).
	ReauthMs int64
	// MaxPreAuthBytes caps a frame before authentication
	// (sasl.server.max.receive.size; 0: socket.request.max.bytes).
	MaxPreAuthBytes int32
	// InterBroker marks the replication listener: exempt from
	// max.connections, as Kafka's inter-broker listener.
	InterBroker bool
}

// Serve accepts client connections on ln until ctx ends, then stops
// accepting and returns once every connection is closed (see drain).
// Accept errors, including running out of file descriptors, are logged and
// retried after a backoff of up to a second; only the listener's close
// ends Serve.
func (b *Broker) Serve(ctx context.Context, ln net.Listener, l Listener) error {
	if (l.Protocol == config.ProtocolSSL || l.Protocol == config.ProtocolSASLSSL) && l.TLS == nil {
		return fmt.Errorf("broker: listener %s (%s) has no TLS configuration", l.Name, l.Protocol)
	}
	if l.Protocol == "" {
		l.Protocol = config.ProtocolPlaintext
	}
	if sasl := l.Protocol == config.ProtocolSASLPlaintext || l.Protocol == config.ProtocolSASLSSL; sasl != (l.SASL != nil) {
		return fmt.Errorf("broker: listener %s (%s): SASL configured %v", l.Name, l.Protocol, l.SASL != nil)
	}
	return b.serve(ctx, ln, &l)
}

func (b *Broker) serve(ctx context.Context, ln net.Listener, l *Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	var failedSince time.Time
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), maxAcceptBackoff)
			if failedSince.IsZero() || backoff == maxAcceptBackoff && time.Since(failedSince) > refusalLogEvery {
				b.lg.Warn("accept failed; retrying", "listener", ln.Addr().String(), "err", err, "backoff", backoff)
				failedSince = time.Now()
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if !failedSince.IsZero() {
			b.lg.Info("accepting again", "listener", ln.Addr().String())
		}
		backoff, failedSince = 0, time.Time{}
		b.admit(ctx, nc, l)
	}
	b.drain()
	return nil
}

// admit starts serving nc, or closes it at once when the broker is
// stopping or a connection limit is reached (Kafka closes it too).
func (b *Broker) admit(ctx context.Context, nc net.Conn, l *Listener) {
	ip := remoteIP(nc)
	if !l.InterBroker && !b.admitRate(ctx, ip) {
		nc.Close()
		return
	}
	b.connMu.Lock()
	reason := ""
	switch {
	case b.closed:
		reason = "stopping"
	case b.perIP[ip] >= b.limits.perIP(ip):
		reason = "max.connections.per.ip"
	case !l.InterBroker && len(b.conns) >= b.limits.maxConns:
		reason = "max.connections"
	}
	if reason != "" {
		b.logRefusalLocked(ip, reason)
		b.connMu.Unlock()
		nc.Close()
		return
	}
	c := newConn(b, nc, ip, l)
	b.conns[c] = struct{}{}
	b.perIP[ip]++
	b.connWG.Add(1)
	b.connMu.Unlock()
	go func() { // owned by the broker: drain stops and waits for it
		defer b.connWG.Done()
		c.serve(ctx)
		b.closeShareSessions(c)
		b.connMu.Lock()
		delete(b.conns, c)
		if b.perIP[ip]--; b.perIP[ip] <= 0 {
			delete(b.perIP, ip)
		}
		b.connMu.Unlock()
	}()
}

func remoteIP(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	return host
}

// logRefusalLocked logs a refused connection, at most once per
// refusalLogEvery with the number refused meanwhile.
func (b *Broker) logRefusalLocked(ip, reason string) {
	r := &b.refused
	if now := time.Now(); now.Sub(r.last) >= refusalLogEvery {
		b.lg.Info("refusing connection", "ip", ip, "limit", reason, "refused_since_last_log", r.suppressed)
		r.last, r.suppressed = now, 0
		return
	}
	r.suppressed++
}

// drain stops every connection: idle ones close at once, busy ones finish
// their request; after shutdownGrace the sockets of those still busy are
// closed (a client that does not read its response cannot hold the stop).
func (b *Broker) drain() {
	b.connMu.Lock()
	b.closed = true
	for c := range b.conns {
		c.shutdown()
	}
	b.connMu.Unlock()
	done := make(chan struct{})
	go func() { // owned by drain, which waits for it below
		b.connWG.Wait()
		close(done)
	}()
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	b.connMu.Lock()
	b.lg.Warn("closing connections still busy after the shutdown grace", "connections", len(b.conns), "grace", shutdownGrace)
	for c := range b.conns {
		c.raw.Close() // the socket itself: a TLS close would wait to send its alert
	}
	b.connMu.Unlock()
	<-done
}
