package connect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Server is a Connect worker: its herder, its worker and its REST API.
type Server struct {
	cfg     Config
	lg      *slog.Logger
	baseURL string
	h       *Herder
	admin   *kgo.Client

	ln  net.Listener
	srv *http.Server
	// peers forwards requests to the leader (forward.go).
	peers *http.Client
	wg    sync.WaitGroup

	clusterMu sync.Mutex
	clusterID string

	loggers *loggers
}

// New checks cfg and builds a Server; Start runs it.
func New(cfg Config) (*Server, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, lg: cfg.Logger, clusterID: cfg.ClusterID, loggers: newLoggers(cfg.LogLevel)}, nil
}

// Name names the service.
func (s *Server) Name() string { return "connect" }

// URL is the worker's REST URL (after Start).
func (s *Server) URL() string { return s.baseURL }

// Addr is the bound REST address (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready says the worker serves.
func (s *Server) Ready() bool { return s.srv != nil }

// Start binds the REST listener, opens the Kafka clients, starts the
// herder and serves.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("connect listen %s: %w", s.cfg.Listen, err)
	}
	scheme := "http://"
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
		scheme = "https://"
	}
	s.ln = ln
	s.baseURL = s.cfg.AdvertisedURL
	if s.baseURL == "" {
		s.baseURL = scheme + ln.Addr().String()
	}
	s.peers = s.peerClient()
	opts := append([]kgo.Opt{kgo.SeedBrokers(s.cfg.Brokers...), kgo.ClientID("samsa-connect")}, s.cfg.ClientOpts...)
	if s.admin, err = kgo.NewClient(opts...); err != nil {
		ln.Close()
		return fmt.Errorf("connect: admin client: %w", err)
	}
	if err := s.startHerder(ctx, opts); err != nil {
		s.admin.Close()
		ln.Close()
		return err
	}
	s.srv = &http.Server{Handler: s.authenticate(s.routes()), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.lg.Handler(), slog.LevelDebug)}
	s.wg.Add(1)
	go func() { // stopped by Close (srv.Shutdown)
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.lg.Error("connect: serve", "err", err)
		}
	}()
	s.lg.Info("connect worker listening", "addr", ln.Addr().String(), "url", s.baseURL, "mode", s.mode(),
		"tls", s.cfg.TLS != nil, "auth", s.cfg.Auth != nil)
	return nil
}

func (s *Server) mode() string {
	if s.cfg.Standalone {
		return "standalone"
	}
	return "distributed"
}

// startHerder builds the herder: standalone with the offset file, or
// distributed on the internal topics and the connect group.
func (s *Server) startHerder(ctx context.Context, opts []kgo.Opt) error {
	if s.cfg.Standalone {
		offsets, err := newFileOffsets(s.cfg.OffsetFile)
		if err != nil {
			return err
		}
		s.h = newHerder(&s.cfg, s.baseURL, offsets, s.admin)
		s.h.start()
		return nil
	}
	s.h = newHerder(&s.cfg, s.baseURL, nil, s.admin)
	// The stores tail their topics until Close; ctx bounds the start only.
	lctx, lcancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, lcancel)
	d, err := newDistributed(lctx, s.h, opts)
	if !stop() || err != nil {
		lcancel()
		if err == nil {
			d.close()
			err = ctx.Err()
		}
		return fmt.Errorf("connect: %w", err)
	}
	d.stopStores = lcancel
	s.h.dist = d
	d.loggers = s.loggers
	d.levels = maps.Clone(d.cfgs.Snapshot().LoggerLevels) // old cluster levels were for workers before us
	if d.levels == nil {
		d.levels = map[string]string{}
	}
	s.h.offsets = offsetStore{d.offs}
	s.h.w.offsets = s.h.offsets
	s.h.mu.Lock()
	d.refresh()
	s.h.mu.Unlock()
	s.h.start()
	return nil
}

// AddConnector creates (or replaces) a connector from its properties, as
// the standalone worker does with its connector files.
func (s *Server) AddConnector(props map[string]string) error {
	name := strings.TrimSpace(props["name"])
	if name == "" {
		return errors.New("connector properties without a name")
	}
	_, _, err := s.h.Put(name, props, true, "")
	return err
}

// Close stops serving, then every task and connector, then the clients.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := s.srv.Shutdown(sctx)
	cancel()
	s.wg.Wait()
	s.peers.CloseIdleConnections()
	s.h.close()
	s.admin.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return err
}

// kafkaClusterID asks the brokers once.
func (s *Server) kafkaClusterID(ctx context.Context) string {
	s.clusterMu.Lock()
	defer s.clusterMu.Unlock()
	if s.clusterID == "" {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if md, err := kadm.NewClient(s.admin).BrokerMetadata(ctx); err == nil {
			s.clusterID = md.Cluster
		}
	}
	return s.clusterID
}
