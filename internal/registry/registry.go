package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// Registry is a schema registry instance: an HTTP server over a state kept
// in the _schemas topic.
type Registry struct {
	cfg      Config
	lg       *slog.Logger
	handlers map[schema.Type]schema.Handler
	st       *state
	store    *kafkaStore
	self     identity
	selfURL  string

	ln     net.Listener
	srv    *http.Server
	fwd    *http.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	val validateState

	// writeMu orders the leader's writes: each reads state, decides and
	// writes before the next.
	writeMu sync.Mutex

	mu       sync.Mutex
	ready    atomic.Bool // caught up with the store; read on every request
	initErr  error
	leader   *identity // nil: unknown
	isLeader bool      // this instance leads and has fenced earlier leaders
	// leaderSeen: a leader has been known since start (before, the first
	// election may still be creating its group, which takes longer).
	leaderSeen bool
	// leaderChanged is closed and replaced whenever leader or isLeader
	// changes.
	leaderChanged chan struct{}

	electOnce  sync.Once
	wantLeader chan struct{} // closed by the first write: join the election
}

// New checks cfg and builds a Registry; Start serves it.
func New(cfg Config) (*Registry, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Registry{cfg: cfg, lg: cfg.Logger, handlers: map[schema.Type]schema.Handler{}, st: newState(),
		leaderChanged: make(chan struct{}), wantLeader: make(chan struct{})}
	for _, h := range cfg.Handlers {
		r.handlers[h.Type()] = h
	}
	r.fwd = &http.Client{Timeout: cfg.Timeout + 5*time.Second}
	if cfg.ForwardTLS != nil {
		r.fwd.Transport = &http.Transport{TLSClientConfig: cfg.ForwardTLS, MaxIdleConnsPerHost: 8}
	}
	return r, nil
}

// Name names the service.
func (r *Registry) Name() string { return "schema registry" }

// Addr is the address the registry listens on (after Start).
func (r *Registry) Addr() string { return r.ln.Addr().String() }

// URL is this instance's base URL (after Start).
func (r *Registry) URL() string { return r.selfURL }

// Start binds the HTTP listener and starts catching up with the store in
// the background: until caught up, requests answer 503 (error_code 50002)
// and Ready is false. ctx bounds the start only.
func (r *Registry) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.cfg.Listen)
	if err != nil {
		return fmt.Errorf("schema registry listen %s: %w", r.cfg.Listen, err)
	}
	r.selfURL = r.cfg.AdvertisedURL
	if r.selfURL == "" {
		r.selfURL = "http://" + ln.Addr().String()
		if r.cfg.TLS != nil {
			r.selfURL = "https://" + ln.Addr().String()
		}
	}
	if r.cfg.TLS != nil {
		ln = tls.NewListener(ln, r.cfg.TLS)
	}
	r.ln = ln
	if r.self, err = identityOf(r.selfURL, *r.cfg.LeaderEligible); err != nil {
		ln.Close()
		return fmt.Errorf("schema registry advertised URL: %w", err)
	}
	if r.store, err = newKafkaStore(&r.cfg, r.st); err != nil {
		ln.Close()
		return err
	}
	r.srv = &http.Server{Handler: r.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(r.lg.Handler(), slog.LevelDebug)}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() { // stopped by Close (srv.Shutdown)
		defer r.wg.Done()
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.lg.Error("schema registry: serve", "err", err)
		}
	}()
	go func() { // stopped by Close (cancel)
		defer r.wg.Done()
		r.run(runCtx)
	}()
	r.lg.Info("schema registry listening", "addr", ln.Addr().String(), "url", r.selfURL)
	return nil
}

// run reads the store and, once a write asks for it (wantLeader), takes
// part in the election, until ctx ends. The store topic and the election
// group are made only by the first write: a registry nobody writes to
// leaves no trace in the cluster.
func (r *Registry) run(ctx context.Context) {
	// With authentication on, users' rights are read from the ACLs of the
	// store topic, so it must exist from the start.
	for r.cfg.Auth != nil && ctx.Err() == nil {
		ictx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		err := r.store.ensureTopic(ictx)
		cancel()
		if err == nil {
			break
		}
		r.lg.Warn("schema registry: store topic not created yet", "err", err)
		sleep(ctx, time.Second)
	}
	if err := r.store.startReader(); err != nil {
		r.mu.Lock()
		r.initErr = err
		r.mu.Unlock()
		r.lg.Error("schema registry: reader", "err", err)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // ends with ctx
		defer wg.Done()
		r.store.read(ctx)
	}()
	defer wg.Wait()
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		err := r.store.catchUp(cctx)
		cancel()
		if err == nil {
			break
		}
		r.mu.Lock()
		r.initErr = err
		r.mu.Unlock()
		r.lg.Warn("schema registry: catching up with the store", "err", err)
		sleep(ctx, time.Second)
	}
	if ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	r.initErr = nil
	r.ready.Store(true)
	r.mu.Unlock()
	r.lg.Info("schema registry ready", "schemas", r.schemaCount())
	select {
	case <-ctx.Done():
		return
	case <-r.wantLeader:
	}
	r.elect(ctx)
}

// awaitLeader starts the election if it has not started and waits until
// a leader is known (and, if it is this instance, has taken over).
func (r *Registry) awaitLeader(ctx context.Context) {
	r.electOnce.Do(func() { close(r.wantLeader) })
	for {
		r.mu.Lock()
		known := r.leader != nil && (r.leader.url() != r.selfURL || r.isLeader)
		r.leaderSeen = r.leaderSeen || known
		ch := r.leaderChanged
		r.mu.Unlock()
		if known {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

func (r *Registry) schemaCount() int {
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	return len(r.st.ids)
}

// Ready says the registry has caught up with its store.
func (r *Registry) Ready() bool {
	return r.ready.Load()
}

// setLeader records the election's outcome; when this instance becomes
// leader it first fences earlier leaders and catches up.
func (r *Registry) setLeader(ctx context.Context, id *identity) {
	me := id != nil && id.url() == r.selfURL
	r.mu.Lock()
	was := r.isLeader
	r.leader = id
	if !me {
		r.isLeader = false
	}
	r.signalLocked()
	r.mu.Unlock()
	if me && !was {
		// Take writeMu so no write runs half under the old leadership.
		r.writeMu.Lock()
		err := r.store.becomeWriter(ctx)
		r.writeMu.Unlock()
		if err != nil {
			r.lg.Warn("schema registry: could not take over as leader", "err", err)
			r.store.stopWriter()
			return
		}
		r.mu.Lock()
		r.isLeader = true
		r.signalLocked()
		r.mu.Unlock()
		r.lg.Info("schema registry: leader", "url", r.selfURL)
	}
	if !me && was {
		r.store.stopWriter()
		r.lg.Info("schema registry: no longer leader", "leader", r.currentLeaderURL())
	}
}

// signalLocked wakes awaitLeader; r.mu is held.
func (r *Registry) signalLocked() {
	close(r.leaderChanged)
	r.leaderChanged = make(chan struct{})
}

func (r *Registry) currentLeaderURL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leader == nil {
		return ""
	}
	return r.leader.url()
}

// Close stops serving, leaves the group and closes the Kafka clients.
func (r *Registry) Close() error {
	if r.srv == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := r.srv.Shutdown(sctx)
	cancel()
	r.cancel()
	r.wg.Wait()
	r.store.close()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // connections still open after 5 s are cut
	}
	return err
}
