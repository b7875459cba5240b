package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// trace records the node's lifecycle events.
type trace struct {
	mu     sync.Mutex
	events []string
	failAt string // a "start" of this step fails
}

func (tr *trace) hook(event, name string) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, event+":"+name)
	if event == "start" && name == tr.failAt {
		return errors.New("injected failure at " + name)
	}
	return nil
}

// of returns the names of the recorded events of one kind, in order;
// before, if set, stops at that event.
func (tr *trace) of(kind, before string) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, e := range tr.events {
		if e == before {
			break
		}
		if k, name, _ := strings.Cut(e, ":"); k == kind {
			out = append(out, name)
		}
	}
	return out
}

// recService records its start and close in a shared log.
type recService struct {
	name     string
	log      *[]string
	mu       *sync.Mutex
	startErr error
}

func (s *recService) Name() string { return s.name }

func (s *recService) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.log = append(*s.log, "start "+s.name)
	return s.startErr
}

func (s *recService) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.log = append(*s.log, "close "+s.name)
	return nil
}

var brokerSteps = []string{
	"admin listener", "inter-broker security", "data dir", "clean-shutdown marker", "controller transport", "controller", "cluster id",
	"listeners", "broker registration", "partitions", "replicator", "image following",
	"coordinators", "broker", "background loops", "serving", "metrics", "services",
}

// The steps start in the documented order, Close runs every closer in
// reverse, and services are built with the bound address and closed
// before the broker stops serving.
func TestStartCloseOrder(t *testing.T) {
	var tr trace
	var svcLog []string
	var svcMu sync.Mutex
	var bootstrap string
	cfg := singleConfig(t, t.TempDir())
	cfg.hook = tr.hook
	for _, name := range []string{"a", "b"} {
		cfg.Services = append(cfg.Services, func(env ServiceEnv) (Service, error) {
			bootstrap = env.Bootstrap
			return &recService{name: name, log: &svcLog, mu: &svcMu}, nil
		})
	}
	cfg.Services = append(cfg.Services, func(ServiceEnv) (Service, error) { return nil, nil }) // not on this node
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bootstrap == "" || bootstrap != n.Addr() || bootstrap != n.AdvertisedAddr() || strings.HasSuffix(bootstrap, ":0") {
		t.Fatalf("services got bootstrap %q; the node listens on %q", bootstrap, n.Addr())
	}
	if got := tr.of("start", ""); !slices.Equal(got, brokerSteps) {
		t.Fatalf("steps started %v\nwant %v", got, brokerSteps)
	}
	pushed := tr.of("push", "")
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := n.Wait(); err != nil {
		t.Fatal(err)
	}
	closed := tr.of("close", "")
	want := slices.Clone(pushed)
	slices.Reverse(want)
	if !slices.Equal(closed, want) {
		t.Fatalf("closed %v\nwant %v", closed, want)
	}
	wantPrefix := []string{"b", "a", "controlled shutdown", "kafka listener", "background loops"}
	if !slices.Equal(closed[:len(wantPrefix)], wantPrefix) {
		t.Fatalf("closed %v, want it to begin with %v", closed, wantPrefix)
	}
	wantTail := []string{"controller", "clean-shutdown marker"}
	if !slices.Equal(closed[len(closed)-len(wantTail):], wantTail) {
		t.Fatalf("closed %v, want it to end with %v", closed, wantTail)
	}
	if i, j := slices.Index(closed, "broker connections"), slices.Index(closed, "partitions"); i < slices.Index(closed, "group coordinator") || j < i {
		t.Fatalf("closed %v: want the coordinators, the broker's connections, then the partitions", closed)
	}
	if !slices.Equal(svcLog, []string{"start a", "start b", "close b", "close a"}) {
		t.Fatalf("services: %v", svcLog)
	}
	if _, err := os.Stat(filepath.Join(n.DataDir(), cleanShutdownFile)); err != nil {
		t.Fatalf("no clean-shutdown marker after Close: %v", err)
	}
}

// A failure at any step closes exactly what the earlier steps started, in
// reverse, and writes no clean-shutdown marker.
func TestStartFailureUndoesEarlierSteps(t *testing.T) {
	var full trace
	cfg := singleConfig(t, t.TempDir())
	cfg.hook = full.hook
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, failAt := range brokerSteps {
		t.Run(failAt, func(t *testing.T) {
			tr := trace{failAt: failAt}
			cfg := singleConfig(t, t.TempDir())
			cfg.hook = tr.hook
			if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("Start: %v, want the injected failure", err)
			}
			want := full.of("push", "start:"+failAt)
			slices.Reverse(want)
			if got := tr.of("close", ""); !slices.Equal(got, want) {
				t.Fatalf("closed %v\nwant %v", got, want)
			}
			if _, err := os.Stat(filepath.Join(cfg.DataDir, cleanShutdownFile)); err == nil {
				t.Fatal("a failed start wrote the clean-shutdown marker")
			}
		})
	}
}

// A service that fails to start fails Start, and everything started
// before it, the listener included, is closed.
func TestFailingServiceUndoesStart(t *testing.T) {
	var tr trace
	var svcLog []string
	var mu sync.Mutex
	cfg := singleConfig(t, t.TempDir())
	cfg.hook = tr.hook
	var addr string
	cfg.Services = []ServiceFactory{
		func(env ServiceEnv) (Service, error) {
			addr = env.Bootstrap
			return &recService{name: "ok", log: &svcLog, mu: &mu}, nil
		},
		func(ServiceEnv) (Service, error) {
			return &recService{name: "bad", log: &svcLog, mu: &mu, startErr: errors.New("no")}, nil
		},
	}
	_, err := Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "service bad") {
		t.Fatalf("Start: %v, want the bad service's error", err)
	}
	if !slices.Equal(svcLog, []string{"start ok", "start bad", "close ok"}) {
		t.Fatalf("services: %v", svcLog)
	}
	if closed := tr.of("close", ""); closed[len(closed)-1] != "clean-shutdown marker" || !slices.Contains(closed, "controller") {
		t.Fatalf("closed %v", closed)
	}
	// The Kafka listener is closed: its port can be bound again.
	cfg = singleConfig(t, t.TempDir())
	cfg.Listen = addr
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("restart on the failed node's port: %v", err)
	}
	n.Close()

	// A factory's error fails Start too.
	cfg = singleConfig(t, t.TempDir())
	cfg.Services = []ServiceFactory{func(ServiceEnv) (Service, error) { return nil, errors.New("cannot build") }}
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "cannot build") {
		t.Fatalf("Start: %v", err)
	}
}

// A single node serves franz-go, stops cleanly, and restarts on the same
// data dir skipping log recovery, with every record still there.
func TestSingleNode(t *testing.T) {
	dir := t.TempDir()
	n, err := Start(context.Background(), singleConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if n.clean {
		t.Fatal("a fresh data dir counted as a clean shutdown")
	}
	id := n.ClusterID()
	createTopic(t, []string{n.Addr()}, "single", 2, 1)
	produce(t, []string{n.Addr()}, "single", "v", 50)
	if got := consumeAll(t, []string{n.Addr()}, "single", 50); len(got) != 50 {
		t.Fatalf("consumed %d", len(got))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, err = Start(context.Background(), singleConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !n.clean {
		t.Fatal("the restart did not see the clean-shutdown marker")
	}
	if _, err := os.Stat(filepath.Join(dir, cleanShutdownFile)); err == nil {
		t.Fatal("the marker is still there while the node runs")
	}
	if n.ClusterID() != id {
		t.Fatalf("cluster id %s after restart, was %s", n.ClusterID(), id)
	}
	produce(t, []string{n.Addr()}, "single", "w", 10)
	got := consumeAll(t, []string{n.Addr()}, "single", 60)
	for i := range 50 {
		if !got[fmt.Sprintf("v-%d", i)] {
			t.Fatalf("record v-%d lost across the restart", i)
		}
	}
}

// Run stops the node when its context ends.
func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, singleConfig(t, t.TempDir())) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{NodeID: 1, DataDir: "x", Roles: Roles{Controller: true}}, "needs --voters"},
		{Config{NodeID: 1, DataDir: "x", ControllerListen: "127.0.0.1:1"}, "--controller-listen needs --voters"},
		{Config{NodeID: 1, DataDir: "x", AdvertisedReplication: "h:1"}, "needs --replication-listen"},
		{Config{NodeID: 1, DataDir: "x", Voters: map[int32]string{1: "127.0.0.1:1"}, HeartbeatInterval: time.Second, SessionTimeout: time.Second}, "must exceed"},
		{Config{NodeID: -1, DataDir: "x"}, "node.id"},
	} {
		err := tc.cfg.Defaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Validate = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{NodeID: 1, DataDir: "x"}).Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
}
