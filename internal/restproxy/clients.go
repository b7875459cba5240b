package restproxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// userClients are the Kafka clients that act as one user (basic
// authentication): a producer and a request client, opened on first use
// with the user's SASL credentials. They are shared by the user's
// concurrent requests (refs) and closed when the pool drops them and the
// last request using them ends.
type userClients struct {
	pool   *userPool
	user   string
	secret [32]byte // sha256 of the password the clients log in with
	opts   []kgo.Opt

	// guarded by pool.mu
	refs    int
	used    time.Time
	retired bool // out of the pool: closed once refs drops to 0

	mu   sync.Mutex
	prod *kgo.Client
	cl   *kgo.Client
	adm  *kadm.Client
	shut bool // closed: clients opened later are closed at once
}

// producer is the user's producer, partitioning as the proxy's shared
// one does.
func (u *userClients) producer() *kgo.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.prod == nil {
		u.prod = u.open(kgo.ProducerLinger(5*time.Millisecond), kgo.RecordPartitioner(newRESTPartitioner()))
	}
	return u.prod
}

// client is the user's request client.
func (u *userClients) client() *kgo.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cl == nil {
		u.cl = u.open()
		u.adm = kadm.NewClient(u.cl)
	}
	return u.cl
}

// admin is the user's admin client.
func (u *userClients) admin() *kadm.Client {
	u.client()
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.adm
}

// open opens a client with the user's options; u.mu is held. kgo opens
// no connection before the first request, so it cannot fail for options
// the login already used; a failure is logged and gives a client that
// reaches no broker.
func (u *userClients) open(extra ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, u.opts...), extra...)...)
	if err != nil {
		u.pool.s.lg.Error("rest proxy: opening a client for a user", "user", u.user, "err", err)
		cl, _ = kgo.NewClient(kgo.SeedBrokers("invalid.invalid:0"), kgo.RequestRetries(0))
	}
	if u.shut {
		cl.Close() // a request outliving Close gets ErrClientClosed
	}
	return cl
}

// close closes the user's clients.
func (u *userClients) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shut = true
	for _, cl := range []*kgo.Client{u.prod, u.cl} {
		if cl != nil {
			cl.Close()
		}
	}
}

// userPool holds the clients of the users seen lately: at most
// Config.MaxUserClients users (the least recently used, idle, dropped
// first) and none idle longer than Config.UserClientIdle.
type userPool struct {
	s *Server

	mu    sync.Mutex
	users map[string]*userClients
}

func newUserPool(s *Server) *userPool {
	return &userPool{s: s, users: map[string]*userClients{}}
}

// opts are the options of a client acting as user.
func (p *userPool) opts(user, pass string) []kgo.Opt {
	return append([]kgo.Opt{kgo.ClientID("samsa-rest-proxy"), kgo.DialTimeout(10 * time.Second)},
		p.s.cfg.Auth.UserOpts(user, pass)...)
}

// acquire returns user's clients for one request (release them after):
// the pool's when they log in with pass, else new ones.
func (p *userPool) acquire(user, pass string) (*userClients, error) {
	secret := sha256.Sum256([]byte(pass))
	var idle []*userClients // retired with no request: closed after unlocking
	defer func() {
		for _, u := range idle {
			u.close()
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		return nil, apiErr(http.StatusServiceUnavailable, 50003, "the rest proxy is shutting down")
	}
	u := p.users[user]
	if u != nil && subtle.ConstantTimeCompare(u.secret[:], secret[:]) != 1 {
		idle = p.retireLocked(u, idle) // the password changed: log in anew
		u = nil
	}
	if u == nil {
		u = &userClients{pool: p, user: user, secret: secret, opts: p.opts(user, pass), used: time.Now()}
		p.users[user] = u
		idle = p.shrinkLocked(idle)
	}
	u.refs++
	u.used = time.Now()
	return u, nil
}

// release ends a request's use of u.
func (p *userPool) release(u *userClients) {
	p.mu.Lock()
	u.refs--
	u.used = time.Now()
	closeIt := u.retired && u.refs == 0
	p.mu.Unlock()
	if closeIt {
		u.close()
	}
}

// retireLocked takes u out of the pool; when no request uses it, it is
// appended to idle for the caller to close once p.mu is released (the
// last request closes it otherwise). p.mu is held.
func (p *userPool) retireLocked(u *userClients, idle []*userClients) []*userClients {
	if p.users[u.user] == u {
		delete(p.users, u.user)
	}
	u.retired = true
	if u.refs == 0 {
		idle = append(idle, u)
	}
	return idle
}

// shrinkLocked retires the least recently used users above the bound;
// p.mu is held.
func (p *userPool) shrinkLocked(idle []*userClients) []*userClients {
	for len(p.users) > p.s.cfg.MaxUserClients {
		var lru *userClients
		for _, u := range p.users {
			if lru == nil || u.used.Before(lru.used) {
				lru = u
			}
		}
		idle = p.retireLocked(lru, idle)
	}
	return idle
}

// reap retires the users idle longer than Config.UserClientIdle until
// ctx ends.
func (p *userPool) reap(ctx context.Context) {
	idle := p.s.cfg.UserClientIdle
	t := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var gone []*userClients
		p.mu.Lock()
		for _, u := range p.users {
			if u.refs == 0 && time.Since(u.used) > idle {
				gone = p.retireLocked(u, gone)
			}
		}
		p.mu.Unlock()
		for _, u := range gone {
			u.close()
		}
	}
}

// closeAll closes every user's clients; acquire refuses afterwards.
func (p *userPool) closeAll() {
	p.mu.Lock()
	users := p.users
	p.users = nil
	p.mu.Unlock()
	for _, u := range users {
		u.close()
	}
}
