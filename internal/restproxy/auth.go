package restproxy

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// Authentication and principal pass-through.
//
// With Config.Auth set, every request but GET / (the health check) needs
// the HTTP basic credentials of a Kafka user; they are checked by logging
// in to Kafka (internal/httpserve), and every Kafka request made for the
// HTTP request then runs as that user, through clients opened with the
// user's own SASL credentials (clients.go): the broker's ACLs decide, and
// its authorization errors come back as 403/40301 (kafkaError).
//
// With Config.CertPrincipal set (ssl.client.auth on the HTTPS listener)
// and no Auth, the verified client certificate names the principal: it
// owns the consumer instances it creates, but Kafka sees the proxy's own
// identity (a certificate's key never reaches the proxy, and the broker
// offers no impersonation), so the broker's ACLs apply to the proxy.

// principal is the authenticated caller of a request.
type principal struct {
	user string
	// pass is set for basic authentication: the user's Kafka clients log
	// in with it, and schema registry requests carry it on.
	pass    string
	clients *userClients // nil without basic authentication
}

type principalKey struct{}

// principalOf is ctx's caller, nil when the proxy authenticates nobody.
func principalOf(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// userOf is ctx's caller's name, "" when anonymous.
func userOf(ctx context.Context) string {
	if p := principalOf(ctx); p != nil {
		return p.user
	}
	return ""
}

// authenticate wraps next with the proxy's authentication: a request
// without valid credentials is 401 (with a Basic challenge), one whose
// login could not be checked is 500/50003.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.cfg.Auth == nil && s.cfg.CertPrincipal == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.principal(r)
		if err != nil {
			e := asAPIError(err)
			if e.status == http.StatusUnauthorized && s.cfg.Auth != nil {
				s.cfg.Auth.Challenge(w)
			}
			ct := v2JSON
			if strings.HasPrefix(r.URL.Path, "/v3/") {
				ct = v3JSON
			}
			writeError(w, ct, e)
			return
		}
		if p.clients != nil {
			defer s.users.release(p.clients)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// principal authenticates r.
func (s *Server) principal(r *http.Request) (*principal, error) {
	if s.cfg.Auth == nil {
		return s.certPrincipal(r)
	}
	sess, err := s.cfg.Auth.FromRequest(r)
	if errors.Is(err, httpserve.ErrUnauthenticated) {
		return nil, apiErr(http.StatusUnauthorized, 40101, "Unauthorized: send the HTTP basic credentials of a Kafka user")
	}
	if err != nil {
		s.lg.Warn("rest proxy: checking a login", "err", err)
		return nil, apiErr(http.StatusInternalServerError, 50003, "checking the credentials with Kafka: %v", err)
	}
	_, pass, _ := r.BasicAuth()
	uc, err := s.users.acquire(sess.User, pass)
	if err != nil {
		return nil, err
	}
	return &principal{user: sess.User, pass: pass, clients: uc}, nil
}

// certPrincipal is the principal of r's verified client certificate.
func (s *Server) certPrincipal(r *http.Request) (*principal, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return nil, apiErr(http.StatusUnauthorized, 40101, "Unauthorized: present a client certificate the proxy trusts")
	}
	name, err := s.cfg.CertPrincipal(*r.TLS)
	if err != nil || name == "" {
		return nil, apiErr(http.StatusUnauthorized, 40101, "Unauthorized: the client certificate maps to no principal: %v", err)
	}
	return &principal{user: name}, nil
}

// kadm is the admin client of ctx's caller: the user's own with basic
// authentication, else the proxy's.
func (s *Server) kadm(ctx context.Context) *kadm.Client {
	if p := principalOf(ctx); p != nil && p.clients != nil {
		return p.clients.admin()
	}
	return s.admin
}

// kclient is the request client (kmsg requests) of ctx's caller.
func (s *Server) kclient(ctx context.Context) *kgo.Client {
	if p := principalOf(ctx); p != nil && p.clients != nil {
		return p.clients.client()
	}
	return s.adminCl
}

// producerFor is the producer of ctx's caller.
func (s *Server) producerFor(ctx context.Context) *kgo.Client {
	if p := principalOf(ctx); p != nil && p.clients != nil {
		return p.clients.producer()
	}
	return s.producer
}

// callerOpts are the options of a new Kafka client acting for ctx's
// caller (a consumer): the proxy's, then the user's login when basic
// authentication is on.
func (s *Server) callerOpts(ctx context.Context, extra ...kgo.Opt) []kgo.Opt {
	opts := s.clientOpts()
	if p := principalOf(ctx); p != nil && p.pass != "" {
		opts = s.users.opts(p.user, p.pass)
	}
	return append(opts, extra...)
}

// errNotOwner answers a request on a consumer instance another principal
// created.
func errNotOwner(user string) *apiError {
	return apiErr(http.StatusForbidden, 40301, "Not authorized: the consumer instance belongs to another principal than User:%s", user)
}

// ownedBy says whether ctx's caller may use the instance c.
func (c *consumerInstance) ownedBy(ctx context.Context) bool {
	return c.owner == userOf(ctx)
}

// adopt makes the instance c its creator's: its Kafka clients act as the
// creator, and only the creator may use it.
func (c *consumerInstance) adopt(ctx context.Context) {
	c.owner = userOf(ctx)
	c.ownerOpts = c.set.s.callerOpts(ctx)
}

// v3Code is the v3 error_code of a Kafka error answered with status:
// the status, but 40301 for an authorization error, as Confluent's v2
// and v3 both answer (KAFKA_AUTHORIZATION_ERROR_CODE).
func v3Code(status int) int {
	if status == http.StatusForbidden {
		return 40301
	}
	return status
}

// errRegistryRefused is the schema registry refusing ctx's caller (its
// 401 or 403): 403/40301, as Kafka refusing it would be.
func errRegistryRefused(ctx context.Context, msg string) *apiError {
	who := "the rest proxy (no user)"
	if u := userOf(ctx); u != "" {
		who = "User:" + u
	}
	return apiErr(http.StatusForbidden, 40301, "Not authorized: the schema registry refused %s: %s", who, msg)
}
