package replication

import (
	"context"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/protocol"
)

// maxResponse bounds a response frame from a leader.
const maxResponse = 256 << 20

// peer is one connection to a leader. It is used by one goroutine.
type peer struct {
	c    *protocol.Conn
	addr string
}

func dialPeer(ctx context.Context, dial func(context.Context, string) (net.Conn, error), addr, clientID string) (*peer, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if dial == nil {
		var d net.Dialer
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	nc, err := dial(dctx, addr)
	if err != nil {
		return nil, err
	}
	return &peer{c: protocol.NewConn(nc, clientID, maxResponse), addr: addr}, nil
}

func (p *peer) close() { p.c.Close() }

// do sends req and reads its response into resp, within timeout. The
// connection is unusable after an error.
func (p *peer) do(ctx context.Context, timeout time.Duration, req kmsg.Request, resp kmsg.Response) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return p.c.RoundTrip(ctx, req, resp)
}
