package main

import (
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

// apiVersions sends one ApiVersions v0 request on conn and checks that the
// answer carries the same correlation id and error code 0. v0 is served by
// every broker version, needs no client software name and has a fixed header.
func apiVersions(conn net.Conn, correlationID int32) error {
	const clientID = "samsa-bench-compare"
	req := make([]byte, 0, 4+2+2+4+2+len(clientID))
	req = binary.BigEndian.AppendUint32(req, uint32(2+2+4+2+len(clientID)))
	req = binary.BigEndian.AppendUint16(req, 18) // ApiVersions
	req = binary.BigEndian.AppendUint16(req, 0)  // version 0
	req = binary.BigEndian.AppendUint32(req, uint32(correlationID))
	req = binary.BigEndian.AppendUint16(req, uint16(len(clientID)))
	req = append(req, clientID...)
	if _, err := conn.Write(req); err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size < 6 || size > 1<<20 {
		return fmt.Errorf("ApiVersions response of %d bytes", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(conn, body); err != nil {
		return err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != correlationID {
		return fmt.Errorf("ApiVersions correlation id %d, want %d", got, correlationID)
	}
	if code := int16(binary.BigEndian.Uint16(body[4:])); code != 0 {
		return fmt.Errorf("ApiVersions error code %d", code)
	}
	return nil
}

// probe dials addr (with TLS if tc is set) and does one ApiVersions round
// trip within timeout. Over TLS it returns the negotiated protocol and
// cipher suite.
func probe(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) (string, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	info := ""
	if tc != nil {
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			return "", err
		}
		info, conn = negotiated(tconn.ConnectionState()), tconn
	}
	return info, apiVersions(conn, 1)
}

// waitServing probes addr every 10 ms until one ApiVersions succeeds, the
// process exits (exited is closed) or ctx ends. It returns what the probe
// negotiated over TLS.
func waitServing(ctx context.Context, addr string, tc *tls.Config, exited <-chan struct{}) (string, error) {
	var last error
	for {
		info, err := probe(ctx, addr, tc, time.Second)
		if err == nil {
			return info, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s never answered ApiVersions: %w (last: %v)", addr, ctx.Err(), last)
		case <-exited:
			return "", fmt.Errorf("broker exited before answering ApiVersions (last: %w)", last)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// idleConns holds n connections to a broker, each of which did one
// ApiVersions handshake and then stays silent.
type idleConns struct {
	conns []net.Conn
}

// openIdle opens n connections to addr, 32 at a time, each doing an
// ApiVersions handshake. On error the ones already open are closed.
func openIdle(ctx context.Context, addr string, n int) (*idleConns, error) {
	ic := &idleConns{conns: make([]net.Conn, n)}
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := net.Dialer{Timeout: 10 * time.Second}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				errs[i] = err
				return
			}
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if err := apiVersions(conn, int32(i+1)); err != nil {
				conn.Close()
				errs[i] = err
				return
			}
			_ = conn.SetDeadline(time.Time{})
			ic.conns[i] = conn
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		ic.close()
		return nil, fmt.Errorf("opening %d idle connections: %w", n, err)
	}
	return ic, nil
}

// alive counts the connections the broker has not closed: a read with an
// already-passed deadline times out on a live connection and returns EOF (or
// a reset) on a closed one.
func (ic *idleConns) alive() int {
	n := 0
	var b [1]byte
	for _, c := range ic.conns {
		if c == nil {
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(b[:])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			n++
		}
	}
	return n
}

func (ic *idleConns) close() {
	for _, c := range ic.conns {
		if c != nil {
			c.Close()
		}
	}
}
