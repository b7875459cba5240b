package replication

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxResponse bounds a response frame from a leader.
const maxResponse = 256 << 20

// peer is one connection to a leader. It is used by one goroutine.
type peer struct {
	nc   net.Conn
	addr string
	corr int32
	f    *kmsg.RequestFormatter
	buf  []byte
}

func dialPeer(ctx context.Context, addr, clientID string) (*peer, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &peer{nc: nc, addr: addr, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}, nil
}

func (p *peer) close() { p.nc.Close() }

// do sends req and reads its response into resp. The connection is unusable
// after an error.
func (p *peer) do(ctx context.Context, timeout time.Duration, req kmsg.Request, resp kmsg.Response) error {
	p.corr++
	p.buf = p.f.AppendRequest(p.buf[:0], req, p.corr)
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { p.nc.SetDeadline(time.Now()) })
	defer stop()
	if err := p.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := p.nc.Write(p.buf); err != nil {
		return err
	}
	var hdr [8]byte
	if _, err := io.ReadFull(p.nc, hdr[:4]); err != nil {
		return err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:4]))
	if n < 4 || n > maxResponse {
		return fmt.Errorf("replication: response of %d bytes from %s", n, p.addr)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.nc, body); err != nil {
		return err
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != p.corr {
		return fmt.Errorf("replication: correlation id %d, want %d", corr, p.corr)
	}
	body = body[4:]
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() {
		// Response header v1: tagged fields; Samsa and Kafka send none.
		if len(body) == 0 {
			return errors.New("replication: truncated response header")
		}
		body = body[1:]
	}
	return resp.ReadFrom(body)
}
