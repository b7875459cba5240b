package controller

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// testPKI is a CA and what a transport needs to use its certificates.
type testPKI struct {
	ca   *tlstest.CA
	pool *x509.CertPool
}

func newTestPKI(t *testing.T, name string) *testPKI {
	ca := tlstest.NewCA(t, name)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &testPKI{ca: ca, pool: pool}
}

// cert issues a certificate for 127.0.0.1, usable by servers and clients.
func (p *testPKI) cert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	leaf := p.ca.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: cn}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	c, err := tls.X509KeyPair([]byte(leaf.ChainPEM), []byte(leaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withTLS sets cfg's TLS from cert, trusting p's CA, and allows only
// certificates named CN=raft-node.
func (p *testPKI) withTLS(cfg TCPConfig, cert tls.Certificate) TCPConfig {
	cfg.ServerTLS = &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: p.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	}
	cfg.ClientTLS = func(string) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	}
	cfg.Authorize = func(cs tls.ConnectionState, nodeID int32) error {
		if cn := cs.PeerCertificates[0].Subject.CommonName; cn != "raft-node" {
			return fmt.Errorf("CN=%s may not speak for node %d", cn, nodeID)
		}
		return nil
	}
	return cfg
}

// recvTransport is a started transport whose received messages go to got.
type recvTransport struct {
	*TCPTransport
	got chan *raftpb.Message
}

func startTransport(t *testing.T, cfg TCPConfig) *recvTransport {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	tr, err := NewTCPTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	r := &recvTransport{TCPTransport: tr, got: make(chan *raftpb.Message, 16)}
	tr.Start(func(_ context.Context, m *raftpb.Message) error {
		r.got <- m
		return nil
	})
	return r
}

func heartbeat(from, to int32) *raftpb.Message {
	return &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), From: new(RaftID(from)), To: new(RaftID(to))}
}

// receive waits for a message from node from.
func (r *recvTransport) receive(t *testing.T, from int32) {
	t.Helper()
	select {
	case m := <-r.got:
		if m.GetFrom() != RaftID(from) {
			t.Fatalf("got a message from %d, want %d", NodeID(m.GetFrom()), from)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no message from node %d", from)
	}
}

// sendUntilReceived sends heartbeats from a to b until b gets one (the
// first may be dropped while a dials).
func sendUntilReceived(t *testing.T, a, b *recvTransport, from, to int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		a.Send(context.Background(), []*raftpb.Message{heartbeat(from, to)})
		select {
		case <-b.got:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("node %d never received from node %d", to, from)
}

// TestTCPTransportMTLS: two transports with mutual TLS exchange raft
// messages and requests.
func TestTCPTransportMTLS(t *testing.T) {
	pki := newTestPKI(t, "raft CA")
	cert := pki.cert(t, "raft-node")
	a := startTransport(t, pki.withTLS(TCPConfig{NodeID: 1, ClusterID: "c1"}, cert))
	b := startTransport(t, pki.withTLS(TCPConfig{NodeID: 2, ClusterID: "c1", Peers: map[int32]string{1: a.Addr().String()}}, cert))
	a.SetPeer(2, b.Addr().String())
	sendUntilReceived(t, a, b, 1, 2)
	sendUntilReceived(t, b, a, 2, 1)
	a.SetRequestHandler(func(_ context.Context, _ byte, req []byte) ([]byte, error) {
		return append([]byte("tls:"), req...), nil
	})
	if got, err := b.Request(testCtx(t), 1, 1, []byte("hi")); err != nil || string(got) != "tls:hi" {
		t.Fatalf("Request over TLS = %q, %v", got, err)
	}
}

// TestTCPTransportPlaintextHello: without TLS the hello is still sent and
// checked, and plaintext transports talk.
func TestTCPTransportPlaintextHello(t *testing.T) {
	a := startTransport(t, TCPConfig{NodeID: 1, ClusterID: "c1"})
	b := startTransport(t, TCPConfig{NodeID: 2, Peers: map[int32]string{1: a.Addr().String()}})
	sendUntilReceived(t, b, a, 2, 1) // b knows no cluster id yet: accepted
	a.SetRequestHandler(func(context.Context, byte, []byte) ([]byte, error) { return []byte("ok"), nil })
	b.SetClusterID("c2") // each request dials anew, with c2
	if got, err := b.Request(testCtx(t), 1, 1, nil); err == nil {
		t.Fatalf("a request from another cluster was answered: %q", got)
	}
	b.SetClusterID("c1")
	if got, err := b.Request(testCtx(t), 1, 1, nil); err != nil || string(got) != "ok" {
		t.Fatalf("Request = %q, %v", got, err)
	}
}

func raftFrame(t *testing.T, m *raftpb.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// expectRefused writes payload on c and expects the connection closed, and
// nothing delivered to r.
func expectRefused(t *testing.T, r *recvTransport, c net.Conn, payload []byte) {
	t.Helper()
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	_, _ = c.Write(payload) // a refused TLS handshake may fail it already
	var b [1]byte
	if _, err := c.Read(b[:]); err == nil {
		t.Fatal("the connection is still open")
	} else if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, net.ErrClosed) {
		t.Fatalf("read: %v, want the peer to close", err)
	}
	select {
	case m := <-r.got:
		t.Fatalf("a refused connection delivered %v", m)
	default:
	}
}

// TestTCPTransportRefusals: connections a TLS transport refuses, each
// checked against one it accepts.
func TestTCPTransportRefusals(t *testing.T) {
	pki, other := newTestPKI(t, "raft CA"), newTestPKI(t, "other CA")
	good := pki.cert(t, "raft-node")
	srv := startTransport(t, pki.withTLS(TCPConfig{NodeID: 1, ClusterID: "c1", Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}, good))
	addr := srv.Addr().String()
	dialTLS := func(cfg *tls.Config) net.Conn {
		cfg.RootCAs, cfg.ServerName = pki.pool, "127.0.0.1"
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Client(c, cfg)
	}
	// GetClientCertificate presents cert even when the server asks for
	// another CA's.
	present := func(cert tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	withCert := func(cert tls.Certificate) net.Conn {
		return dialTLS(&tls.Config{GetClientCertificate: present(cert)})
	}
	helloFrom := func(node int32, cluster string) []byte {
		return appendHello(nil, hello{Version: helloVersion, NodeID: node, ClusterID: cluster})
	}
	valid := append(helloFrom(3, "c1"), raftFrame(t, heartbeat(3, 1))...)

	// The accepted one, with and without the peer's cluster id.
	for _, cluster := range []string{"c1", ""} {
		c := withCert(good)
		payload := append(helloFrom(3, cluster), raftFrame(t, heartbeat(3, 1))...)
		if _, err := c.Write(payload); err != nil {
			t.Fatal(err)
		}
		srv.receive(t, 3)
		c.Close()
	}
	plain := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name    string
		conn    func() net.Conn
		payload []byte
	}{
		{"plaintext", plain, valid},
		{"no client certificate", func() net.Conn { return dialTLS(&tls.Config{}) }, valid},
		{"another CA's certificate", func() net.Conn { return withCert(other.cert(t, "raft-node")) }, valid},
		{"principal not allowed", func() net.Conn { return withCert(pki.cert(t, "intruder")) }, valid},
		{"no hello", func() net.Conn { return withCert(good) }, raftFrame(t, heartbeat(3, 1))},
		{"wrong cluster id", func() net.Conn { return withCert(good) }, append(helloFrom(3, "c2"), raftFrame(t, heartbeat(3, 1))...)},
		{"hello as this node", func() net.Conn { return withCert(good) }, append(helloFrom(1, "c1"), raftFrame(t, heartbeat(3, 1))...)},
		{"from differs from hello", func() net.Conn { return withCert(good) }, append(helloFrom(3, "c1"), raftFrame(t, heartbeat(2, 1))...)},
		{"bad hello version", func() net.Conn { return withCert(good) }, append(appendHello(nil, hello{NodeID: 3}), raftFrame(t, heartbeat(3, 1))...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { expectRefused(t, srv, tc.conn(), tc.payload) })
	}
	// A TLS transport dialing with an untrusted certificate gets nowhere.
	icfg := other.withTLS(TCPConfig{NodeID: 3, Peers: map[int32]string{1: addr}}, other.cert(t, "raft-node"))
	icert := other.cert(t, "raft-node")
	icfg.ClientTLS = func(string) *tls.Config {
		return &tls.Config{RootCAs: pki.pool, GetClientCertificate: present(icert)}
	}
	intruder := startTransport(t, icfg)
	intruder.Send(context.Background(), []*raftpb.Message{heartbeat(3, 1)})
	if _, err := intruder.Request(testCtx(t), 1, 1, nil); err == nil {
		t.Fatal("a request with an untrusted certificate was answered")
	}
	select {
	case m := <-srv.got:
		t.Fatalf("the untrusted transport delivered %v", m)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestHelloWire: encoding round trips, later versions' fields are
// ignored, and malformed hellos are refused.
func TestHelloWire(t *testing.T) {
	h := hello{Version: helloVersion, NodeID: 7, ClusterID: "MkU3OEVBNTcwNTJENDM2Qk"}
	b := appendHello(nil, h)
	got, err := readHello(bytes.NewReader(b))
	if err != nil || got != h {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	later := append([]byte{}, b[8:]...)
	later[1] = 2
	later = append(later, "a future field"...)
	if got, err := decodeHello(later); err != nil || got.NodeID != 7 || got.ClusterID != h.ClusterID || got.Version != 2 {
		t.Fatalf("version 2 hello: %+v, %v", got, err)
	}
	for name, body := range map[string][]byte{
		"short":         b[8:14],
		"version 0":     append([]byte{0, 0}, b[10:]...),
		"negative node": append([]byte{0, 1, 0xff, 0xff, 0xff, 0xff}, b[14:]...),
		"id overrun":    b[8 : len(b)-1],
		"too long":      make([]byte, helloMaxBody+1),
	} {
		if _, err := decodeHello(body); !errors.Is(err, ErrBadHello) {
			t.Errorf("%s: %v, want ErrBadHello", name, err)
		}
	}
	if _, err := readHello(bytes.NewReader(raftFrame(t, heartbeat(1, 2)))); !errors.Is(err, ErrNoHello) {
		t.Errorf("a raft frame read as a hello: %v", err)
	}
}

// FuzzDecodeHello: the hello decoder never panics, and what it accepts
// re-encodes to a hello that decodes the same (as version 1 fields).
func FuzzDecodeHello(f *testing.F) {
	f.Add(appendHello(nil, hello{Version: 1, NodeID: 3, ClusterID: "c1"})[8:])
	f.Add(append(appendHello(nil, hello{Version: 9, NodeID: 0})[8:], 1, 2, 3))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 200})
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := decodeHello(body)
		if err != nil {
			if !errors.Is(err, ErrBadHello) {
				t.Fatalf("error %v does not wrap ErrBadHello", err)
			}
			return
		}
		if h.Version == 0 || h.NodeID < 0 || len(h.ClusterID) > 255 {
			t.Fatalf("accepted %+v", h)
		}
		got, err := readHello(bytes.NewReader(appendHello(nil, h)))
		if err != nil || got != h {
			t.Fatalf("re-encoded %+v: %+v, %v", h, got, err)
		}
	})
}
