package sasl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

// jwksHTTPTimeout bounds one JWKS fetch when the caller gives no client.
const jwksHTTPTimeout = 10 * time.Second

// JWKSRefresher is a KeySource that loads the JWKS at
// sasl.oauthbearer.jwks.endpoint.url (file:, http: or https:) and keeps it
// fresh: every JWKSRefresh after a success, with exponential backoff from
// JWKSRetryBackoff to JWKSRetryBackoffMax after a failure, and early when a
// token names an unknown kid (at most once per
// JWKSUnknownKIDRefetchInterval). A failed fetch keeps the last good set;
// until one fetch has succeeded KeySet fails, so tokens are refused.
//
// Its one goroutine is started by Start and stopped (and waited for) by
// Close. KeySet, UnknownKID and Refresh are safe for concurrent use.
type JWKSRefresher struct {
	cfg    OAuthBearerConfig
	url    *url.URL
	client *http.Client
	clock  Clock
	log    *slog.Logger

	mu       sync.Mutex
	keys     *JWKS
	lastErr  error
	lastKick time.Time
	started  bool
	cancel   context.CancelFunc
	done     chan struct{}

	kick chan struct{}
}

// NewJWKSRefresher returns a refresher for cfg's JWKS endpoint. client
// fetches http(s) URLs (nil: a client with a 10 s timeout); clock paces
// kid-triggered refetches (nil: SystemClock); logger reports failed
// fetches (nil: discarded).
func NewJWKSRefresher(cfg OAuthBearerConfig, client *http.Client, clock Clock, logger *slog.Logger) (*JWKSRefresher, error) {
	if err := cfg.validateJWKS(); err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.JWKSEndpointURL)
	if err != nil {
		return nil, configWrap("sasl.oauthbearer.jwks.endpoint.url", err)
	}
	if client == nil {
		client = &http.Client{Timeout: jwksHTTPTimeout}
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &JWKSRefresher{cfg: cfg, url: u, client: client, clock: clock, log: logger, kick: make(chan struct{}, 1)}, nil
}

// KeySet implements KeySource.
func (r *JWKSRefresher) KeySet() (*JWKS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys != nil {
		return r.keys, nil
	}
	if r.lastErr != nil {
		return nil, r.lastErr
	}
	return nil, configErrorf("JWKS from %s not loaded yet", r.url.Redacted())
}

// UnknownKID implements KeySource: it asks the goroutine for an early
// refetch unless one was asked for within JWKSUnknownKIDRefetchInterval.
func (r *JWKSRefresher) UnknownKID(string) {
	r.mu.Lock()
	now := r.clock.Now()
	if !r.lastKick.IsZero() && now.Sub(r.lastKick) < r.cfg.JWKSUnknownKIDRefetchInterval {
		r.mu.Unlock()
		return
	}
	r.lastKick = now
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Refresh fetches the JWKS once, now, and installs it if it parses.
func (r *JWKSRefresher) Refresh(ctx context.Context) error {
	data, err := r.fetch(ctx)
	var set *JWKS
	if err == nil {
		set, err = ParseJWKS(data)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = fmt.Errorf("JWKS from %s: %w", r.url.Redacted(), err)
		return r.lastErr
	}
	r.keys, r.lastErr = set, nil
	return nil
}

func (r *JWKSRefresher) fetch(ctx context.Context) ([]byte, error) {
	var body io.ReadCloser
	switch r.url.Scheme {
	case "file":
		path := r.url.Path
		if path == "" {
			path = r.url.Opaque
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		body = f
	default:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := r.client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("HTTP status %s", resp.Status)
		}
		body = resp.Body
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS exceeds %d bytes", maxJWKSBytes)
	}
	return data, nil
}

// Start starts the refreshing goroutine, which fetches at once. It stops
// when ctx is done or Close is called.
func (r *JWKSRefresher) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("sasl: JWKS refresher already started")
	}
	r.started = true
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx, r.done)
	return nil
}

// Close stops the goroutine and waits for it. It is safe to call more than
// once, and before Start.
func (r *JWKSRefresher) Close() error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

func (r *JWKSRefresher) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := r.cfg.JWKSRetryBackoff
	for {
		wait := r.cfg.JWKSRefresh
		if err := r.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("sasl: JWKS refresh failed", "url", r.url.Redacted(), "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, r.cfg.JWKSRetryBackoffMax)
		} else {
			backoff = r.cfg.JWKSRetryBackoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.kick:
			t.Stop()
		}
	}
}
