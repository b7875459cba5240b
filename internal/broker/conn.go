package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/protocol"
)

// conn is one client connection. Its goroutine reads a request, handles it
// and writes the response before reading the next one.
type conn struct {
	b      *Broker
	nc     net.Conn
	remote string
	br     *bufio.Reader
	frame  []byte
	out    []byte

	mu       sync.Mutex
	stopping bool
	busy     bool
}

func newConn(b *Broker, nc net.Conn) *conn {
	return &conn{b: b, nc: nc, remote: nc.RemoteAddr().String(), br: bufio.NewReaderSize(nc, 64<<10)}
}

// shutdown asks the connection to close once its current request is done.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.stopping = true
	busy := c.busy
	c.mu.Unlock()
	if !busy {
		// Unblock a read waiting for the next request.
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *conn) setBusy(busy bool) (stop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = busy
	return c.stopping
}

func (c *conn) serve(ctx context.Context) {
	defer c.nc.Close()
	lg := c.b.lg.With("remote", c.remote)
	maxSize := c.b.settings().SocketRequestMaxBytes
	for {
		if c.setBusy(false) {
			return
		}
		frame, err := protocol.ReadFrame(c.br, maxSize, c.frame)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				lg.Info("closing connection", "err", err)
			}
			return
		}
		if c.setBusy(true) {
			// Shutdown began while the frame arrived; finish it anyway.
		}
		// Keep the frame buffer for the next request: a producer sends
		// multi-megabyte requests back to back, and allocating (and
		// zeroing) each one cost ~15% of the broker's CPU on the produce
		// path. Beyond maxKeptFrame the buffer is left to the GC.
		if cap(frame) <= maxKeptFrame {
			c.frame = frame[:0]
		} else {
			c.frame = nil
		}
		if err := c.handleFrame(ctx, frame); err != nil {
			lg.Info("closing connection", "err", err)
			return
		}
	}
}

// maxKeptFrame is the largest request buffer a connection keeps between
// requests.
const maxKeptFrame = 16 << 20

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
	r := &request{hdr: hdr, req: req}
	defer func() {
		if p := recover(); p != nil {
			c.b.lg.Error("handler panic", "api", kmsg.NameForKey(hdr.Key), "version", hdr.Version, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error handling %s", kmsg.NameForKey(hdr.Key))
		}
	}()
	resp, err := a.handle(c.b, ctx, c, r)
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	return c.writeResponse(hdr.CorrelationID, resp)
}

func (c *conn) writeResponse(corr int32, resp kmsg.Response) error {
	c.out = protocol.AppendResponse(c.out[:0], corr, resp)
	_, err := c.nc.Write(c.out)
	if cap(c.out) > 1<<20 {
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
