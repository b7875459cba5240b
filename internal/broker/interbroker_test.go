package broker

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
)

// ibServer is a broker serving real connections on loopback whose
// WriteTxnMarkers handler is the test's (the real one needs a cluster).
type ibServer struct {
	addr    string
	stop    func()
	calls   atomic.Int32
	active  atomic.Int32
	maxSeen atomic.Int32

	mu sync.Mutex
	// gate, when set, holds every request until it is closed (or the
	// server stops).
	gate chan struct{}
}

func (s *ibServer) setGate(ch chan struct{}) {
	s.mu.Lock()
	s.gate = ch
	s.mu.Unlock()
}

// startIBServer serves WriteTxnMarkers v1..maxVersion on addr ("" picks a
// port). The dispatch table is swapped before serving and restored after
// the server has stopped, when the test ends.
func startIBServer(t *testing.T, addr string, maxVersion int16) *ibServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &ibServer{addr: ln.Addr().String()}
	key := int16(kmsg.WriteTxnMarkers)
	saved := apiTable[key]
	apiTable[key] = api{key: key, min: 1, max: maxVersion, handle: func(_ *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
		s.calls.Add(1)
		n := s.active.Add(1)
		defer s.active.Add(-1)
		for {
			m := s.maxSeen.Load()
			if n <= m || s.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		s.mu.Lock()
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
			}
		}
		req := r.req.(*kmsg.WriteTxnMarkersRequest)
		resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
		for _, m := range req.Markers {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			// The producer id echoes the version served.
			rm.ProducerID = int64(req.Version)*1000 + m.ProducerID
			resp.Markers = append(resp.Markers, rm)
		}
		return resp, nil
	}}
	settings := config.Broker{}.Defaults()
	lg := slog.New(slog.DiscardHandler)
	b := &Broker{cfg: Config{NodeID: 9, Settings: &settings, Logger: lg, Clock: sysClock{}}, lg: lg, conns: map[*conn]struct{}{}, perIP: map[string]int{}, limits: unlimited()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // stopped and waited by s.stop
		defer close(done)
		b.Serve(ctx, ln, Listener{})
	}()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(func() {
		s.stop()
		apiTable[key] = saved
	})
	return s
}

func markersReq(version int16, pid int64) *kmsg.WriteTxnMarkersRequest {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = version
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID = pid
	req.Markers = append(req.Markers, m)
	return req
}

func staticResolver(addrs map[int32]string) func(int32) (string, error) {
	var mu sync.Mutex
	return func(id int32) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := addrs[id]
		if !ok {
			return "", errors.New("unknown broker")
		}
		return a, nil
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestInterBrokerNegotiatesVersions: the request goes out at the highest
// version both sides serve, and a peer below the caller's minimum answers
// UNSUPPORTED_VERSION without costing the connection.
func TestInterBrokerNegotiatesVersions(t *testing.T) {
	old := startIBServer(t, "", 1)
	ib := newInterBroker(slog.New(slog.DiscardHandler), "test", staticResolver(map[int32]string{1: old.addr}))
	defer ib.Close()
	ctx := testCtx(t, 10*time.Second)

	resp, err := ib.Request(ctx, 1, markersReq(2, 7), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].ProducerID; got != 1007 {
		t.Errorf("served as %d, want version 1 (1007)", got)
	}
	if _, err := ib.Request(ctx, 1, markersReq(2, 7), 2); !errors.Is(err, kerr.UnsupportedVersion) {
		t.Errorf("minimum above the peer's maximum: %v, want UNSUPPORTED_VERSION", err)
	}
	if _, err := ib.Request(ctx, 2, markersReq(2, 7), 1); err == nil {
		t.Error("request to an unknown broker succeeded")
	}
	if _, err := ib.Request(ctx, 1, markersReq(2, 8), 1); err != nil {
		t.Fatal(err)
	}
	ib.mu.Lock()
	idle := len(ib.dests[1].idle)
	ib.mu.Unlock()
	if idle != 1 {
		t.Errorf("%d idle connections after sequential requests, want 1 (reused)", idle)
	}
}

// TestInterBrokerConcurrencyAndClose: concurrent requests to one broker use
// at most interBrokerMaxConns connections at once; a request honours its
// context; Close fails the requests in flight and every later one.
func TestInterBrokerConcurrencyAndClose(t *testing.T) {
	s := startIBServer(t, "", 2)
	ib := newInterBroker(slog.New(slog.DiscardHandler), "test", staticResolver(map[int32]string{1: s.addr}))
	ctx := testCtx(t, 20*time.Second)

	release := make(chan struct{})
	s.setGate(release)
	const n = 3 * interBrokerMaxConns
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			resp, err := ib.Request(ctx, 1, markersReq(2, int64(i)), 1)
			if err == nil && resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].ProducerID != 2000+int64(i) {
				err = errors.New("answer for another request")
			}
			errs[i] = err
		})
	}
	for s.active.Load() < interBrokerMaxConns && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if m := s.maxSeen.Load(); m != interBrokerMaxConns {
		t.Errorf("%d requests at once at the peer, want %d", m, interBrokerMaxConns)
	}

	// Requests held at the peer from now on (until the server stops).
	s.setGate(make(chan struct{}))

	// A request that outlives its context returns the context's error.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start := time.Now()
	_, err := ib.Request(short, 1, markersReq(2, 1), 1)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("held request: %v after %v, want the context's deadline", err, time.Since(start))
	}

	// Close while a request waits at the peer.
	inFlight := make(chan error, 1)
	before := s.calls.Load()
	go func() { // waited below
		_, err := ib.Request(ctx, 1, markersReq(2, 99), 1)
		inFlight <- err
	}()
	for s.calls.Load() == before && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	ib.Close()
	select {
	case err := <-inFlight:
		if err == nil {
			t.Error("request in flight at Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the request in flight")
	}
	if _, err := ib.Request(ctx, 1, markersReq(2, 100), 1); !errors.Is(err, errInterBrokerClosed) {
		t.Errorf("request after Close: %v, want errInterBrokerClosed", err)
	}
	ib.Close() // idempotent
}

// TestInterBrokerReconnects: a peer that restarted has closed the pooled
// connection; the next request is sent again on a fresh one.
func TestInterBrokerReconnects(t *testing.T) {
	first := startIBServer(t, "", 2)
	addr := first.addr
	ib := newInterBroker(slog.New(slog.DiscardHandler), "test", staticResolver(map[int32]string{1: addr}))
	defer ib.Close()
	ctx := testCtx(t, 10*time.Second)
	if _, err := ib.Request(ctx, 1, markersReq(2, 1), 1); err != nil {
		t.Fatal(err)
	}
	first.stop()
	second := startIBServer(t, addr, 2)
	resp, err := ib.Request(ctx, 1, markersReq(2, 2), 1)
	if err != nil {
		t.Fatalf("after the peer restarted: %v", err)
	}
	if resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].ProducerID != 2002 || second.calls.Load() != 1 {
		t.Errorf("answer %v, %d calls at the restarted peer", resp, second.calls.Load())
	}
}
