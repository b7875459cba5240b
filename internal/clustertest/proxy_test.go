package clustertest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

type lineConn struct {
	net.Conn
	r *bufio.Reader
}

func dialLine(t *testing.T, addr string) *lineConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &lineConn{Conn: c, r: bufio.NewReader(c)}
}

// roundTrip sends line and waits up to d for its echo.
func (c *lineConn) roundTrip(line string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// expectRefused dials addr and expects the connection to fail (the RST
// may even reach the dialler before its connect returns) rather than
// answer or time out.
func expectRefused(t *testing.T, addr, what string) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return
	}
	defer raw.Close()
	c := &lineConn{Conn: raw, r: bufio.NewReader(raw)}
	if got, err := c.roundTrip("x", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("%s: %q, %v; want a connection error", what, got, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

func TestProxyForwardsCutsAndHeals(t *testing.T) {
	p := StartProxy(t, echoServer(t))
	c := dialLine(t, p.Addr)
	if got, err := c.roundTrip("hello", 2*time.Second); err != nil || got != "hello" {
		t.Fatalf("through open proxy: %q, %v", got, err)
	}

	p.Cut()
	if p.State() != "cut" {
		t.Fatalf("state %s after Cut", p.State())
	}
	// The existing connection goes silent: the write succeeds, no answer.
	if got, err := c.roundTrip("during-cut", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("round trip during cut: %q, %v; want a timeout", got, err)
	}
	// A new connection is accepted (a blackhole, not a refusal) but
	// nothing comes back.
	c2 := dialLine(t, p.Addr)
	if got, err := c2.roundTrip("new-during-cut", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("new connection during cut: %q, %v; want a timeout", got, err)
	}

	p.Heal()
	// Held bytes are delivered in order after healing: the first
	// connection's pending echo arrives, then the next one.
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := c.r.ReadString('\n'); err != nil || got != "during-cut\n" {
		t.Fatalf("held line after heal: %q, %v", got, err)
	}
	if got, err := c.roundTrip("after-heal", 2*time.Second); err != nil || got != "after-heal" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
	_ = c2.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := c2.r.ReadString('\n'); err != nil || got != "new-during-cut\n" {
		t.Fatalf("connection made during the cut, after heal: %q, %v", got, err)
	}
	if n := p.Accepted(); n != 2 {
		t.Fatalf("Accepted() = %d, want 2", n)
	}
}

func TestProxyReset(t *testing.T) {
	p := StartProxy(t, echoServer(t))
	c := dialLine(t, p.Addr)
	if _, err := c.roundTrip("a", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	if got, err := c.roundTrip("b", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("existing connection after Reset: %q, %v; want a connection error", got, err)
	}
	// New connections are reset at once.
	expectRefused(t, p.Addr, "new connection after Reset")
	p.Heal()
	c3 := dialLine(t, p.Addr)
	if got, err := c3.roundTrip("d", 2*time.Second); err != nil || got != "d" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestProxyDelay(t *testing.T) {
	p := StartProxy(t, echoServer(t))
	c := dialLine(t, p.Addr)
	const d = 150 * time.Millisecond
	p.SetDelay(d)
	start := time.Now()
	if got, err := c.roundTrip("slow", 5*time.Second); err != nil || got != "slow" {
		t.Fatalf("delayed round trip: %q, %v", got, err)
	}
	// Both directions are delayed.
	if el := time.Since(start); el < 2*d {
		t.Fatalf("round trip took %v, want at least %v", el, 2*d)
	}
	p.SetDelay(0)
	start = time.Now()
	if _, err := c.roundTrip("fast", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el >= d {
		t.Fatalf("round trip without delay took %v", el)
	}
}

func TestProxyTargetDownAndClose(t *testing.T) {
	// A target nobody listens on: the client's connection is closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	p, err := NewProxy(dead)
	if err != nil {
		t.Fatal(err)
	}
	expectRefused(t, p.Addr, "through proxy to a dead target")

	// Close ends connections, even ones held by a cut, and returns only
	// after every goroutine is done.
	p2, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c2 := dialLine(t, p2.Addr)
	if _, err := c2.roundTrip("y", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p2.Cut()
	done := make(chan error, 1)
	go func() { done <- p2.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a cut connection open")
	}
	if got, err := c2.roundTrip("z", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("connection after Close: %q, %v; want a connection error", got, err)
	}
	if _, err := net.DialTimeout("tcp", p2.Addr, time.Second); err == nil {
		t.Fatal("closed proxy still accepts connections")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
