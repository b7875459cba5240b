package restproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// DefaultListen is where the proxy serves unless told otherwise:
// Confluent's port, on loopback.
const DefaultListen = "127.0.0.1:8082"

// Config configures a Server. Field comments name the Confluent property
// each stands for.
type Config struct {
	// Listen is the HTTP address (listeners), host:port.
	Listen string
	// AdvertisedURL is the base of the URLs the proxy hands out
	// (base_uri of consumer instances); default http://Listen.
	AdvertisedURL string
	// Brokers are the Kafka bootstrap addresses (bootstrap.servers).
	Brokers []string
	// ClientOpts are extra franz-go options for every Kafka client the
	// proxy opens (TLS, SASL).
	ClientOpts []kgo.Opt
	// RegistryURL is the schema registry for the avro, jsonschema and
	// protobuf formats (schema.registry.url); "" disables them.
	RegistryURL string
	// RegistryTLS is the client side of an https:// RegistryURL (nil: the
	// system's roots).
	RegistryTLS *tls.Config
	// ConsumerInstanceTimeout is how long an idle consumer instance lives
	// (consumer.instance.timeout.ms), default 5 minutes.
	ConsumerInstanceTimeout time.Duration
	// ConsumerRequestTimeout bounds GET records (consumer.request.timeout.ms),
	// default 1 s.
	ConsumerRequestTimeout time.Duration
	// MaxRequestBytes bounds a request body that is not streamed
	// (max.request.size), default 64 MiB; above it, 413.
	MaxRequestBytes int64
	// TLS, when set, serves HTTPS (listeners=https://…): the listener's
	// certificate and, with ssl.client.auth, the client certificates it
	// asks for and trusts.
	TLS *tls.Config
	// Auth, when set, requires the HTTP basic credentials of a Kafka user
	// on every request but GET / and runs the request's Kafka requests as
	// that user (auth.go). Auth is the caller's; the proxy does not close
	// it.
	Auth *httpserve.BasicAuth
	// CertPrincipal, when set and Auth is not, names the principal of a
	// verified client certificate (ssl.principal.mapping.rules); a request
	// without one is 401.
	CertPrincipal func(tls.ConnectionState) (string, error)
	// MaxUserClients bounds the users whose Kafka clients are kept open
	// (basic authentication), default 100; UserClientIdle is how long an
	// unused user's clients are kept, default 5 minutes.
	MaxUserClients int
	UserClientIdle time.Duration
	// Logger is where the proxy logs.
	Logger *slog.Logger
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.ConsumerInstanceTimeout == 0 {
		c.ConsumerInstanceTimeout = 5 * time.Minute
	}
	if c.ConsumerRequestTimeout == 0 {
		c.ConsumerRequestTimeout = time.Second
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 64 << 20
	}
	if c.MaxUserClients == 0 {
		c.MaxUserClients = 100
	}
	if c.UserClientIdle == 0 {
		c.UserClientIdle = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports what is wrong with c (after Defaults).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("rest listen %q: %w", c.Listen, err))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("rest proxy: no Kafka brokers (bootstrap.servers)"))
	}
	if c.AdvertisedURL != "" && !strings.HasPrefix(c.AdvertisedURL, "http://") && !strings.HasPrefix(c.AdvertisedURL, "https://") {
		errs = append(errs, fmt.Errorf("rest advertised URL %q: want http:// or https://", c.AdvertisedURL))
	}
	if c.ConsumerInstanceTimeout <= 0 || c.ConsumerRequestTimeout <= 0 || c.MaxRequestBytes <= 0 ||
		c.MaxUserClients <= 0 || c.UserClientIdle <= 0 {
		errs = append(errs, errors.New("rest proxy: timeouts and limits must be positive"))
	}
	if c.CertPrincipal != nil && c.TLS == nil {
		errs = append(errs, errors.New("rest proxy: client certificates need an HTTPS listener"))
	}
	return errors.Join(errs...)
}

// Server is a REST proxy instance.
type Server struct {
	cfg     Config
	lg      *slog.Logger
	baseURL string

	producer *kgo.Client // shared by every produce request
	admin    *kadm.Client
	adminCl  *kgo.Client

	ln     net.Listener
	srv    *http.Server
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	consumers *consumerSet    // v2 consumer instances
	users     *userPool       // Kafka clients of authenticated users (clients.go)
	schemas   *schemaRegistry // registry client of the schema'd formats (formats.go)
}

// New checks cfg and builds a Server; Start serves it.
func New(cfg Config) (*Server, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, lg: cfg.Logger}, nil
}

// Name names the service.
func (s *Server) Name() string { return "rest proxy" }

// Addr is the address the proxy listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is this instance's base URL (after Start).
func (s *Server) URL() string { return s.baseURL }

// Ready says the proxy serves.
func (s *Server) Ready() bool { return s.srv != nil }

// clientOpts are the options every Kafka client of the proxy starts with.
func (s *Server) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(s.cfg.Brokers...), kgo.ClientID("samsa-rest-proxy")}, s.cfg.ClientOpts...)
	return append(opts, extra...)
}

// Start binds the listener, opens the shared Kafka clients and serves.
func (s *Server) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("rest proxy listen %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.baseURL = s.cfg.AdvertisedURL
	if s.baseURL == "" {
		s.baseURL = "http://" + ln.Addr().String()
		if s.cfg.TLS != nil {
			s.baseURL = "https://" + ln.Addr().String()
		}
	}
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
		s.ln = ln
	}
	// The producer partitions keyed records with murmur2 as the Java
	// client does (kgo's sticky key partitioner), and records marked by
	// withExplicitPartition to their Partition (v2_produce.go).
	if s.producer, err = kgo.NewClient(s.clientOpts(kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(newRESTPartitioner()))...); err != nil {
		ln.Close()
		return fmt.Errorf("rest proxy: producer: %w", err)
	}
	if s.adminCl, err = kgo.NewClient(s.clientOpts()...); err != nil {
		s.producer.Close()
		ln.Close()
		return fmt.Errorf("rest proxy: admin client: %w", err)
	}
	s.admin = kadm.NewClient(s.adminCl)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.consumers = newConsumerSet(s)
	s.users = newUserPool(s)
	s.schemas = newSchemaRegistry(s.cfg.RegistryURL)
	if s.cfg.RegistryTLS != nil {
		s.schemas.hc.Transport = &http.Transport{TLSClientConfig: s.cfg.RegistryTLS, MaxIdleConnsPerHost: 8}
	}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.lg.Handler(), slog.LevelDebug)}
	s.srv.RegisterOnShutdown(s.cancel) // long requests (streams) end at Close
	s.wg.Add(3)
	go func() { // stopped by Close (srv.Shutdown)
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.lg.Error("rest proxy: serve", "err", err)
		}
	}()
	go func() { // stopped by Close (cancel)
		defer s.wg.Done()
		s.consumers.reap(s.ctx)
	}()
	go func() { // stopped by Close (cancel)
		defer s.wg.Done()
		s.users.reap(s.ctx)
	}()
	s.lg.Info("rest proxy listening", "addr", ln.Addr().String(), "url", s.baseURL)
	return nil
}

// Close stops serving, closes every consumer instance (they leave their
// groups) and the Kafka clients.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := s.srv.Shutdown(sctx)
	cancel()
	s.cancel()
	s.wg.Wait()
	s.consumers.closeAll()
	s.users.closeAll()
	s.producer.Close()
	s.adminCl.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return err
}

// routes is the whole API: v2 (v2_*.go) and v3 (v3_*.go).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.routesV2(mux)
	s.routesV3(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, "application/json", 200, map[string]any{})
	})
	return s.authenticate(mux)
}
