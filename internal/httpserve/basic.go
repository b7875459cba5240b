package httpserve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ErrUnauthenticated is a missing or wrong credential.
var ErrUnauthenticated = errors.New("authentication failed")

// Config configures BasicAuth.
type Config struct {
	// Brokers and ClientOpts reach the Kafka listener users log in to
	// (ClientOpts carry its TLS settings, never a SASL mechanism).
	Brokers    []string
	ClientOpts []kgo.Opt
	// Mechanism is the SASL mechanism the listener offers: SCRAM-SHA-256,
	// SCRAM-SHA-512 or PLAIN.
	Mechanism string
	// Realm names the protection space in WWW-Authenticate.
	Realm string
	// TTL is how long a login and its authorization answers are trusted,
	// default 30 s; MaxSessions bounds the users kept, default 1,000.
	TTL         time.Duration
	MaxSessions int
}

// BasicAuth authenticates HTTP requests against Kafka.
type BasicAuth struct {
	cfg Config

	mu       sync.Mutex
	sessions map[string]*Session // by user
	failed   map[[32]byte]time.Time
}

// Session is a user logged in to Kafka: its client, used to ask the
// broker what the user may do.
type Session struct {
	User   string
	client *kgo.Client
	secret [32]byte // sha256 of the password, compared in constant time
	since  time.Time
	used   time.Time

	mu    sync.Mutex
	perms map[string]permAnswer // "topic" → its authorized operations
}

type permAnswer struct {
	ops  int32
	when time.Time
}

// New checks cfg.
func New(cfg Config) (*BasicAuth, error) {
	switch cfg.Mechanism {
	case "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN":
	default:
		return nil, fmt.Errorf("http basic auth: mechanism %q: want SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN", cfg.Mechanism)
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("http basic auth: no Kafka brokers to log in to")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Second
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1000
	}
	if cfg.Realm == "" {
		cfg.Realm = "samsa"
	}
	return &BasicAuth{cfg: cfg, sessions: map[string]*Session{}, failed: map[[32]byte]time.Time{}}, nil
}

func (a *BasicAuth) mechanism(user, pass string) sasl.Mechanism {
	switch a.cfg.Mechanism {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
}

// UserOpts are the franz-go options of a client that acts as user at the
// broker: the login listener's seeds and settings and user's SASL
// credentials (a service passing its users' principals through to Kafka
// opens its clients with them).
func (a *BasicAuth) UserOpts(user, pass string) []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(a.cfg.Brokers...), kgo.SASL(a.mechanism(user, pass))}, a.cfg.ClientOpts...)
}

// Realm is the protection space named in WWW-Authenticate.
func (a *BasicAuth) Realm() string { return a.cfg.Realm }

// Login returns the session of user, logging in to Kafka when there is
// none younger than TTL for this password.
func (a *BasicAuth) Login(ctx context.Context, user, pass string) (*Session, error) {
	secret := sha256.Sum256([]byte(pass))
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	now := time.Now()
	a.mu.Lock()
	if s := a.sessions[user]; s != nil && now.Sub(s.since) < a.cfg.TTL && subtle.ConstantTimeCompare(s.secret[:], secret[:]) == 1 {
		s.used = now
		a.mu.Unlock()
		return s, nil
	}
	if t, ok := a.failed[key]; ok && now.Sub(t) < time.Second {
		a.mu.Unlock()
		return nil, ErrUnauthenticated
	}
	a.mu.Unlock()

	cl, err := kgo.NewClient(append(a.UserOpts(user, pass), kgo.ClientID("samsa-http-"+user))...)
	if err != nil {
		return nil, fmt.Errorf("http basic auth: %w", err)
	}
	req := kmsg.NewPtrMetadataRequest() // any request proves the login
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = req.RequestWith(lctx, cl)
	cancel()
	if err != nil {
		cl.Close()
		if errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) || errors.Is(err, kerr.UnsupportedSaslMechanism) {
			a.mu.Lock()
			a.failed[key] = now
			a.mu.Unlock()
			return nil, ErrUnauthenticated
		}
		return nil, fmt.Errorf("http basic auth: logging in to Kafka: %w", err)
	}
	s := &Session{User: user, client: cl, secret: secret, since: now, used: now, perms: map[string]permAnswer{}}
	a.mu.Lock()
	if old := a.sessions[user]; old != nil {
		old.client.Close()
	}
	a.sessions[user] = s
	a.evictLocked(now)
	a.mu.Unlock()
	return s, nil
}

// evictLocked closes the least recently used sessions above MaxSessions
// and forgets old failures; a.mu is held.
func (a *BasicAuth) evictLocked(now time.Time) {
	for len(a.sessions) > a.cfg.MaxSessions {
		var lru *Session
		for _, s := range a.sessions {
			if lru == nil || s.used.Before(lru.used) {
				lru = s
			}
		}
		lru.client.Close()
		delete(a.sessions, lru.User)
	}
	for k, t := range a.failed {
		if now.Sub(t) > time.Second {
			delete(a.failed, k)
		}
	}
}

// Close closes every session's client.
func (a *BasicAuth) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for u, s := range a.sessions {
		s.client.Close()
		delete(a.sessions, u)
	}
}

// Kafka ACL operation codes (KIP-430's bit positions).
const (
	OpRead            = 3
	OpWrite           = 4
	OpDescribe        = 8
	OpDescribeConfigs = 10
	OpAlterConfigs    = 11
)

// clusterKey keys the Cluster's answer among the topics' (no topic name
// holds a NUL).
const clusterKey = "\x00cluster"

// ClusterAllows says whether the broker lets the session's user do op on
// the Cluster resource, by the user's own DescribeCluster request with the
// cluster's authorized operations (an answer that allows op is kept for
// the TTL; one that refuses it is not kept).
func (a *BasicAuth) ClusterAllows(ctx context.Context, s *Session, op int) (bool, error) {
	s.mu.Lock()
	p, ok := s.perms[clusterKey]
	s.mu.Unlock()
	if !ok || time.Since(p.when) > a.cfg.TTL {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = true
		resp, err := req.RequestWith(ctx, s.client)
		if err != nil {
			return false, fmt.Errorf("asking Kafka what %s may do on the cluster: %w", s.User, err)
		}
		p = permAnswer{when: time.Now()}
		if resp.ErrorCode == 0 && resp.ClusterAuthorizedOperations > 0 {
			p.ops = resp.ClusterAuthorizedOperations
		}
		if p.ops&(1<<op) == 0 {
			return false, nil // a refusal is asked again: a new ACL applies at once
		}
		s.mu.Lock()
		s.perms[clusterKey] = p
		s.mu.Unlock()
	}
	return p.ops&(1<<op) != 0, nil
}

// TopicAllows says whether the broker lets the session's user do op on
// topic, by the user's own Metadata request with the topic's authorized
// operations (answers are kept for the TTL).
func (a *BasicAuth) TopicAllows(ctx context.Context, s *Session, topic string, op int) (bool, error) {
	s.mu.Lock()
	p, ok := s.perms[topic]
	s.mu.Unlock()
	if !ok || time.Since(p.when) > a.cfg.TTL {
		req := kmsg.NewPtrMetadataRequest()
		req.IncludeTopicAuthorizedOperations = true
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, s.client)
		if err != nil {
			return false, fmt.Errorf("asking Kafka what %s may do on %s: %w", s.User, topic, err)
		}
		p = permAnswer{ops: 0, when: time.Now()}
		for _, rt := range resp.Topics {
			if rt.ErrorCode == 0 && rt.AuthorizedOperations > 0 {
				p.ops = rt.AuthorizedOperations
			}
		}
		s.mu.Lock()
		s.perms[topic] = p
		s.mu.Unlock()
	}
	return p.ops&(1<<op) != 0, nil
}

// FromRequest authenticates r's basic credentials; a missing header or
// wrong credentials are ErrUnauthenticated.
func (a *BasicAuth) FromRequest(r *http.Request) (*Session, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || strings.ContainsAny(user, "\x00,=") {
		return nil, ErrUnauthenticated
	}
	return a.Login(r.Context(), user, pass)
}

// Challenge sets the WWW-Authenticate header of a 401.
func (a *BasicAuth) Challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+a.cfg.Realm+`", charset="UTF-8"`)
}
