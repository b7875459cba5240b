package controller

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"
)

// TCP transport wire format. Each connection carries raft messages in one
// direction, from the dialing node to the listening one, as frames:
//
//	length:u32be  raftpb.Message (protobuf)[length]
//
// A frame longer than TCPConfig.MaxFrameBytes, a message that does not
// decode, or one not addressed to this node closes the connection. There is
// no handshake: each message names its sender (From).
const (
	defaultMaxFrameBytes = 256 << 20 // a snapshot of a large image fits
	peerQueueLen         = 4096
	dialTimeout          = 3 * time.Second
	writeTimeout         = 10 * time.Second
	minBackoff           = 50 * time.Millisecond
	maxBackoff           = 2 * time.Second
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
	case c.MaxFrameBytes <= 0:
		return fmt.Errorf("controller: MaxFrameBytes %d must be > 0", c.MaxFrameBytes)
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
	cfg  TCPConfig
	lg   *slog.Logger
	self uint64
	ln   net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	step     func(context.Context, *raftpb.Message) error
	reporter Reporter
	peers    map[uint64]*tcpPeer
	inbound  map[net.Conn]struct{}
	closed   bool
	started  bool
}

type tcpPeer struct {
	id   uint64
	addr string
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
			if err := t.readConn(c); err != nil && t.ctx.Err() == nil {
				t.lg.Debug("closing raft connection", "remote", c.RemoteAddr().String(), "err", err)
			}
		})
	}
}

// readConn reads frames from one inbound connection until it fails.
func (t *TCPTransport) readConn(c net.Conn) error {
	br := bufio.NewReaderSize(c, 64<<10)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || uint64(n) > uint64(t.cfg.MaxFrameBytes) {
			t.lg.Warn("bad raft frame length; closing connection", "remote", c.RemoteAddr().String(), "length", n)
			return fmt.Errorf("frame length %d", n)
		}
		// Grow with the bytes that actually arrive, never by the
		// announced length alone.
		buf, err := io.ReadAll(io.LimitReader(br, int64(n)))
		if err != nil {
			return err
		}
		if len(buf) != int(n) {
			return io.ErrUnexpectedEOF
		}
		m := &raftpb.Message{}
		if err := proto.Unmarshal(buf, m); err != nil {
			t.lg.Warn("undecodable raft message; closing connection", "remote", c.RemoteAddr().String(), "err", err)
			return err
		}
		if m.GetTo() != t.self || m.GetFrom() == 0 || m.GetFrom() == t.self {
			t.lg.Warn("raft message not for this node; closing connection", "remote", c.RemoteAddr().String(), "to", NodeID(m.GetTo()), "from", NodeID(m.GetFrom()))
			return fmt.Errorf("message from %d to %d", m.GetFrom(), m.GetTo())
		}
		t.mu.Lock()
		step := t.step
		t.mu.Unlock()
		if err := step(t.ctx, m); err != nil {
			return err
		}
	}
}

// sendLoop owns the outbound connection to p: it dials with backoff and
// writes queued messages, batching what is queued into one write.
func (t *TCPTransport) sendLoop(p *tcpPeer) {
	var conn net.Conn
	var bw *bufio.Writer
	backoff := minBackoff
	var nextDial time.Time
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
			var d net.Dialer
			ctx, cancel := context.WithTimeout(t.ctx, dialTimeout)
			c, err := d.DialContext(ctx, "tcp", p.addr)
			cancel()
			if err != nil {
				if t.ctx.Err() != nil {
					return
				}
				t.lg.Debug("dial raft peer", "peer", NodeID(p.id), "addr", p.addr, "err", err, "backoff", backoff)
				nextDial = time.Now().Add(backoff)
				backoff = min(backoff*2, maxBackoff)
				t.report(m, true)
				continue
			}
			conn, bw = c, bufio.NewWriterSize(c, 64<<10)
			backoff = minBackoff
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
			nextDial = time.Now().Add(backoff)
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
