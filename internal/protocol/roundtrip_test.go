package protocol

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// peerServer is the far end of a loopback TCP connection: it reads each
// request frame, parses it with ParseRequest and writes whatever answer
// returns (nothing when nil; the connection is closed when answer says so).
// The headers of the first requests are kept in reqs.
type peerServer struct {
	t      *testing.T
	reqs   chan RequestHeader
	answer func(h RequestHeader, req kmsg.Request) (out []byte, closeAfter bool)
}

// dialPeerServer starts a server answering with answer and returns a Conn
// to it. Everything is closed and waited for when the test ends.
func dialPeerServer(t *testing.T, maxResponse int32, answer func(RequestHeader, kmsg.Request) ([]byte, bool)) (*Conn, *peerServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &peerServer{t: t, reqs: make(chan RequestHeader, 16), answer: answer}
	done := make(chan struct{})
	go func() { // waited in Cleanup
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer nc.Close()
		s.serve(nc)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(nc, "rt-test", maxResponse)
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c, s
}

func (s *peerServer) serve(nc net.Conn) {
	for {
		frame, err := ReadFrame(nc, 1<<20, nil)
		if err != nil {
			return
		}
		h, req, err := ParseRequest(frame)
		if err != nil {
			s.t.Errorf("server: %v", err)
			return
		}
		select {
		case s.reqs <- h:
		default: // a test that does not look at its requests
		}
		out, closeAfter := s.answer(h, req)
		if _, err := nc.Write(out); err != nil || closeAfter {
			return
		}
	}
}

// frameOf prefixes the size to a response header and body.
func frameOf(header, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(header)+len(body)))
	return append(append(out, header...), body...)
}

// taggedHeader is a response header v1 with two non-empty tagged fields.
func taggedHeader(corr int32) []byte {
	h := binary.BigEndian.AppendUint32(nil, uint32(corr))
	h = append(h, 2)                      // two tags
	h = append(h, 0, 3, 'a', 'b', 'c')    // tag 0, 3 bytes
	h = append(h, 0x81, 0x01, 0x82, 0x01) // tag 129, 130 bytes (2-byte uvarints)
	return append(h, bytes.Repeat([]byte{0xEE}, 130)...)
}

func testMetadataResponse(version int16) *kmsg.MetadataResponse {
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = version
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = 3, "h3", 9092
	resp.Brokers = append(resp.Brokers, b)
	return resp
}

func rtCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestRoundTripHeaders: requests go out with the header kmsg's formatter
// writes (v2 flexible, v1 otherwise, v0 for ControlledShutdown v0) and the
// client id; responses are read with header v1 including non-empty tagged
// fields, v0 for non-flexible versions, and v0 for flexible ApiVersions.
func TestRoundTripHeaders(t *testing.T) {
	c, s := dialPeerServer(t, 1<<20, func(h RequestHeader, req kmsg.Request) ([]byte, bool) {
		switch r := req.(type) {
		case *kmsg.MetadataRequest:
			want := testMetadataResponse(r.Version)
			if r.IsFlexible() {
				return frameOf(taggedHeader(h.CorrelationID), want.AppendTo(nil)), false
			}
			return AppendResponse(nil, h.CorrelationID, want), false
		case *kmsg.ControlledShutdownRequest:
			resp := r.ResponseKind()
			resp.SetVersion(r.Version)
			return AppendResponse(nil, h.CorrelationID, resp), false
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = req.GetVersion()
		resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: 1, MinVersion: 4, MaxVersion: 12}}
		return AppendResponse(nil, h.CorrelationID, resp), false
	})
	ctx := rtCtx(t, 10*time.Second)
	for _, v := range []int16{12, 1, 9, 0} { // flexible from v9
		req := kmsg.NewPtrMetadataRequest()
		req.Version = v
		resp := kmsg.NewPtrMetadataResponse()
		if err := c.RoundTrip(ctx, req, resp); err != nil {
			t.Fatalf("metadata v%d: %v", v, err)
		}
		if h := <-s.reqs; h.Key != 3 || h.Version != v || h.ClientID != "rt-test" {
			t.Fatalf("metadata v%d sent as %+v", v, h)
		}
		if resp.Version != v || !bytes.Equal(resp.AppendTo(nil), testMetadataResponse(v).AppendTo(nil)) {
			t.Fatalf("metadata v%d: decoded %+v", v, resp)
		}
	}
	for _, v := range []int16{3, 2} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		resp := kmsg.NewPtrApiVersionsResponse()
		if err := c.RoundTrip(ctx, req, resp); err != nil {
			t.Fatalf("api versions v%d: %v", v, err)
		}
		<-s.reqs
		if len(resp.ApiKeys) != 1 || resp.ApiKeys[0].MaxVersion != 12 {
			t.Fatalf("api versions v%d: %+v", v, resp)
		}
	}
	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.BrokerID = 4
	if err := c.RoundTrip(ctx, cs, cs.ResponseKind()); err != nil {
		t.Fatalf("controlled shutdown v0: %v", err)
	}
	if h := <-s.reqs; h.Key != 7 || h.Version != 0 || h.ClientID != "" {
		t.Fatalf("controlled shutdown v0 sent as %+v", h)
	}
	// A response of another kind is refused before anything is sent, and
	// the connection stays usable.
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	if err := c.RoundTrip(ctx, req, kmsg.NewPtrFetchResponse()); err == nil {
		t.Fatal("fetch response accepted for a metadata request")
	}
	if err := c.RoundTrip(ctx, req, kmsg.NewPtrMetadataResponse()); err != nil {
		t.Fatalf("after a refused response kind: %v", err)
	}
}

// TestRoundTripFailures: every way a response can be wrong fails with its
// error, and the connection is unusable afterwards.
func TestRoundTripFailures(t *testing.T) {
	body := testMetadataResponse(12).AppendTo(nil)
	for _, c := range []struct {
		name string
		out  func(corr int32) []byte
		want error
	}{
		{"wrong correlation id", func(corr int32) []byte { return frameOf(taggedHeader(corr+1), body) }, ErrCorrelation},
		{"truncated frame", func(corr int32) []byte { return frameOf(taggedHeader(corr), body)[:40] }, io.ErrUnexpectedEOF},
		{"oversized frame", func(corr int32) []byte { return []byte{0, 0x10, 0, 0, 1, 2, 3} }, ErrFrameTooLarge},
		{"negative size", func(corr int32) []byte { return []byte{0xff, 0xff, 0xff, 0xfe} }, ErrNegativeSize},
		{"closed before answering", func(corr int32) []byte { return nil }, io.EOF},
		{"short header", func(corr int32) []byte { return []byte{0, 0, 0, 2, 0, 0} }, ErrMalformedResponse},
		{"tag past the frame", func(corr int32) []byte {
			return frameOf(binary.BigEndian.AppendUint32(nil, uint32(corr)), []byte{1, 0, 50, 'x'})
		}, ErrMalformedResponse},
		{"tag count past the frame", func(corr int32) []byte {
			return frameOf(binary.BigEndian.AppendUint32(nil, uint32(corr)), []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
		}, ErrMalformedResponse},
		{"truncated body", func(corr int32) []byte { return frameOf(taggedHeader(corr), body[:len(body)/2]) }, ErrMalformedResponse},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, _ := dialPeerServer(t, 4096, func(h RequestHeader, _ kmsg.Request) ([]byte, bool) {
				return c.out(h.CorrelationID), true
			})
			req := kmsg.NewPtrMetadataRequest()
			req.Version = 12
			err := conn.RoundTrip(rtCtx(t, 10*time.Second), req, kmsg.NewPtrMetadataResponse())
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err := conn.RoundTrip(rtCtx(t, 10*time.Second), req, kmsg.NewPtrMetadataResponse()); !errors.Is(err, ErrConnBroken) {
				t.Fatalf("after a failure: %v, want ErrConnBroken", err)
			}
		})
	}
}

// TestRoundTripContext: a silent peer holds the exchange until the
// context's deadline or cancellation, whose error is returned; a context
// already done sends nothing.
func TestRoundTripContext(t *testing.T) {
	silent := func(RequestHeader, kmsg.Request) ([]byte, bool) { return nil, false }
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12

	c, _ := dialPeerServer(t, 4096, silent)
	start := time.Now()
	err := c.RoundTrip(rtCtx(t, 150*time.Millisecond), req, kmsg.NewPtrMetadataResponse())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("deadline: %v after %v", err, time.Since(start))
	}

	c, s := dialPeerServer(t, 4096, silent)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // ends with the request
		<-s.reqs
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if err := c.RoundTrip(ctx, req, kmsg.NewPtrMetadataResponse()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}

	c, _ = dialPeerServer(t, 4096, silent)
	if err := c.RoundTrip(ctx, req, kmsg.NewPtrMetadataResponse()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
}

// TestRoundTripCancelAfterSuccess: a context cancelled just after its
// exchange succeeded does not disturb the next exchange on the connection.
func TestRoundTripCancelAfterSuccess(t *testing.T) {
	c, _ := dialPeerServer(t, 4096, func(h RequestHeader, req kmsg.Request) ([]byte, bool) {
		return AppendResponse(nil, h.CorrelationID, testMetadataResponse(req.GetVersion())), false
	})
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		err := c.RoundTrip(ctx, req, kmsg.NewPtrMetadataResponse())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSkipTags: a tagged-field section is skipped whole; truncated ones
// and oversized counts are refused.
func TestSkipTags(t *testing.T) {
	rest, ok := skipTags([]byte{2, 0, 3, 'a', 'b', 'c', 5, 1, 'x', 0xAA})
	if !ok || len(rest) != 1 || rest[0] != 0xAA {
		t.Fatalf("skipTags = %v, %v", rest, ok)
	}
	for _, bad := range [][]byte{{}, {1}, {1, 0}, {1, 0, 9, 'a'}, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if _, ok := skipTags(bad); ok {
			t.Errorf("skipTags(% x) accepted a malformed section", bad)
		}
	}
}
