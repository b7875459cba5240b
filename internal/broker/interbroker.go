package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/protocol"
)

// The inter-broker client carries the requests one broker sends another
// outside replication: WriteTxnMarkers from a transaction coordinator to
// partition leaders, and AddPartitionsToTxn (v4+, KIP-890) from a
// partition leader to the transactional id's coordinator.
//
// It is a small client of its own rather than a franz-go kgo.Client per
// broker. kgo chooses request versions itself and sends a
// single-transaction AddPartitionsToTxn that is not VerifyOnly as v3, which
// is precisely the broker-to-broker add of KIP-890 part 2 (v4+); it routes
// AddPartitionsToTxn through FindCoordinator and WriteTxnMarkers to a
// broker of its choosing; and every kgo.Client runs a metadata goroutine.
// Here a request goes to the broker named, at the highest version both
// sides support (from one ApiVersions exchange per connection), and the
// client has no goroutine of its own: a request runs on its caller's
// goroutine and is bounded by the caller's context. Framing, the response
// header and decoding are protocol.Conn's, as for replica fetches.
//
// Each destination has a small pool of connections. A connection carries
// one request at a time (so a marker write that waits for acks=all never
// holds up a produce verification behind it), is kept for reuse after a
// success and closed after any failure; a request that fails on a reused
// connection because the peer had closed it is sent once more on a fresh
// one (callers send only requests that may be repeated). Close closes
// every connection, including those in use, whose requests then fail.

const (
	// interBrokerTimeout bounds one request (Kafka's request.timeout.ms).
	interBrokerTimeout = 30 * time.Second
	// interBrokerDialTimeout bounds connecting and the ApiVersions
	// exchange (Kafka's socket.connection.setup.timeout.ms).
	interBrokerDialTimeout = 10 * time.Second
	// interBrokerMaxConns bounds the connections to one broker; further
	// requests wait for one to be free.
	interBrokerMaxConns = 8
	// interBrokerMaxResponse bounds a response frame.
	interBrokerMaxResponse = 64 << 20
)

// errInterBrokerClosed is returned by requests after Close.
var errInterBrokerClosed = errors.New("broker: the inter-broker client is closed")

// interBroker sends requests to the other brokers of the cluster.
type interBroker struct {
	lg       *slog.Logger
	clientID string
	// resolve returns the address of a broker, read from the current
	// image on every request so that a broker that moved is followed.
	resolve func(id int32) (string, error)
	// dial connects to a peer (nil: plain TCP); set before first use.
	dialFn func(ctx context.Context, addr string) (net.Conn, error)

	mu     sync.Mutex
	closed bool
	dests  map[int32]*ibDest
}

// ibDest is the connections to one broker.
type ibDest struct {
	slots chan struct{} // one token per connection in use
	idle  []*ibConn
	busy  map[*ibConn]struct{}
}

// ibConn is one connection; one request at a time uses it.
type ibConn struct {
	conn     *protocol.Conn
	addr     string
	versions map[int16][2]int16 // the peer's ApiVersions: key → {min, max}
}

func newInterBroker(lg *slog.Logger, clientID string, resolve func(int32) (string, error)) *interBroker {
	return &interBroker{lg: lg, clientID: clientID, resolve: resolve, dests: make(map[int32]*ibDest)}
}

// dialConn connects to a peer's inter-broker listener: through the dial
// function the broker was given (TLS for an SSL listener), else plain TCP.
func (ib *interBroker) dialConn(ctx context.Context, addr string) (net.Conn, error) {
	if ib.dialFn != nil {
		return ib.dialFn(ctx, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// imageResolver resolves broker ids through the broker's current image, to
// the inter-broker (replication) endpoint, which is the Kafka listener
// unless --replication-listen names another.
func imageResolver(img func() *metadata.Image) func(int32) (string, error) {
	return func(id int32) (string, error) {
		br, ok := img().Brokers[id]
		if !ok {
			return "", fmt.Errorf("broker %d is not registered", id)
		}
		return br.ReplicationAddr(), nil
	}
}

// Request sends req to broker id and returns its response. req's version
// is the highest the caller wants; the one sent is the highest the peer
// supports up to it, and at least minVersion (else UNSUPPORTED_VERSION).
// Transport failures are returned as they are; callers map them to the
// Kafka error their own request answers (NETWORK_EXCEPTION, or a retry).
func (ib *interBroker) Request(ctx context.Context, id int32, req kmsg.Request, minVersion int16) (kmsg.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	addr, err := ib.resolve(id)
	if err != nil {
		return nil, err
	}
	d, err := ib.dest(id)
	if err != nil {
		return nil, err
	}
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-d.slots }()

	want := req.GetVersion()
	c, reused, err := ib.take(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	resp, err := ib.roundTrip(ctx, d, c, req, want, minVersion)
	if err != nil && reused && peerClosed(err) && ctx.Err() == nil {
		// The peer had closed the idle connection (it restarted, or
		// dropped it), so the request most likely never reached it.
		// Once more, on a fresh connection: both requests sent here,
		// WriteTxnMarkers and AddPartitionsToTxn, may be repeated.
		ib.lg.Debug("peer closed a pooled connection; sending again", "broker", id, "addr", addr, "err", err)
		if c, err = ib.dial(ctx, d, addr); err != nil {
			return nil, err
		}
		resp, err = ib.roundTrip(ctx, d, c, req, want, minVersion)
	}
	return resp, err
}

// Close closes every connection, in use or not, and fails later requests.
// Requests in flight return an error. It is safe to call more than once.
func (ib *interBroker) Close() {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	ib.closed = true
	for _, d := range ib.dests {
		for _, c := range d.idle {
			c.conn.Close()
		}
		d.idle = nil
		for c := range d.busy {
			c.conn.Close()
		}
	}
}

func (ib *interBroker) dest(id int32) (*ibDest, error) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.closed {
		return nil, errInterBrokerClosed
	}
	d := ib.dests[id]
	if d == nil {
		d = &ibDest{slots: make(chan struct{}, interBrokerMaxConns), busy: make(map[*ibConn]struct{})}
		ib.dests[id] = d
	}
	return d, nil
}

// take returns an idle connection to addr (reused) or a new one, marked
// busy. Idle connections to an old address of the broker are closed.
func (ib *interBroker) take(ctx context.Context, d *ibDest, addr string) (*ibConn, bool, error) {
	ib.mu.Lock()
	if ib.closed {
		ib.mu.Unlock()
		return nil, false, errInterBrokerClosed
	}
	for len(d.idle) > 0 {
		c := d.idle[len(d.idle)-1]
		d.idle = d.idle[:len(d.idle)-1]
		if c.addr != addr {
			c.conn.Close()
			continue
		}
		d.busy[c] = struct{}{}
		ib.mu.Unlock()
		return c, true, nil
	}
	ib.mu.Unlock()
	c, err := ib.dial(ctx, d, addr)
	return c, false, err
}

// dial connects to addr, learns the peer's API versions and registers the
// connection as busy.
func (ib *interBroker) dial(ctx context.Context, d *ibDest, addr string) (*ibConn, error) {
	dctx, cancel := context.WithTimeout(ctx, interBrokerDialTimeout)
	defer cancel()
	nc, err := ib.dialConn(dctx, addr)
	if err != nil {
		return nil, err
	}
	c := &ibConn{conn: protocol.NewConn(nc, ib.clientID, interBrokerMaxResponse), addr: addr}
	ib.mu.Lock()
	if ib.closed {
		ib.mu.Unlock()
		nc.Close()
		return nil, errInterBrokerClosed
	}
	d.busy[c] = struct{}{}
	ib.mu.Unlock()

	// ApiVersions v2: every broker serves it, and it needs neither the
	// client software fields nor the feature levels of v3+.
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 2
	resp := kmsg.NewPtrApiVersionsResponse()
	err = c.conn.RoundTrip(dctx, av, resp)
	if err == nil {
		if resp.ErrorCode != 0 {
			err = fmt.Errorf("ApiVersions: %w", kerr.ErrorForCode(resp.ErrorCode))
		} else {
			c.versions = make(map[int16][2]int16, len(resp.ApiKeys))
			for _, k := range resp.ApiKeys {
				c.versions[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
			}
		}
	}
	if err != nil {
		ib.release(d, c, false)
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c, nil
}

// roundTrip sends req on c at the negotiated version and releases c: kept
// for reuse after a success, closed after a failure.
func (ib *interBroker) roundTrip(ctx context.Context, d *ibDest, c *ibConn, req kmsg.Request, want, minVersion int16) (kmsg.Response, error) {
	r, ok := c.versions[req.Key()]
	v := min(want, r[1])
	if !ok || v < minVersion || v < r[0] {
		ib.release(d, c, true) // the connection itself is fine
		return nil, fmt.Errorf("%w: %s v%d-v%d wanted, %s serves %v", kerr.UnsupportedVersion,
			kmsg.NameForKey(req.Key()), minVersion, want, c.addr, r)
	}
	req.SetVersion(v)
	ctx, cancel := context.WithTimeout(ctx, interBrokerTimeout)
	defer cancel()
	resp := req.ResponseKind()
	err := c.conn.RoundTrip(ctx, req, resp)
	ib.release(d, c, err == nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.addr, err)
	}
	return resp, nil
}

// release returns c to the idle pool (keep) or closes it.
func (ib *interBroker) release(d *ibDest, c *ibConn, keep bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	delete(d.busy, c)
	if keep && !ib.closed {
		d.idle = append(d.idle, c)
		return
	}
	c.conn.Close()
}

// peerClosed reports whether err says the peer had closed the connection
// (as opposed to a timeout or a malformed response).
func peerClosed(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	var oe *net.OpError
	return errors.As(err, &oe) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed)
}

// peers is the broker's inter-broker client, or nil when the broker runs
// without a transaction coordinator (the only user so far).
func (b *Broker) peers() *interBroker {
	if r, ok := b.txnVerify.(*txnRouter); ok {
		return r.peers
	}
	return nil
}

// Close releases what the broker holds besides its listeners: the
// connections to other brokers. Call it once Serve has returned and the
// transaction and group coordinators are closed (a request still in flight
// fails; a marker is then written again by the next coordinator).
func (b *Broker) Close() {
	if ib := b.peers(); ib != nil {
		ib.Close()
	}
}
