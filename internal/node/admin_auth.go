package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// The admin listener's basic authentication
// (samsa.admin.authentication.method=BASIC): as for the registry and the
// REST proxy, the credentials are checked by a SASL login to this node's
// own SASL listener (serviceAuth), and the broker's ACLs decide, asked
// through the user's own connection (DescribeCluster's authorized
// operations). The rights are Kafka's for a broker's logger configs:
// GET /admin/loggers needs DESCRIBE_CONFIGS on the Cluster, PUT needs
// ALTER_CONFIGS; super users pass. /healthz and /readyz stay open, and so
// does /metrics unless samsa.admin.authentication.metrics=true (then it
// needs DESCRIBE_CONFIGS too). No or wrong credentials are 401 with a
// WWW-Authenticate challenge, a user without the right is 403.
//
// The admin listener is bound before the Kafka listeners it logs in to
// exist: until startAdminAuth has run, the guarded endpoints answer 503.

// adminRealm names the admin listener's protection space.
const adminRealm = "samsa-admin"

// adminGuard guards the admin endpoints.
type adminGuard struct {
	basic   bool // samsa.admin.authentication.method=BASIC
	metrics bool // samsa.admin.authentication.metrics
	auth    atomic.Pointer[httpserve.BasicAuth]
}

// configure reads the authentication settings of cfg. A node without the
// broker role has no SASL listener to log users in to, so BASIC there
// refuses to start rather than leave the endpoints open.
func (g *adminGuard) configure(cfg Config) error {
	b := cfg.Broker
	if b == nil || !strings.EqualFold(b.Values["samsa.admin.authentication.method"], "BASIC") {
		return nil
	}
	if !cfg.Roles.Broker {
		return errors.New("samsa.admin.authentication.method=BASIC needs the broker role (its SASL listener checks the logins); this node is a controller only")
	}
	g.basic, g.metrics = true, b.Bool("samsa.admin.authentication.metrics")
	return nil
}

// startAdminAuth sets up the admin listener's logins once the Kafka
// listeners are bound.
func (n *Node) startAdminAuth() error {
	if n.admin == nil || !n.admin.guard.basic {
		return nil
	}
	auth, err := n.serviceAuth("admin", adminRealm)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	n.admin.guard.auth.Store(auth)
	n.stack.push("admin listener logins", false, func() error {
		n.admin.guard.auth.Store(nil)
		auth.Close()
		return nil
	})
	return nil
}

// metricsGuard is h, behind protect when /metrics requires credentials.
func (g *adminGuard) metricsGuard(h http.Handler) http.Handler {
	if !g.metrics {
		return h
	}
	return g.protect(httpserve.OpDescribeConfigs, h)
}

// protect lets a request through to h when basic authentication is off,
// or when its user may do op on the Cluster.
func (g *adminGuard) protect(op int, h http.Handler) http.Handler {
	if !g.basic {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := g.auth.Load()
		if auth == nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "the node is starting or stopping: logins are not available\n", http.StatusServiceUnavailable)
			return
		}
		s, err := auth.FromRequest(r)
		if errors.Is(err, httpserve.ErrUnauthenticated) {
			auth.Challenge(w)
			http.Error(w, "unauthorized: basic credentials of a Kafka user required\n", http.StatusUnauthorized)
			return
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("checking the credentials: %v\n", err), http.StatusServiceUnavailable)
			return
		}
		ok, err := auth.ClusterAllows(r.Context(), s, op)
		if err != nil {
			http.Error(w, fmt.Sprintf("checking the rights: %v\n", err), http.StatusServiceUnavailable)
			return
		}
		if !ok {
			http.Error(w, fmt.Sprintf("forbidden: User:%s may not %s the Cluster\n", s.User, opName(op)), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminUserKey{}, s.User)))
	})
}

// adminUserKey keys the authenticated user in a guarded request's context.
type adminUserKey struct{}

// adminUser is the user protect let r through as, "" without
// authentication.
func adminUser(r *http.Request) string {
	u, _ := r.Context().Value(adminUserKey{}).(string)
	return u
}

// opName is the ACL operation's name in Kafka's spelling.
func opName(op int) string {
	if op == httpserve.OpAlterConfigs {
		return "ALTER_CONFIGS"
	}
	return "DESCRIBE_CONFIGS"
}
