package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/protocol"
)

// scramNode is a node with one SASL_PLAINTEXT listener, SCRAM-SHA-512 and
// user alice.
func scramNode(t *testing.T) *Node {
	t.Helper()
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":               "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms": "SCRAM-SHA-512",
	})
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=alice,password=alice-secret]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// wireConn is a raw client connection speaking kmsg frames.
func wireConn(t *testing.T, addr string) (*protocol.Conn, net.Conn) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return protocol.NewConn(nc, "wire-test", 1<<20), nc
}

func roundTrip(t *testing.T, c *protocol.Conn, req kmsg.Request, resp kmsg.Response) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.RoundTrip(ctx, req, resp)
}

// closed reports whether the server closed nc (a read sees EOF or a reset).
func closed(nc net.Conn) bool {
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := nc.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// scramExchange runs SaslHandshake and the client-first step with
// franz-go's SCRAM client, returning the session and its client-final.
func scramExchange(t *testing.T, c *protocol.Conn, auth scram.Auth) (sasl.Session, []byte) {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "SCRAM-SHA-512"
	hsResp := kmsg.NewPtrSASLHandshakeResponse()
	if err := roundTrip(t, c, hs, hsResp); err != nil || hsResp.ErrorCode != 0 {
		t.Fatalf("handshake: %v %d", err, hsResp.ErrorCode)
	}
	sess, first, err := auth.AsSha512Mechanism().Authenticate(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	step := func(msg []byte) *kmsg.SASLAuthenticateResponse {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 1, msg
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		if err := roundTrip(t, c, req, resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	r := step(first)
	if r.ErrorCode != 0 {
		t.Fatalf("client-first: %d", r.ErrorCode)
	}
	_, final, err := sess.Challenge(r.SASLAuthBytes)
	if err != nil {
		t.Fatal(err)
	}
	return sess, final
}

func authenticate(t *testing.T, c *protocol.Conn, msg []byte) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version, req.SASLAuthBytes = 1, msg
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	if err := roundTrip(t, c, req, resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestSCRAMNegativesOnTheWire: a tampered nonce, a replayed client-final
// and a wrong password each answer SASL_AUTHENTICATION_FAILED and the
// broker closes the connection.
func TestSCRAMNegativesOnTheWire(t *testing.T) {
	n := scramNode(t)
	good := scram.Auth{User: "alice", Pass: "alice-secret"}

	// A successful exchange, whose client-final is replayed below.
	c, _ := wireConn(t, n.Addr())
	_, final := scramExchange(t, c, good)
	if r := authenticate(t, c, final); r.ErrorCode != 0 {
		t.Fatalf("good client-final: %d", r.ErrorCode)
	}
	cases := map[string]func(final []byte) []byte{
		"tampered nonce": func(f []byte) []byte {
			i := bytes.Index(f, []byte(",r="))
			g := append([]byte(nil), f...)
			g[i+4] ^= 1
			return g
		},
		"replayed client-final": func([]byte) []byte { return final },
	}
	for name, tamper := range cases {
		c, nc := wireConn(t, n.Addr())
		_, f := scramExchange(t, c, good)
		if r := authenticate(t, c, tamper(f)); r.ErrorCode != kerr.SaslAuthenticationFailed.Code {
			t.Fatalf("%s: error %d, want SASL_AUTHENTICATION_FAILED", name, r.ErrorCode)
		}
		if !closed(nc) {
			t.Fatalf("%s: connection left open", name)
		}
	}
	c, nc := wireConn(t, n.Addr())
	_, f := scramExchange(t, c, scram.Auth{User: "alice", Pass: "wrong"})
	if r := authenticate(t, c, f); r.ErrorCode != kerr.SaslAuthenticationFailed.Code || !closed(nc) {
		t.Fatalf("wrong password: error %d", r.ErrorCode)
	}
}

// TestPreAuthentication: before authenticating only ApiVersions,
// SaslHandshake and SaslAuthenticate are served (a Metadata request
// closes the connection), and a frame over sasl.server.max.receive.size
// is refused by its size alone.
func TestPreAuthentication(t *testing.T) {
	n := scramNode(t)
	c, nc := wireConn(t, n.Addr())
	if err := roundTrip(t, c, kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrApiVersionsResponse()); err != nil {
		t.Fatalf("ApiVersions before authenticating: %v", err)
	}
	if err := roundTrip(t, c, kmsg.NewPtrMetadataRequest(), kmsg.NewPtrMetadataResponse()); err == nil {
		t.Fatal("Metadata answered before authentication")
	}
	if !closed(nc) {
		t.Fatal("connection left open after a request before authentication")
	}
	_, nc = wireConn(t, n.Addr())
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<20) // 1 MiB announced (under socket.request.max.bytes), never sent
	if _, err := nc.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	if !closed(nc) {
		t.Fatal("a 1 MiB pre-authentication frame was not refused")
	}
}

// TestReauthentication (KIP-368): with connections.max.reauth.ms the
// broker answers a session lifetime; a connection that lets it pass
// without re-authenticating is closed at its next request, while
// franz-go, which re-authenticates by itself, keeps working.
func TestReauthentication(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":                 "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms":   "SCRAM-SHA-512",
		"connections.max.reauth.ms": "1000",
	})
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=alice,password=alice-secret]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	good := scram.Auth{User: "alice", Pass: "alice-secret"}
	c, nc := wireConn(t, n.Addr())
	_, final := scramExchange(t, c, good)
	r := authenticate(t, c, final)
	if r.ErrorCode != 0 || r.SessionLifetimeMillis <= 0 || r.SessionLifetimeMillis > 1000 {
		t.Fatalf("authentication: error %d, session lifetime %d ms", r.ErrorCode, r.SessionLifetimeMillis)
	}
	if err := roundTrip(t, c, kmsg.NewPtrMetadataRequest(), kmsg.NewPtrMetadataResponse()); err != nil {
		t.Fatalf("metadata within the session: %v", err)
	}
	time.Sleep(1200 * time.Millisecond)
	if err := roundTrip(t, c, kmsg.NewPtrMetadataRequest(), kmsg.NewPtrMetadataResponse()); err == nil || !closed(nc) {
		t.Fatalf("metadata after the session expired: %v", err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.SASL(good.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 3 {
		if err := cl.Ping(ctx); err != nil {
			t.Fatalf("franz-go ping %d across re-authentications: %v", i, err)
		}
		time.Sleep(700 * time.Millisecond)
	}
}
