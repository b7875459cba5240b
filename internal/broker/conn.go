package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/protocol"
)

// conn is one client connection. Its goroutine reads a request, handles it
// and writes the response before reading the next one.
type conn struct {
	b      *Broker
	nc     net.Conn
	raw    net.Conn // the socket under nc (nc itself without TLS)
	remote string
	ip     string // the per-IP connection count this conn is in
	l      *Listener
	// principal is who the connection authenticated as ("User:ANONYMOUS"
	// until TLS or SASL says otherwise); set before the first request is
	// handled and by SaslAuthenticate, read only by this goroutine.
	principal string
	sasl      saslState // sasl.go
	// closeAfter, set by a handler, closes the connection once its
	// response is written (a failed SASL authentication).
	closeAfter error
	// gather is under the TLS connection of an SSL or SASL_SSL listener
	// (conn_tls.go); nil otherwise.
	gather *coalescingConn
	// mute is how long to stop reading after the current response: a
	// quota throttle (quotas.go).
	mute time.Duration
	// clientID is the current request's client id.
	clientID string
	fr       protocol.FrameReader
	out      []byte
	// idle is connections.max.idle.ms: how long the connection may wait
	// for a request, a request's body may take to arrive, and a response
	// may take to be written; 0 for no limit.
	idle time.Duration
	// The current request's timing, for the request metrics
	// (metrics.go): when its size arrived, and how long its handler
	// waited (long poll, acks=all) and wrote (a fetch's response).
	reqStart      time.Time
	waited, wrote time.Duration

	// shareSessions are the share sessions (group, member) opened on
	// this connection, closed with it (share_wiring.go).
	shareSessions [][2]string

	mu       sync.Mutex
	stopping bool
	busy     bool
}

func newConn(b *Broker, nc net.Conn, ip string, l *Listener) *conn {
	c := &conn{b: b, nc: nc, raw: nc, remote: nc.RemoteAddr().String(), ip: ip, l: l, idle: b.limits.idle, principal: anonymous}
	if l.TLS != nil {
		c.gather = &coalescingConn{Conn: nc}
		c.nc = tls.Server(c.gather, l.TLS)
	}
	c.fr = protocol.FrameReader{
		R:          bufio.NewReaderSize(c.nc, 64<<10),
		MaxSize:    b.settings().SocketRequestMaxBytes,
		Pool:       b.bufs,
		Budget:     b.budget,
		BeforeBody: func(int32) { c.startRequest() },
	}
	return c
}

// shutdown asks the connection to close once its current request is done.
func (c *conn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if !c.busy {
		// Unblock a read waiting for the next request.
		c.nc.SetReadDeadline(time.Now())
	}
}

// awaitRequest marks the connection idle and gives the next request
// connections.max.idle.ms to begin (Kafka's idle check). It reports
// whether the connection should close instead. The deadline is set under
// mu so that it cannot overwrite shutdown's.
func (c *conn) awaitRequest() (stop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	if c.stopping {
		return true
	}
	c.nc.SetReadDeadline(c.deadline())
	return false
}

// startRequest marks the connection busy once a request's size is read:
// its body has connections.max.idle.ms to arrive, and shutdown lets it
// finish (within the broker's grace).
func (c *conn) startRequest() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = true
	if c.b.metrics != nil {
		c.reqStart = time.Now()
	}
	if !c.stopping {
		c.nc.SetReadDeadline(c.deadline())
	}
}

// deadline is now plus the idle limit, or none.
func (c *conn) deadline() time.Time {
	if c.idle <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.idle)
}

func (c *conn) serve(ctx context.Context) {
	defer c.nc.Close()
	defer c.fr.Release()
	lg := c.b.lg.With("remote", c.remote)
	if err := c.handshake(ctx); err != nil {
		lg.Info("closing connection: TLS handshake failed", "listener", c.l.Name, "err", err)
		return
	}
	for {
		c.waitMute(ctx)
		if c.awaitRequest() {
			return
		}
		c.fr.MaxSize = c.frameCap()
		frame, err := c.fr.Next(ctx)
		if err != nil {
			switch {
			case isTimeout(err):
				lg.Debug("closing idle connection", "idle", c.idle)
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil:
				lg.Info("closing connection", "err", err)
			}
			return
		}
		if c.sasl.raw && c.sasl.ex != nil {
			err = c.handleRawToken(frame)
		} else {
			err = c.handleFrame(ctx, frame)
		}
		if err == nil {
			err = c.closeAfter
		}
		c.fr.Release()
		c.b.trimMemory()
		if err != nil {
			lg.Info("closing connection", "err", err)
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handleFrame decodes one request, dispatches it and writes the response.
func (c *conn) handleFrame(ctx context.Context, frame []byte) (err error) {
	hdr, req, perr := protocol.ParseRequest(frame)
	if perr != nil {
		if hdr.Key == int16(kmsg.ApiVersions) && errors.Is(perr, protocol.ErrUnsupportedVersion) || hdr.Key == int16(kmsg.ApiVersions) && hdr.Version > apiTable[18].max {
			return c.writeResponse(hdr.CorrelationID, apiVersionsUnsupported())
		}
		return fmt.Errorf("request key %d v%d: %w", hdr.Key, hdr.Version, perr)
	}
	a, ok := apiTable[hdr.Key]
	if !ok {
		return fmt.Errorf("unsupported API key %d", hdr.Key)
	}
	if hdr.Version < a.min || hdr.Version > a.max {
		if hdr.Key == int16(kmsg.ApiVersions) {
			return c.writeResponse(hdr.CorrelationID, apiVersionsUnsupported())
		}
		return fmt.Errorf("unsupported version %d of %s (supported %d-%d)", hdr.Version, kmsg.NameForKey(hdr.Key), a.min, a.max)
	}
	if err := c.authorizeFrame(hdr.Key); err != nil {
		return fmt.Errorf("%s from %s: %w", kmsg.NameForKey(hdr.Key), c.principal, err)
	}
	r := &request{hdr: hdr, req: req}
	if !c.interBrokerAllowed(r) {
		return fmt.Errorf("%s from %s on listener %s: %w", kmsg.NameForKey(hdr.Key), c.principal, c.l.Name, errInterBrokerOnly)
	}
	c.clientID = hdr.ClientID
	defer func() {
		if p := recover(); p != nil {
			c.b.lg.Error("handler panic", "api", kmsg.NameForKey(hdr.Key), "version", hdr.Version, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error handling %s", kmsg.NameForKey(hdr.Key))
		}
	}()
	start := time.Now()
	c.waited, c.wrote = 0, 0
	resp, err := a.handle(c.b, ctx, c, r)
	if err != nil {
		return err
	}
	handled := time.Now()
	c.recordRequest(r, len(frame), handled.Sub(start), resp)
	if resp != nil {
		err = c.writeResponse(hdr.CorrelationID, resp)
	}
	c.recordMetrics(r, start, handled)
	return err
}

func (c *conn) writeResponse(corr int32, resp kmsg.Response) error {
	c.out = protocol.AppendResponse(c.out[:0], corr, resp)
	c.nc.SetWriteDeadline(c.deadline())
	_, err := c.nc.Write(c.out)
	err = errors.Join(err, c.flushTLS())
	if cap(c.out) > protocol.KeptFrameBytes {
		c.out = nil
	}
	return err
}

// apiVersionsUnsupported is the KIP-511 answer to an ApiVersions request of a
// version newer than ours: v0, UNSUPPORTED_VERSION, and our ApiVersions range
// so that the client retries with a version we know.
func apiVersionsUnsupported() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	a := apiTable[int16(kmsg.ApiVersions)]
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
	resp.ApiKeys = append(resp.ApiKeys, k)
	return resp
}

// anonymous is Kafka's principal for a connection that did not
// authenticate (KafkaPrincipal.ANONYMOUS).
const anonymous = "User:ANONYMOUS"

// tlsHandshakeTimeout bounds a TLS handshake when connections.max.idle.ms
// does not.
const tlsHandshakeTimeout = 30 * time.Second

// handshake runs the TLS handshake of an SSL or SASL_SSL listener within the
// idle limit, and takes the principal from a verified client certificate
// (ssl.client.auth), as Kafka's default principal builder.
func (c *conn) handshake(ctx context.Context) error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	d := c.idle
	if d <= 0 || d > tlsHandshakeTimeout {
		d = tlsHandshakeTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return err
	}
	c.gather.on = true
	cs := tc.ConnectionState()
	if len(cs.PeerCertificates) == 0 || c.l.Protocol != config.ProtocolSSL {
		return nil
	}
	if c.l.Principal == nil {
		c.principal = "User:" + cs.PeerCertificates[0].Subject.String()
		return nil
	}
	p, err := c.l.Principal(cs)
	if err != nil {
		return fmt.Errorf("client certificate principal: %w", err)
	}
	c.principal = p
	return nil
}

// frameCap is the largest request the connection accepts now: on a SASL
// listener before authentication, sasl.server.max.receive.size (Kafka's
// 512 KiB default), so an unauthenticated client cannot make the broker
// hold a large frame.
func (c *conn) frameCap() int32 {
	max := c.b.settings().SocketRequestMaxBytes
	if c.l.SASL != nil && !c.sasl.done && c.l.MaxPreAuthBytes > 0 && c.l.MaxPreAuthBytes < max {
		return c.l.MaxPreAuthBytes
	}
	return max
}

// handleRawToken answers one SASL token of a SaslHandshake v0 exchange: a
// size-prefixed token without request header, answered the same way.
func (c *conn) handleRawToken(token []byte) error {
	out, _, err := c.saslStep(token)
	if err != nil {
		return fmt.Errorf("SASL (handshake v0): %w", errSASLFailed)
	}
	c.out = binary.BigEndian.AppendUint32(c.out[:0], uint32(len(out)))
	c.out = append(c.out, out...)
	c.nc.SetWriteDeadline(c.deadline())
	_, err = c.nc.Write(c.out)
	err = errors.Join(err, c.flushTLS())
	return err
}
