package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of one target address: one
// network link that a test can cut, heal and slow down.
//
// A Proxy is in one of three states:
//
//   - open: bytes are forwarded both ways (after the delay, if one is set);
//   - cut (Cut): a blackhole, the closest thing to a network partition. New
//     connections are accepted but not dialled through, and nothing is
//     forwarded on existing ones in either direction; bytes in flight wait
//     inside the proxy and the kernel buffers, so a peer sees its requests
//     go unanswered until it times out. Nothing is lost or reordered: on
//     Heal the held bytes flow on, as TCP retransmission would deliver them
//     after a short partition.
//   - reset (Reset): every existing connection is closed with an RST and
//     new ones are accepted and reset at once, until Heal.
//
// Each accepted connection is served by two goroutines (one per direction)
// owned by the Proxy; Close stops and waits for all of them.
type Proxy struct {
	// Addr is the proxy's listening address (127.0.0.1:port).
	Addr   string
	target string
	ln     net.Listener

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	state proxyState
	open  chan struct{} // closed while the state is open
	delay time.Duration
	conns map[*proxyConn]struct{}
	total int // connections accepted, for tests and logs
}

type proxyState int

const (
	proxyOpen proxyState = iota
	proxyCut
	proxyReset
)

func (s proxyState) String() string {
	switch s {
	case proxyOpen:
		return "open"
	case proxyCut:
		return "cut"
	default:
		return "reset"
	}
}

// proxyConn is one client connection and, once dialled, its upstream.
type proxyConn struct {
	client   net.Conn
	upstream net.Conn // nil until dialled; set under Proxy.mu
	done     chan struct{}
	once     sync.Once
}

func (pc *proxyConn) close(rst bool) {
	pc.once.Do(func() {
		close(pc.done)
		if rst {
			if tc, ok := pc.client.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		pc.client.Close()
	})
}

// NewProxy listens on a random 127.0.0.1 port and forwards every accepted
// connection to target. The caller must Close it.
func NewProxy(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("clustertest: proxy target %q: %w", target, err)
	}
	var ln net.Listener
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("clustertest: proxy listen: %w", err)
		}
		// Not a port freePort gave a node that has not bound it yet.
		if !handedOut.taken(l.Addr().(*net.TCPAddr).Port) {
			ln = l
			break
		}
		defer l.Close() // keep it bound while retrying, so the next try differs
	}
	p := &Proxy{
		Addr:   ln.Addr().String(),
		target: target,
		ln:     ln,
		open:   make(chan struct{}),
		conns:  map[*proxyConn]struct{}{},
	}
	close(p.open)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Go(p.acceptLoop)
	return p, nil
}

// StartProxy is NewProxy for a test: a failure ends the test, and the proxy
// is closed when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := NewProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut makes the link a blackhole until Heal (see Proxy).
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == proxyOpen {
		p.open = make(chan struct{})
	}
	p.state = proxyCut
}

// Reset closes every connection with an RST and resets new ones until Heal.
func (p *Proxy) Reset() {
	p.mu.Lock()
	if p.state == proxyOpen {
		p.open = make(chan struct{})
	}
	p.state = proxyReset
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	for _, pc := range conns {
		p.closeBoth(pc, true)
	}
}

// Heal opens the link again: held bytes and connections go through.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != proxyOpen {
		close(p.open)
	}
	p.state = proxyOpen
}

// SetDelay delays every chunk of bytes by d before it is forwarded (0: no
// delay). A direction forwards one chunk (up to 32 KiB) at a time, so a
// delay also bounds that direction's throughput to 32 KiB per d.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// State is "open", "cut" or "reset".
func (p *Proxy) State() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.String()
}

// Accepted is the number of connections accepted so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines. It may be called more than once.
func (p *Proxy) Close() error {
	p.cancel()
	err := p.ln.Close()
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	for _, pc := range conns {
		p.closeBoth(pc, false)
	}
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (p *Proxy) acceptLoop() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient accept errors (EMFILE, ...): back off briefly.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		pc := &proxyConn{client: c, done: make(chan struct{})}
		p.mu.Lock()
		if p.ctx.Err() != nil {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.total++
		if p.state == proxyReset {
			p.mu.Unlock()
			pc.close(true)
			continue
		}
		p.conns[pc] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.serve(pc) })
	}
}

// serve dials the target once the link is open and runs both directions.
func (p *Proxy) serve(pc *proxyConn) {
	defer func() {
		pc.close(false)
		p.mu.Lock()
		if pc.upstream != nil {
			pc.upstream.Close()
		}
		delete(p.conns, pc)
		p.mu.Unlock()
	}()
	if !p.waitOpen(pc) {
		return
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	up, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		// The target is down: the client sees its connection refused
		// (closed) as it would without the proxy.
		pc.close(true)
		return
	}
	p.mu.Lock()
	pc.upstream = up
	p.mu.Unlock()
	select {
	case <-pc.done: // closed (Reset or Close) while dialling
		up.Close()
		return
	default:
	}
	var inner sync.WaitGroup
	inner.Go(func() { p.pump(pc, up, pc.client) })
	p.pump(pc, pc.client, up)
	inner.Wait()
}

// pump forwards src to dst until src ends, an error, or the connection is
// closed. EOF from src half-closes dst; any other end closes both.
func (p *Proxy) pump(pc *proxyConn, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		if !p.waitOpen(pc) {
			return
		}
		n, err := src.Read(buf)
		readAt := time.Now()
		if n > 0 {
			if !p.waitOpen(pc) {
				return
			}
			if d := p.currentDelay(); d > 0 {
				wait := time.Until(readAt.Add(d))
				if wait > 0 {
					select {
					case <-pc.done:
						return
					case <-time.After(wait):
					}
				}
				if !p.waitOpen(pc) {
					return
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				p.closeBoth(pc, false)
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
					return
				}
			}
			p.closeBoth(pc, false)
			return
		}
	}
}

// closeBoth closes the client connection (with an RST if rst) and the
// upstream one, unblocking both directions.
func (p *Proxy) closeBoth(pc *proxyConn, rst bool) {
	pc.close(rst)
	p.mu.Lock()
	up := pc.upstream
	p.mu.Unlock()
	if up != nil {
		up.Close()
	}
}

// waitOpen blocks while the link is cut; it reports false once the
// connection or the proxy is closed.
func (p *Proxy) waitOpen(pc *proxyConn) bool {
	for {
		p.mu.Lock()
		open := p.open
		p.mu.Unlock()
		select {
		case <-pc.done:
			return false
		case <-p.ctx.Done():
			return false
		case <-open:
		}
		// open may have been replaced by a newer Cut between reading
		// it and now; recheck.
		p.mu.Lock()
		ok := p.state == proxyOpen
		p.mu.Unlock()
		if ok {
			return true
		}
	}
}

func (p *Proxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}
