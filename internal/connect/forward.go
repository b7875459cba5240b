package connect

import (
	"bytes"
	"io"
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
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	s.lg.Info("forwarding request to the leader", "method", r.Method, "path", r.URL.Path, "leader", base)
	cl := &http.Client{Timeout: 90 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		s.lg.Warn("forwarding to the leader failed", "url", base, "err", err)
		writeError(w, errRebalance)
		return false
	}
	defer resp.Body.Close()
	for _, k := range []string{"Content-Type", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode < 300
}
