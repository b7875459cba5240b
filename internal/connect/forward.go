package connect

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// leaderOnly runs next on the group's leader: a follower forwards the
// request to the leader's URL with ?forward=false (Java's
// completeOrForwardRequest), and while no leader is known (a rebalance)
// answers 409.
func (s *Server) leaderOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := s.h.dist
		if d == nil || r.URL.Query().Get("forward") == "false" {
			next(w, r)
			return
		}
		self, url := d.leaderNow()
		switch {
		case url == "":
			writeError(w, errRebalance)
		case self:
			next(w, r)
		default:
			if s.proxy(w, r, url) {
				d.catchUp() // so reads here see what the leader just wrote
			}
		}
	}
}

// proxy sends r to the worker at base and copies its answer back; it
// says whether the answer was a success.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, base string) bool {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		writeError(w, &Error{Code: http.StatusRequestEntityTooLarge, Msg: "request body too large or unreadable"})
		return false
	}
	q := r.URL.Query()
	q.Set("forward", "false")
	req, err := http.NewRequestWithContext(r.Context(), r.Method, strings.TrimSuffix(base, "/")+r.URL.Path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		writeError(w, err)
		return false
	}
	for _, k := range []string{"Content-Type", "Authorization"} { // the caller's credentials, as Java forwards them
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	s.lg.Info("forwarding request to the leader", "method", r.Method, "path", r.URL.Path, "leader", base)
	resp, err := s.peers.Do(req)
	if err != nil {
		s.lg.Warn("forwarding to the leader failed", "url", base, "err", err)
		writeError(w, errRebalance)
		return false
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", "Location", "WWW-Authenticate"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode < 300
}

// peerClient is the HTTP client requests are forwarded to other workers
// with: over https:// it trusts them by Config.ForwardTLS for the host
// dialled (the worker's own trust store settings), else by the system's
// roots.
func (s *Server) peerClient() *http.Client {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, TLSHandshakeTimeout: 10 * time.Second}
	if f := s.cfg.ForwardTLS; f != nil {
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			d := tls.Dialer{Config: f(host)}
			return d.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Timeout: 90 * time.Second, Transport: tr}
}
