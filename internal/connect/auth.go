package connect

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// Authentication and authorization of the REST API.
//
// With Config.Auth set, every request but GET / (the health check) needs
// the HTTP basic credentials of a Kafka user, checked by a SASL login to
// Kafka (internal/httpserve); without them, or with wrong ones, the answer
// is 401 with a Basic challenge. Kafka has no Connect resource, so the
// worker's group stands for the Connect cluster: reading (GET, and
// validating a configuration) needs DESCRIBE on the Group named by
// group.id, changing anything needs READ on it (the right a worker itself
// needs to join that group; READ implies DESCRIBE). A user without it gets
// 403; super users pass. The connectors themselves run as the worker's
// Kafka principal, not as the caller, as in Kafka Connect.
//
// A follower forwards a write to the leader with the caller's
// Authorization header (proxy), so the leader checks the same user.
//
// With Config.TLS requiring client certificates (ssl.client.auth), the
// TLS handshake admits or refuses a client before any of this.

// opFor is the Group operation a request needs.
func opFor(r *http.Request) (int, string) {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return httpserve.OpDescribe, "DESCRIBE"
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/connector-plugins/") && strings.HasSuffix(r.URL.Path, "/config/validate"):
		return httpserve.OpDescribe, "DESCRIBE"
	}
	return httpserve.OpRead, "READ"
}

// authenticate wraps next with the basic authentication and the Group
// check of Config.Auth; without Auth it is next.
func (s *Server) authenticate(next http.Handler) http.Handler {
	a := s.cfg.Auth
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/" {
			next.ServeHTTP(w, r)
			return
		}
		sess, err := a.FromRequest(r)
		if errors.Is(err, httpserve.ErrUnauthenticated) {
			a.Challenge(w)
			writeError(w, &Error{Code: http.StatusUnauthorized, Msg: "Unauthorized: send the HTTP basic credentials of a Kafka user"})
			return
		}
		if err != nil {
			s.lg.Warn("connect: checking a login", "err", err)
			writeError(w, &Error{Code: http.StatusServiceUnavailable, Msg: fmt.Sprintf("checking the credentials with Kafka: %v", err)})
			return
		}
		op, opName := opFor(r)
		ok, err := a.GroupAllows(r.Context(), sess, s.cfg.GroupID, op)
		if err != nil {
			s.lg.Warn("connect: checking a user's rights", "user", sess.User, "err", err)
			writeError(w, &Error{Code: http.StatusServiceUnavailable, Msg: fmt.Sprintf("asking Kafka for the user's rights: %v", err)})
			return
		}
		if !ok {
			writeError(w, &Error{Code: http.StatusForbidden, Msg: fmt.Sprintf("User:%s is not authorized: this needs %s on Group %s", sess.User, opName, s.cfg.GroupID)})
			return
		}
		next.ServeHTTP(w, r)
	})
}
