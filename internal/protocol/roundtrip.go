package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors returned by Conn.RoundTrip and ParseResponse.
var (
	ErrMalformedResponse = errors.New("protocol: malformed response")
	ErrCorrelation       = errors.New("protocol: response correlation id does not match the request")
	ErrConnBroken        = errors.New("protocol: connection unusable after an earlier failure")
)

// Conn is the client end of a connection to a Kafka broker: Samsa's one
// request/response path to other brokers (replica fetches, transaction
// markers, KIP-890 verification). One goroutine at a time may call
// RoundTrip; Close may be called from any goroutine.
type Conn struct {
	nc          net.Conn
	f           *kmsg.RequestFormatter
	maxResponse int32
	corr        int32
	buf         []byte // the last request frame, reused
	broken      error  // the failure that made the connection unusable
}

// NewConn wraps nc, which the Conn then owns. Requests carry clientID in
// their header; a response frame larger than maxResponse bytes is refused
// before anything is allocated for it.
func NewConn(nc net.Conn, clientID string, maxResponse int32) *Conn {
	return &Conn{nc: nc, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)), maxResponse: maxResponse}
}

// Close closes the connection; a RoundTrip in progress fails.
func (c *Conn) Close() error { return c.nc.Close() }

// RoundTrip sends req (request header v2 when its version is flexible, v1
// otherwise) and decodes its response into resp, which must be of req's
// kind (req.ResponseKind()); resp's version is set to req's.
//
// ctx bounds the whole exchange: its deadline is the connection's, and its
// cancellation interrupts the I/O; the error is then ctx's. A response that
// is too large, truncated, for another correlation id or malformed fails
// with ErrFrameTooLarge, io.ErrUnexpectedEOF, ErrCorrelation or
// ErrMalformedResponse; a peer that closed the connection cleanly before
// answering gives io.EOF. After any failure of the exchange (anything but a
// response of the wrong kind or a context already done) the connection is
// closed and every later RoundTrip fails with ErrConnBroken.
func (c *Conn) RoundTrip(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	if c.broken != nil {
		return fmt.Errorf("%w (%v)", ErrConnBroken, c.broken)
	}
	if resp.Key() != req.Key() {
		return fmt.Errorf("protocol: %s response for a %s request", kmsg.NameForKey(resp.Key()), kmsg.NameForKey(req.Key()))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.exchange(ctx, req, resp); err != nil {
		c.broken = err
		c.nc.Close()
		return err
	}
	return nil
}

// exchange writes req and reads its response under ctx.
func (c *Conn) exchange(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	c.corr++
	c.buf = c.f.AppendRequest(c.buf[:0], req, c.corr)
	if req.Key() == controlledShutdownKey && req.GetVersion() == 0 {
		c.buf = req.AppendTo(c.buf) // kmsg's formatter writes only the header here
		binary.BigEndian.PutUint32(c.buf, uint32(len(c.buf)-4))
	}
	deadline, _ := ctx.Deadline() // zero (none) without one
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.nc.SetDeadline(time.Unix(1, 0)) // interrupts the I/O below
		close(fired)
	})
	defer func() {
		if !stop() {
			<-fired // never let it expire a later exchange's deadline
		}
	}()
	name := kmsg.NameForKey(req.Key())
	if _, err := c.nc.Write(c.buf); err != nil {
		return ctxErr(ctx, fmt.Errorf("%s request: %w", name, err))
	}
	frame, err := ReadFrame(c.nc, c.maxResponse, nil) // fresh: resp may alias it
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("%s response: %w", name, err))
	}
	resp.SetVersion(req.GetVersion())
	if err := ParseResponse(frame, c.corr, resp); err != nil {
		return fmt.Errorf("%s v%d response: %w", name, req.GetVersion(), err)
	}
	return nil
}

// ParseResponse parses a response frame (without its size) to a request
// with correlation id corr: the response header, then the body into resp at
// the version set on it. The header is v1 (the correlation id, then tagged
// fields, which are skipped) when resp's version is flexible and v0 (the
// correlation id only) otherwise, and always v0 for ApiVersions. Every
// length is checked against the bytes present; failures wrap
// ErrMalformedResponse, or ErrCorrelation for another request's response.
func ParseResponse(frame []byte, corr int32, resp kmsg.Response) error {
	if len(frame) < 4 {
		return fmt.Errorf("%w: %d-byte header", ErrMalformedResponse, len(frame))
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		return fmt.Errorf("%w: %d, want %d", ErrCorrelation, got, corr)
	}
	body := frame[4:]
	if resp.IsFlexible() && resp.Key() != ApiVersionsKey {
		var ok bool
		if body, ok = skipTags(body); !ok {
			return fmt.Errorf("%w: header tagged fields", ErrMalformedResponse)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	return nil
}

// ctxErr prefers the context's error to the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %v", cerr, err)
	}
	// The socket deadline is the context's: its timer may fire a moment
	// after the socket's.
	if d, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return err
}
