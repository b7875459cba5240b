package controller

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"
)

// TCP transport wire format. Every connection is opened by a node to send
// to the one it dials; the dialer first sends a hello:
//
//	magic:u32be "SHLO" (0x53484C4F)  length:u32be  body[length]
//	body: version:u16be (1)  nodeID:i32be  idLen:u8  clusterID[idLen]  (later fields)
//
// length is 7..1024. A version above 1 may append fields after clusterID,
// which this version ignores; a change to the meaning of version 1's
// fields would take a new magic. Within handshakeTimeout the acceptor
// refuses (closes, with a rate-limited warning) a connection that does not
// start with a well-formed hello, whose node id is its own, or whose
// cluster id differs from its own when both are known: a node whose data
// dir is not formatted yet (a new member, or every voter of a new cluster
// before the first leader writes SetClusterID) sends and enforces none,
// and SetClusterID turns enforcement on once it knows. TCPConfig.ClusterID
// is meta.properties' cluster.id.
//
// With TCPConfig.ServerTLS and ClientTLS every connection is TLS first (the
// hello then travels inside it): the acceptor requires a verified client
// certificate, and TCPConfig.Authorize decides whether the certificate's
// holder may speak for the hello's node id (internal/node allows principals
// in super.users, Kafka's convention for brokers and controllers, for any
// node id). With TCPConfig.SASL the dialer authenticates with SASL right
// after the hello (transport_sasl.go gives the frames), over TLS or not,
// and the principal it logs in as is what may or may not speak for the
// hello's node id. Without either the hello is unauthenticated.
//
// After the hello, a connection carries raft messages in one direction, as
// frames:
//
//	length:u32be  raftpb.Message (protobuf)[length]
//
// A frame longer than TCPConfig.MaxFrameBytes, a message that does not
// decode, one not addressed to this node, or one whose sender (From) is
// not the hello's node closes the connection.
//
// A connection whose first 4 bytes after the hello are rpcMagic instead (a
// value no raft frame length can take) carries request/response calls
// (Request), answered on the same connection:
//
//	request   length:u32be  kind:u8    payload[length-1]
//	response  length:u32be  status:u8  payload[length-1]
//
// where status 0 means payload is the response and 1 that it is an error
// message. Kinds are defined by the controller (rpcQuorumStatus).
const (
	defaultMaxFrameBytes = 256 << 20 // a snapshot of a large image fits
	peerQueueLen         = 4096
	dialTimeout          = 3 * time.Second
	writeTimeout         = 10 * time.Second
	minBackoff           = 50 * time.Millisecond
	maxBackoff           = 2 * time.Second

	rpcMagic       uint32 = 0x53525043 // "SRPC"; > defaultMaxFrameBytes
	rpcMaxRequest         = 1 << 20
	rpcStatusOK    byte   = 0
	rpcStatusError byte   = 1
	rpcTimeout            = 10 * time.Second
)

// TCPConfig configures a TCPTransport.
type TCPConfig struct {
	// NodeID is this node's id.
	NodeID int32
	// Listen is the controller listener address (controller.listener),
	// e.g. "127.0.0.1:9093". Ignored when Listener is set.
	Listen string
	// Listener, if set, is used instead of listening on Listen; the
	// transport closes it.
	Listener net.Listener
	// Peers maps the node id of every other member to its controller
	// listener address. An entry for NodeID itself is ignored.
	Peers map[int32]string
	// MaxFrameBytes bounds one received frame (default 256 MiB).
	MaxFrameBytes int
	// ClusterID is the cluster's id, sent in the hello and checked against
	// the peers'; empty while this node does not know it (SetClusterID).
	ClusterID string
	// ServerTLS, if set, makes every accepted connection TLS. It should
	// require and verify client certificates; a connection without a
	// verified one is refused regardless.
	ServerTLS *tls.Config
	// ClientTLS returns the TLS configuration to dial addr with (this
	// node's certificate and the trust store); an empty ServerName is set
	// to addr's host. Set with ServerTLS, or neither.
	ClientTLS func(addr string) *tls.Config
	// Authorize, if set, decides whether the verified client certificate
	// of a TLS connection may speak for nodeID (its hello's); an error
	// refuses the connection. Nil: every verified certificate may.
	Authorize func(state tls.ConnectionState, nodeID int32) error
	// SASL, if set, makes every connection authenticate with SASL after
	// its hello (transport_sasl.go); with ServerTLS too (SASL_SSL) client
	// certificates are then not required, and SASL.Authorize, not
	// Authorize, decides who may speak for a node.
	SASL *TransportSASL
	// Logger (default: discard).
	Logger *slog.Logger
}

// Defaults returns c with zero fields set to their defaults.
func (c TCPConfig) Defaults() TCPConfig {
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = defaultMaxFrameBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid setting.
func (c TCPConfig) Validate() error {
	switch {
	case c.NodeID < 0:
		return fmt.Errorf("controller: transport node id %d must be >= 0", c.NodeID)
	case c.Listener == nil && c.Listen == "":
		return errors.New("controller: transport needs a listen address (controller.listener)")
	case c.MaxFrameBytes <= 0 || uint64(c.MaxFrameBytes) >= uint64(helloMagic):
		return fmt.Errorf("controller: MaxFrameBytes %d must be > 0 and < %d", c.MaxFrameBytes, helloMagic)
	case (c.ServerTLS == nil) != (c.ClientTLS == nil):
		return errors.New("controller: transport ServerTLS and ClientTLS go together")
	case c.Authorize != nil && c.ServerTLS == nil:
		return errors.New("controller: transport Authorize needs ServerTLS")
	case c.SASL != nil && c.Authorize != nil:
		return errors.New("controller: transport SASL comes with its own Authorize")
	}
	if c.SASL != nil {
		if err := c.SASL.validate(); err != nil {
			return err
		}
	}
	for id, addr := range c.Peers {
		if id < 0 {
			return fmt.Errorf("controller: peer id %d must be >= 0", id)
		}
		if id == c.NodeID {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("controller: peer %d address %q: %w", id, addr, err)
		}
	}
	return nil
}

// Reporter receives delivery failures from a transport: raft.RawNode's
// ReportUnreachable and ReportSnapshot. Controller implements it.
type Reporter interface {
	ReportUnreachable(raftID uint64)
	ReportSnapshot(raftID uint64, failed bool)
}

// TCPTransport is the raft Transport over TCP: a listener for inbound
// messages and one outbound connection per peer, re-dialled with backoff.
// Its goroutines are owned by it and stopped and waited by Close.
type TCPTransport struct {
	cfg   TCPConfig
	lg    *slog.Logger
	self  uint64
	ln    net.Listener
	stats channelStats // metrics.go

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	step     func(context.Context, *raftpb.Message) error
	reporter Reporter
	peers    map[uint64]*tcpPeer
	handler  RequestHandler
	inbound  map[net.Conn]struct{}
	closed   bool
	started  bool
	// clusterID is sent in hellos and enforced (transport_auth.go).
	clusterID string
	refusals  logLimiter
}

type tcpPeer struct {
	id   uint64
	addr string // guarded by TCPTransport.mu (SetPeer changes it)
	q    chan *raftpb.Message
}

// NewTCPTransport listens on cfg.Listen (or takes cfg.Listener). Messages
// are accepted once Start is called.
func NewTCPTransport(cfg TCPConfig) (*TCPTransport, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("controller listener: %w", err)
		}
	}
	t := &TCPTransport{
		cfg:     cfg,
		lg:      cfg.Logger.With("component", "raft-transport", "node", cfg.NodeID),
		self:    RaftID(cfg.NodeID),
		ln:      ln,
		peers:   map[uint64]*tcpPeer{},
		inbound: map[net.Conn]struct{}{},

		clusterID: cfg.ClusterID,
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	for id, addr := range cfg.Peers {
		if id != cfg.NodeID {
			t.peers[RaftID(id)] = &tcpPeer{id: RaftID(id), addr: addr, q: make(chan *raftpb.Message, peerQueueLen)}
		}
	}
	return t, nil
}

// Addr is the listener's address.
func (t *TCPTransport) Addr() net.Addr { return t.ln.Addr() }

// SetReporter installs the receiver of delivery failures; Open calls it
// before Start.
func (t *TCPTransport) SetReporter(r Reporter) {
	t.mu.Lock()
	t.reporter = r
	t.mu.Unlock()
}

// Start begins accepting inbound messages (handed to step) and sending
// queued outbound ones. A transport serves one controller: a second Start
// replaces step (a controller reopened over the same transport).
func (t *TCPTransport) Start(step func(context.Context, *raftpb.Message) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.step = step
	if t.started || t.closed {
		return
	}
	t.started = true
	t.wg.Go(t.acceptLoop)
	for _, p := range t.peers {
		t.wg.Go(func() { t.sendLoop(p) })
	}
}

// Send queues msgs for their peers without blocking. A message to an
// unknown peer, or one whose queue is full, is dropped and the peer reported
// unreachable (raft retransmits).
func (t *TCPTransport) Send(_ context.Context, msgs []*raftpb.Message) {
	for _, m := range msgs {
		to := m.GetTo()
		t.mu.Lock()
		p := t.peers[to]
		closed := t.closed
		t.mu.Unlock()
		if closed {
			return
		}
		if p == nil {
			t.lg.Debug("dropping raft message to unknown peer", "to", NodeID(to), "type", m.GetType().String())
			continue
		}
		select {
		case p.q <- m:
		default:
			t.report(m, true)
		}
	}
}

// Close stops accepting and sending, closes every connection and waits for
// the transport's goroutines.
func (t *TCPTransport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()
	t.cancel()
	err := t.ln.Close()
	t.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// report tells raft that m could not be delivered (failed) or, for a
// snapshot, that it was.
func (t *TCPTransport) report(m *raftpb.Message, failed bool) {
	t.mu.Lock()
	r := t.reporter
	t.mu.Unlock()
	if r == nil {
		return
	}
	if failed {
		r.ReportUnreachable(m.GetTo())
	}
	if m.GetType() == raftpb.MessageType_MsgSnap {
		r.ReportSnapshot(m.GetTo(), failed)
	}
}

func (t *TCPTransport) acceptLoop() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				t.lg.Warn("controller listener stopped", "err", err)
			}
			return
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		t.inbound[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Go(func() {
			defer func() {
				t.mu.Lock()
				delete(t.inbound, c)
				t.mu.Unlock()
				c.Close()
			}()
			if err := t.serveConn(c); err != nil && t.ctx.Err() == nil {
				t.lg.Debug("closing raft connection", "remote", c.RemoteAddr().String(), "err", err)
			}
		})
	}
}

// serveConn authenticates one inbound connection and serves it until it
// fails.
func (t *TCPTransport) serveConn(c net.Conn) error {
	conn, br, peer, err := t.acceptHandshake(c)
	if err != nil {
		if t.ctx.Err() == nil {
			t.refused(c.RemoteAddr(), err)
		}
		return err
	}
	return t.readConn(conn, br, peer)
}

// readConn serves one authenticated inbound connection from node peer
// until it fails: request/response calls if it starts with rpcMagic, raft
// message frames otherwise.
func (t *TCPTransport) readConn(c net.Conn, br *bufio.Reader, peer int32) error {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(hdr[:]) == rpcMagic {
		return t.serveRequests(c, br)
	}
	for first := true; ; first = false {
		if !first {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return err
			}
		}
		m, err := t.readMessage(c, br, binary.BigEndian.Uint32(hdr[:]))
		if err != nil {
			return err
		}
		t.stats.in.Add(4 + uint64(binary.BigEndian.Uint32(hdr[:])))
		t.stats.received.Add(1)
		if m.GetFrom() != RaftID(peer) {
			err := fmt.Errorf("%w: a message from node %d on node %d's connection", ErrPeerIdentity, NodeID(m.GetFrom()), peer)
			t.refused(c.RemoteAddr(), err)
			return err
		}
		t.mu.Lock()
		step := t.step
		t.mu.Unlock()
		if err := step(t.ctx, m); err != nil {
			return err
		}
	}
}

// readMessage reads the body of a raft frame of length n and checks it
// is addressed to this node.
func (t *TCPTransport) readMessage(c net.Conn, br *bufio.Reader, n uint32) (*raftpb.Message, error) {
	if n == 0 || uint64(n) > uint64(t.cfg.MaxFrameBytes) {
		t.lg.Warn("bad raft frame length; closing connection", "remote", c.RemoteAddr().String(), "length", n)
		return nil, fmt.Errorf("frame length %d", n)
	}
	// Grow with the bytes that actually arrive, never by the announced
	// length alone.
	buf, err := io.ReadAll(io.LimitReader(br, int64(n)))
	if err != nil {
		return nil, err
	}
	if len(buf) != int(n) {
		return nil, io.ErrUnexpectedEOF
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(buf, m); err != nil {
		t.lg.Warn("undecodable raft message; closing connection", "remote", c.RemoteAddr().String(), "err", err)
		return nil, err
	}
	if m.GetTo() != t.self || m.GetFrom() == 0 || m.GetFrom() == t.self {
		t.lg.Warn("raft message not for this node; closing connection", "remote", c.RemoteAddr().String(), "to", NodeID(m.GetTo()), "from", NodeID(m.GetFrom()))
		return nil, fmt.Errorf("message from %d to %d", m.GetFrom(), m.GetTo())
	}
	return m, nil
}

// sendLoop owns the outbound connection to p: it dials with backoff and
// writes queued messages, batching what is queued into one write.
func (t *TCPTransport) sendLoop(p *tcpPeer) {
	var conn net.Conn
	var bw *bufio.Writer
	backoff := minBackoff
	var nextDial, connAt time.Time
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		var m *raftpb.Message
		select {
		case <-t.ctx.Done():
			return
		case m = <-p.q:
		}
		if conn == nil {
			if time.Now().Before(nextDial) {
				t.report(m, true) // still backing off: drop, raft retries
				continue
			}
			t.mu.Lock()
			addr := p.addr
			t.mu.Unlock()
			c, err := t.dialPeer(t.ctx, addr)
			if err != nil {
				if t.ctx.Err() != nil {
					return
				}
				t.lg.Debug("dial raft peer", "peer", NodeID(p.id), "addr", addr, "err", err, "backoff", backoff)
				nextDial = time.Now().Add(backoff)
				backoff = min(backoff*2, maxBackoff)
				t.report(m, true)
				continue
			}
			conn, bw, connAt = c, bufio.NewWriterSize(c, 64<<10), time.Now()
		}
		batch := []*raftpb.Message{m}
	drain:
		for len(batch) < 256 {
			select {
			case m2 := <-p.q:
				batch = append(batch, m2)
			default:
				break drain
			}
		}
		err := t.writeBatch(conn, bw, batch)
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			t.lg.Debug("write to raft peer", "peer", NodeID(p.id), "err", err)
			conn.Close()
			conn, bw = nil, nil
			// A peer that refuses each connection (transport_auth.go)
			// closes it at once: back off more unless it lasted.
			if time.Since(connAt) >= maxBackoff {
				backoff = minBackoff
			}
			nextDial = time.Now().Add(backoff)
			backoff = min(backoff*2, maxBackoff)
			for _, m := range batch {
				t.report(m, true)
			}
			continue
		}
		for _, m := range batch {
			if m.GetType() == raftpb.MessageType_MsgSnap {
				t.report(m, false)
			}
		}
	}
}

func (t *TCPTransport) writeBatch(conn net.Conn, bw *bufio.Writer, batch []*raftpb.Message) error {
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	var hdr [4]byte
	for _, m := range batch {
		b, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		if len(b) > t.cfg.MaxFrameBytes {
			// The peer would refuse it; drop this one message.
			t.lg.Error("raft message exceeds the frame limit; dropped", "type", m.GetType().String(), "bytes", len(b))
			continue
		}
		binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
		if _, err := bw.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
		t.stats.out.Add(4 + uint64(len(b)))
		t.stats.sent.Add(1)
	}
	return bw.Flush()
}

// Peers returns the configured peer addresses by node id.
func (t *TCPTransport) Peers() map[int32]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int32]string, len(t.peers))
	for _, p := range t.peers {
		out[NodeID(p.id)] = p.addr
	}
	return maps.Clone(out)
}

// SetPeer adds a member at run time (a raft learner whose conf change
// applied) or changes a member's address; the controller calls it. The
// next dial to the peer uses addr. An entry for this node is ignored.
func (t *TCPTransport) SetPeer(nodeID int32, addr string) {
	id := RaftID(nodeID)
	if id == t.self || nodeID < 0 {
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.lg.Warn("ignoring a peer with a bad address", "peer", nodeID, "addr", addr, "err", err)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if p := t.peers[id]; p != nil {
		if p.addr != addr {
			t.lg.Info("raft peer address changed", "peer", nodeID, "was", p.addr, "now", addr)
			p.addr = addr
		}
		return
	}
	p := &tcpPeer{id: id, addr: addr, q: make(chan *raftpb.Message, peerQueueLen)}
	t.peers[id] = p
	if t.started {
		t.wg.Go(func() { t.sendLoop(p) })
	}
}

// AdvertisedAddr is the address other nodes dial to reach this one: the
// configured listen host (the bound one when the configuration names
// none or a wildcard) with the bound port.
func (t *TCPTransport) AdvertisedAddr() string {
	bound := t.ln.Addr().String()
	bh, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	host := bh
	if h, _, err := net.SplitHostPort(t.cfg.Listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			host = h
		}
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if hn, err := os.Hostname(); err == nil && hn != "" {
			host = hn
		}
	}
	return net.JoinHostPort(host, port)
}

// SetRequestHandler installs the function answering Request calls from
// other nodes; until then they are answered with an error.
func (t *TCPTransport) SetRequestHandler(h RequestHandler) {
	t.mu.Lock()
	t.handler = h
	t.mu.Unlock()
}

// Request sends one request of the given kind to the peer nodeID on a
// connection of its own and returns the response. It gives up when ctx
// ends or after rpcTimeout.
func (t *TCPTransport) Request(ctx context.Context, nodeID int32, kind byte, req []byte) ([]byte, error) {
	t.mu.Lock()
	p := t.peers[RaftID(nodeID)]
	addr := ""
	if p != nil {
		addr = p.addr
	}
	closed := t.closed
	t.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case p == nil:
		return nil, fmt.Errorf("controller: no address for node %d", nodeID)
	case len(req)+1 > rpcMaxRequest:
		return nil, fmt.Errorf("controller: request of %d bytes is too large", len(req))
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	c, err := t.dialPeer(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("controller: dial node %d: %w", nodeID, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	msg := binary.BigEndian.AppendUint32(nil, rpcMagic)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(req)+1))
	msg = append(msg, kind)
	msg = append(msg, req...)
	if _, err := c.Write(msg); err != nil {
		return nil, fmt.Errorf("controller: request to node %d: %w", nodeID, err)
	}
	status, payload, err := readRPCFrame(bufio.NewReader(c), t.cfg.MaxFrameBytes)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("controller: response from node %d: %w", nodeID, err)
	}
	if status != rpcStatusOK {
		return nil, fmt.Errorf("controller: node %d: %s", nodeID, payload)
	}
	return payload, nil
}

// serveRequests answers the request frames of one connection in order.
func (t *TCPTransport) serveRequests(c net.Conn, br *bufio.Reader) error {
	for {
		kind, req, err := readRPCFrame(br, rpcMaxRequest)
		if err != nil {
			return err
		}
		t.mu.Lock()
		h := t.handler
		t.mu.Unlock()
		status, resp := rpcStatusOK, []byte(nil)
		if h == nil {
			status, resp = rpcStatusError, []byte("not ready")
		} else {
			ctx, cancel := context.WithTimeout(t.ctx, rpcTimeout)
			resp, err = h(ctx, kind, req)
			cancel()
			if err != nil {
				status, resp = rpcStatusError, []byte(err.Error())
			}
		}
		if len(resp)+1 > t.cfg.MaxFrameBytes {
			status, resp = rpcStatusError, []byte("response too large")
		}
		out := binary.BigEndian.AppendUint32(make([]byte, 0, 5+len(resp)), uint32(len(resp)+1))
		out = append(out, status)
		out = append(out, resp...)
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.Write(out); err != nil {
			return err
		}
	}
}

// readRPCFrame reads length:u32be tag:u8 payload[length-1], refusing a
// length above limit.
func readRPCFrame(br *bufio.Reader, limit int) (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || uint64(n) > uint64(limit) {
		return 0, nil, fmt.Errorf("request frame length %d", n)
	}
	buf, err := io.ReadAll(io.LimitReader(br, int64(n)))
	if err != nil {
		return 0, nil, err
	}
	if len(buf) != int(n) {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return buf[0], buf[1:], nil
}
