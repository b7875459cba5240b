package registry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

const (
	// headerForwarded marks a request one instance forwarded to the
	// leader; the leader never forwards it again.
	headerForwarded = "X-Samsa-Registry-Forwarded"
	// headerOffset is the store offset the leader had applied when it
	// answered a write; the forwarding instance waits for it before
	// answering, so a client reads its own writes from either instance.
	headerOffset = "X-Samsa-Registry-Offset"
)

// forwarded is a leader's answer relayed by a follower.
type forwarded struct {
	status int
	header http.Header
	body   []byte
}

func (f forwarded) write(w http.ResponseWriter) {
	for _, k := range []string{"Content-Type", headerOffset} {
		if v := f.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(f.status)
	w.Write(f.body)
}

// firstElectionWait bounds how long a write waits for the first leader.
const firstElectionWait = 60 * time.Second

// leaderAnswer is a write's answer on the leader, with the offset it
// reached.
type leaderAnswer struct {
	v      any
	offset int64
}

// leaderOnly runs a write on the leader: here, serialised with every other
// write, when this instance leads; forwarded to the leader otherwise.
func (r *Registry) leaderOnly(f func(*http.Request) (any, error)) func(*http.Request) (any, error) {
	return func(req *http.Request) (any, error) {
		wait := r.cfg.Timeout
		r.mu.Lock()
		if !r.leaderSeen {
			// The first election joins a group whose coordinator may
			// still be being created: wait as Confluent's
			// kafkastore.init.timeout.ms (60 s) would.
			wait = max(wait, firstElectionWait)
		}
		r.mu.Unlock()
		wctx, cancel := context.WithTimeout(req.Context(), wait)
		r.awaitLeader(wctx)
		cancel()
		r.mu.Lock()
		leading, leader := r.isLeader, r.leader
		r.mu.Unlock()
		if leading {
			r.writeMu.Lock()
			defer r.writeMu.Unlock()
			v, err := f(req)
			if err != nil {
				return nil, err
			}
			r.st.mu.RLock()
			off := r.st.applied
			r.st.mu.RUnlock()
			return leaderAnswer{v: v, offset: off}, nil
		}
		if leader == nil || leader.url() == r.selfURL || req.Header.Get(headerForwarded) != "" {
			return nil, apiErr(500, codeUnknownLeader, "Error while forwarding the request to the leader: the leader is not known yet")
		}
		return r.forward(req, leader.url())
	}
}

// forward relays req to the leader at base and, when the write succeeded,
// waits until this instance has applied it.
func (r *Registry) forward(req *http.Request, base string) (any, error) {
	limit := int64(r.cfg.MaxSchemaBytes)*2 + 64<<10
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, apiErr(400, codeBadRequest, "reading the request body: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, apiErr(422, codeSchemaTooLarge, "request body larger than %d bytes", limit)
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.Timeout+5e9)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, req.Method, base+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, apiErr(500, codeForwardingFailed, "Error while forwarding the request to the leader: %v", err)
	}
	for _, k := range []string{"Content-Type", "Accept", "Authorization"} {
		if v := req.Header.Get(k); v != "" {
			out.Header.Set(k, v)
		}
	}
	out.Header.Set(headerForwarded, r.selfURL)
	resp, err := r.fwd.Do(out)
	if err != nil {
		return nil, apiErr(500, codeForwardingFailed, "Error while forwarding the request to the leader %s: %v", base, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, apiErr(500, codeForwardingFailed, "Error while reading the leader's answer: %v", err)
	}
	if off, err := strconv.ParseInt(resp.Header.Get(headerOffset), 10, 64); err == nil && resp.StatusCode < 300 {
		wctx, cancel := context.WithTimeout(req.Context(), r.cfg.Timeout)
		werr := r.store.waitApplied(wctx, off)
		cancel()
		if werr != nil {
			r.lg.Warn("schema registry: forwarded write not applied here yet", "offset", off, "err", werr)
		}
	}
	return forwarded{status: resp.StatusCode, header: resp.Header, body: rb}, nil
}
