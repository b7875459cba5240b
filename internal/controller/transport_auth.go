package controller

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Authentication of TCPTransport connections: the optional TLS layer and
// the hello every connection starts with (transport_tcp.go's doc comment
// gives the wire format and the rules).

var (
	// ErrNoHello: an accepted connection did not start with a hello (a
	// peer of a Samsa version without one, or not a Samsa node at all).
	ErrNoHello = errors.New("controller: connection did not start with a transport hello")
	// ErrBadHello: the hello is malformed or of an unknown version.
	ErrBadHello = errors.New("controller: malformed transport hello")
	// ErrPeerCluster: the peer's hello names another cluster id.
	ErrPeerCluster = errors.New("controller: peer belongs to another cluster")
	// ErrPeerIdentity: the peer is not who it may speak for (no verified
	// client certificate, a principal not allowed for the node id, or a
	// raft message whose sender is not the hello's node).
	ErrPeerIdentity = errors.New("controller: peer identity refused")
)

const (
	helloMagic   uint32 = 0x53484C4F // "SHLO"; > defaultMaxFrameBytes, < rpcMagic
	helloVersion uint16 = 1
	// helloMinBody is version:u16 nodeID:i32 clusterIDLen:u8.
	helloMinBody = 7
	helloMaxBody = 1024
	// handshakeTimeout bounds the TLS handshake and the hello of one
	// connection, on either side.
	handshakeTimeout = 10 * time.Second
	// refusalLogEvery is the least time between two warnings about
	// refused connections; the ones in between are counted.
	refusalLogEvery = 10 * time.Second
)

// hello is the first frame of every connection, from the dialer.
type hello struct {
	Version   uint16
	NodeID    int32
	ClusterID string // empty: the dialer does not know it yet
}

// appendHello appends h's frame (magic, length, body) to b. A cluster id
// longer than 255 bytes is cut (Kafka's are 22).
func appendHello(b []byte, h hello) []byte {
	id := h.ClusterID
	if len(id) > 255 {
		id = id[:255]
	}
	b = binary.BigEndian.AppendUint32(b, helloMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(helloMinBody+len(id)))
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint32(b, uint32(h.NodeID))
	b = append(b, byte(len(id)))
	return append(b, id...)
}

// decodeHello decodes a hello's body. Bytes after the fields of version
// 1 are a later version's and are ignored.
func decodeHello(body []byte) (hello, error) {
	if len(body) < helloMinBody || len(body) > helloMaxBody {
		return hello{}, fmt.Errorf("%w: body of %d bytes", ErrBadHello, len(body))
	}
	h := hello{
		Version: binary.BigEndian.Uint16(body),
		NodeID:  int32(binary.BigEndian.Uint32(body[2:])),
	}
	n := int(body[6])
	switch {
	case h.Version == 0:
		return hello{}, fmt.Errorf("%w: version 0", ErrBadHello)
	case h.NodeID < 0:
		return hello{}, fmt.Errorf("%w: node id %d", ErrBadHello, h.NodeID)
	case len(body) < helloMinBody+n:
		return hello{}, fmt.Errorf("%w: cluster id of %d bytes in a body of %d", ErrBadHello, n, len(body))
	}
	h.ClusterID = string(body[helloMinBody : helloMinBody+n])
	return h, nil
}

// readHello reads a hello frame from r.
func readHello(r io.Reader) (hello, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return hello{}, err
	}
	if binary.BigEndian.Uint32(hdr[:4]) != helloMagic {
		return hello{}, ErrNoHello
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return hello{}, err
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n < helloMinBody || n > helloMaxBody {
		return hello{}, fmt.Errorf("%w: length %d", ErrBadHello, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return hello{}, err
	}
	return decodeHello(body)
}

// ClusterID is the cluster id this transport sends and enforces ("" while
// unknown).
func (t *TCPTransport) ClusterID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clusterID
}

// SetClusterID sets the cluster id once this node knows it (a new member
// learns it from the metadata log). Connections made from then on carry
// it and hellos naming another one are refused; connections already open
// are kept.
func (t *TCPTransport) SetClusterID(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.clusterID != id {
		t.lg.Info("raft transport cluster id set", "cluster.id", id, "was", t.clusterID)
		t.clusterID = id
	}
}

// dialPeer connects to addr: TCP within dialTimeout, then within
// handshakeTimeout the TLS handshake (with ClientTLS) and the hello. ctx
// bounds it all.
func (t *TCPTransport) dialPeer(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := t.clientHandshake(ctx, c, addr)
	if err != nil {
		c.Close()
		if t.ctx.Err() == nil {
			t.warnLimited("raft transport handshake failed", "addr", addr, "err", err)
		}
		return nil, err
	}
	return conn, nil
}

func (t *TCPTransport) clientHandshake(ctx context.Context, c net.Conn, addr string) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	conn := c
	if t.cfg.ClientTLS != nil {
		cfg := t.cfg.ClientTLS(addr)
		if cfg == nil {
			return nil, errors.New("controller: no TLS configuration to dial with")
		}
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	if _, err := conn.Write(appendHello(nil, hello{Version: helloVersion, NodeID: t.cfg.NodeID, ClusterID: t.ClusterID()})); err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	if t.cfg.SASL != nil {
		if err := t.saslLogin(ctx, conn, addr); err != nil {
			return nil, err
		}
	}
	if !stop() {
		return nil, ctx.Err()
	}
	return conn, nil
}

// acceptHandshake authenticates an accepted connection within
// handshakeTimeout: the TLS handshake (with ServerTLS), then the hello,
// then SASL (with SASL).
// It returns the connection to serve (the TLS one), a reader over it and
// the peer's node id.
func (t *TCPTransport) acceptHandshake(c net.Conn) (net.Conn, *bufio.Reader, int32, error) {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	conn := c
	var state *tls.ConnectionState
	if t.cfg.ServerTLS != nil {
		tc := tls.Server(c, t.cfg.ServerTLS)
		ctx, cancel := context.WithTimeout(t.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return nil, nil, 0, fmt.Errorf("TLS handshake: %w", err)
		}
		cs := tc.ConnectionState()
		if len(cs.VerifiedChains) == 0 && t.cfg.SASL == nil {
			return nil, nil, 0, fmt.Errorf("%w: no verified client certificate", ErrPeerIdentity)
		}
		conn, state = tc, &cs
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	h, err := readHello(br)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := t.checkHello(h, state); err != nil {
		return nil, nil, 0, err
	}
	if t.cfg.SASL != nil {
		if err := t.saslAccept(conn, br, h.NodeID); err != nil {
			return nil, nil, 0, err
		}
	}
	_ = c.SetDeadline(time.Time{})
	return conn, br, h.NodeID, nil
}

// checkHello applies the acceptor's rules to a hello.
func (t *TCPTransport) checkHello(h hello, state *tls.ConnectionState) error {
	if h.NodeID == t.cfg.NodeID {
		return fmt.Errorf("%w: hello names this node (%d)", ErrPeerIdentity, h.NodeID)
	}
	own := t.ClusterID()
	if own != "" && h.ClusterID != "" && own != h.ClusterID {
		return fmt.Errorf("%w: node %d is in cluster %q, this node in %q", ErrPeerCluster, h.NodeID, h.ClusterID, own)
	}
	if own == "" || h.ClusterID == "" {
		t.lg.Debug("raft connection without a cluster id check", "peer", h.NodeID, "peer.cluster.id", h.ClusterID, "cluster.id", own)
	}
	if state != nil && t.cfg.Authorize != nil {
		if err := t.cfg.Authorize(*state, h.NodeID); err != nil {
			return fmt.Errorf("%w: node %d: %w", ErrPeerIdentity, h.NodeID, err)
		}
	}
	return nil
}

// refused logs a refused connection or message (warnLimited).
func (t *TCPTransport) refused(remote net.Addr, err error) {
	t.warnLimited("refused a raft transport connection", "remote", remote.String(), "err", err)
}

// warnLimited logs a warning at most once per refusalLogEvery (with the
// count of those suppressed in between), at debug level otherwise.
func (t *TCPTransport) warnLimited(msg string, args ...any) {
	if ok, suppressed := t.refusals.allow(time.Now()); ok {
		t.lg.Warn(msg, append(args, "suppressed", suppressed)...)
		return
	}
	t.lg.Debug(msg, args...)
}

// logLimiter lets one event through per refusalLogEvery.
type logLimiter struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// allow reports whether an event at now may be logged and how many were
// suppressed since the last one that was.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.next, l.suppressed = now.Add(refusalLogEvery), 0
	return true, n
}
