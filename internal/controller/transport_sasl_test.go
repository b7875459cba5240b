package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sasl/plain"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/sasl"
)

// plainExchange gives an internal/sasl exchange the principal the
// transport authorizes.
type plainExchange struct{ ex sasl.Exchange }

func (e plainExchange) Step(msg []byte) ([]byte, bool, error) { return e.ex.Step(msg) }
func (e plainExchange) Principal() string {
	r, _ := e.ex.Result()
	return r.Principal.String()
}

// withSASL sets cfg's SASL: PLAIN as user with password, accepting the
// given users, only User:broker allowed to speak for a node.
func withSASL(cfg TCPConfig, user, password string, users map[string]string) TCPConfig {
	mech := sasl.NewPlain(sasl.PlainUsers(users))
	login := plain.Auth{User: user, Pass: password}.AsMechanism()
	cfg.SASL = &TransportSASL{
		Mechanism: "PLAIN",
		Login: func(ctx context.Context, host string) (SASLClientSession, []byte, error) {
			return login.Authenticate(ctx, host)
		},
		Accept: func(m string) (SASLServerExchange, error) {
			if m != "PLAIN" {
				return nil, fmt.Errorf("mechanism %s not enabled", m)
			}
			return plainExchange{mech.Start()}, nil
		},
		Authorize: func(p string, nodeID int32) error {
			if p != "User:broker" {
				return fmt.Errorf("%s may not speak for node %d", p, nodeID)
			}
			return nil
		},
	}
	return cfg
}

// logBuffer collects a transport's log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTCPTransportSASL: transports that log in with PLAIN exchange raft
// messages and requests; a wrong password, a user that is not allowed to
// speak for a node, and a dialer without SASL are refused, the acceptor
// logging why, and nothing of theirs is delivered.
func TestTCPTransportSASL(t *testing.T) {
	users := map[string]string{"broker": "right", "alice": "alice-pw"}
	srvLog := &logBuffer{}
	a := startTransport(t, withSASL(TCPConfig{NodeID: 1, ClusterID: "c1",
		Logger: slog.New(slog.NewTextHandler(srvLog, &slog.HandlerOptions{Level: slog.LevelDebug}))}, "broker", "right", users))
	b := startTransport(t, withSASL(TCPConfig{NodeID: 2, ClusterID: "c1", Peers: map[int32]string{1: a.Addr().String()}}, "broker", "right", users))
	a.SetPeer(2, b.Addr().String())
	sendUntilReceived(t, a, b, 1, 2)
	sendUntilReceived(t, b, a, 2, 1)
	a.SetRequestHandler(func(_ context.Context, _ byte, req []byte) ([]byte, error) {
		return append([]byte("sasl:"), req...), nil
	})
	if got, err := b.Request(testCtx(t), 1, 1, []byte("hi")); err != nil || string(got) != "sasl:hi" {
		t.Fatalf("Request over SASL = %q, %v", got, err)
	}

	cases := []struct {
		name    string
		cfg     TCPConfig
		dialErr error  // what the dialer's Request fails with
		logged  string // in the acceptor's log
	}{
		{"wrong password", withSASL(TCPConfig{NodeID: 3, ClusterID: "c1"}, "broker", "wrong", users), ErrSASLFailed, "invalid username or password"},
		{"not a super user", withSASL(TCPConfig{NodeID: 4, ClusterID: "c1"}, "alice", "alice-pw", users), ErrSASLFailed, "User:alice may not speak for node 4"},
		{"no SASL", TCPConfig{NodeID: 5, ClusterID: "c1"}, nil, "node 5 did not authenticate with SASL"},
	}
	for _, tc := range cases {
		tc.cfg.Peers = map[int32]string{1: a.Addr().String()}
		c := startTransport(t, tc.cfg)
		_, err := c.Request(testCtx(t), 1, 1, []byte("hi"))
		if err == nil || tc.dialErr != nil && !errors.Is(err, tc.dialErr) {
			t.Fatalf("%s: Request = %v, want a refusal (%v)", tc.name, err, tc.dialErr)
		}
		c.Send(context.Background(), []*raftpb.Message{heartbeat(tc.cfg.NodeID, 1)})
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(srvLog.String(), tc.logged) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the acceptor never logged %q; log:\n%s", tc.name, tc.logged, srvLog.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		select {
		case m := <-a.got:
			t.Fatalf("%s: a refused node delivered %v", tc.name, m)
		case <-time.After(300 * time.Millisecond):
		}
		c.Close()
	}

	// A raw connection whose hello is right but which then sends raft
	// frames without logging in.
	conn, err := net.Dial("tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	hl := appendHello(nil, hello{Version: helloVersion, NodeID: 2, ClusterID: "c1"})
	expectRefused(t, a, conn, append(hl, raftFrame(t, heartbeat(2, 1))...))
}
