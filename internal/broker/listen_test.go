package broker

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
)

// listenBroker is a Broker with only what Serve needs, serving ln until
// the test ends; Serve's result arrives on the returned channel.
func listenBroker(t *testing.T, ln net.Listener, limits connLimits) (*Broker, context.CancelFunc, <-chan error) {
	t.Helper()
	settings := config.Broker{}.Defaults()
	lg := slog.New(slog.DiscardHandler)
	b := &Broker{
		cfg: Config{NodeID: 1, Settings: &settings, Logger: lg, Clock: sysClock{}}, lg: lg,
		conns: make(map[*conn]struct{}), perIP: make(map[string]int), limits: limits,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, exited := make(chan error, 1), make(chan struct{})
	go func() { // stopped and waited by the cleanup
		done <- b.Serve(ctx, ln, Listener{})
		close(exited)
	}()
	t.Cleanup(func() { cancel(); <-exited })
	return b, cancel, done
}

func unlimited() connLimits { return connLimits{maxConns: 1 << 30, maxPerIP: 1 << 30} }

// apiVersionsOK sends ApiVersions v0 on c and reports whether an answer
// came back.
func apiVersionsOK(c net.Conn) bool {
	req := kmsg.NewPtrApiVersionsRequest()
	out := binary.BigEndian.AppendUint32(nil, 0)
	out = binary.BigEndian.AppendUint16(out, uint16(req.Key()))
	out = binary.BigEndian.AppendUint16(out, 0)
	out = binary.BigEndian.AppendUint32(out, 7)
	out = binary.BigEndian.AppendUint16(out, 0xffff) // null client id
	out = req.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(out); err != nil {
		return false
	}
	var size [4]byte
	_, err := io.ReadFull(c, size[:])
	return err == nil
}

// flakyListener fails its first accepts with EMFILE, as accept(2) does
// when the process is out of file descriptors.
type flakyListener struct {
	net.Listener
	failures atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestServeSurvivesAcceptErrors checks that accept errors are retried with
// a backoff instead of ending Serve, and that only the listener's close
// ends it.
func TestServeSurvivesAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.failures.Store(8) // backoffs 5+10+…+640 ms ≈ 1.3 s
	_, cancel, done := listenBroker(t, fl, unlimited())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !apiVersionsOK(c) {
		t.Fatal("not served after accept errors")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its listener closed")
	}
}

// TestServeConnectionLimits checks max.connections.per.ip and
// max.connections: connections past a limit are closed at once, the
// others served, and a closed connection frees its slot.
func TestServeConnectionLimits(t *testing.T) {
	for _, l := range []connLimits{{maxConns: 1 << 30, maxPerIP: 2}, {maxConns: 2, maxPerIP: 1 << 30}, {maxConns: 1 << 30, maxPerIP: 50, overrides: map[string]int{"127.0.0.1": 2}}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listenBroker(t, ln, l)
		dial := func() net.Conn {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
		a, b := dial(), dial()
		if !apiVersionsOK(a) || !apiVersionsOK(b) {
			t.Fatalf("%+v: the first two connections are not served", l)
		}
		if apiVersionsOK(dial()) {
			t.Fatalf("%+v: the third connection was served", l)
		}
		a.Close()
		deadline := time.Now().Add(5 * time.Second)
		for !apiVersionsOK(dial()) {
			if time.Now().After(deadline) {
				t.Fatalf("%+v: no connection served after one closed", l)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestServeClosesIdleConnections checks connections.max.idle.ms: a
// connection with no request for that long is closed; one that keeps
// asking is not.
func TestServeClosesIdleConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := unlimited()
	l.idle = 300 * time.Millisecond
	listenBroker(t, ln, l)
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	start := time.Now()
	for time.Since(start) < time.Second {
		if !apiVersionsOK(busy) {
			t.Fatal("an active connection was closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection: %v, want closed", err)
	}
}

// TestServeStopAbandonsUnreadResponses checks the bounded shutdown: a
// client that never reads a large response holds Serve for the grace
// period at most.
func TestServeStopAbandonsUnreadResponses(t *testing.T) {
	key := int16(kmsg.DescribeCluster)
	saved := apiTable[key]
	apiTable[key] = api{key: key, min: 0, max: 2, handle: func(_ *Broker, _ context.Context, _ *conn, r *request) (kmsg.Response, error) {
		resp := kmsg.NewPtrDescribeClusterResponse()
		resp.Version = r.hdr.Version
		resp.ClusterID = strings.Repeat("x", 64<<20)
		return resp, nil
	}}
	defer func() { apiTable[key] = saved }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, cancel, done := listenBroker(t, ln, unlimited())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	req := kmsg.NewPtrDescribeClusterRequest()
	out := binary.BigEndian.AppendUint32(nil, 0)
	out = binary.BigEndian.AppendUint16(out, uint16(key))
	out = binary.BigEndian.AppendUint16(out, 0)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint16(out, 0xffff)
	out = append(out, 0) // header tags (v0 is flexible)
	out = req.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the response is being written
	start := time.Now()
	cancel()
	select {
	case <-done:
		if took := time.Since(start); took < shutdownGrace-time.Second {
			t.Fatalf("Serve returned after %v: the in-flight response got no grace", took)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("Serve still waiting for a client that does not read")
	}
}
