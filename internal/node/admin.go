package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/metrics"
)

// The admin HTTP listener (samsa.admin.listener, --admin-listen; default
// 127.0.0.1:9644): /metrics (Prometheus), /healthz (the process is up),
// /readyz (metadata caught up, the start-up pass done, not shutting down,
// no partition of this broker offline, the metadata log writable)
// and GET/PUT /admin/loggers (the log level at run time). It is bound
// first and closed last, so start-up and shutdown can be watched.
// https://HOST:PORT serves TLS with the listener.name.admin.ssl.* settings,
// and samsa.admin.authentication.method=BASIC guards /admin/* with the
// broker's users and ACLs (admin_auth.go). The metrics listener
// (samsa.metrics.listener, --metrics-listen; off by default) serves only
// /metrics, /healthz and /readyz, so they can stay open on an address of
// their own while the admin listener is locked down.

// DefaultAdminListen is where the admin listener binds unless told
// otherwise; when that default address is taken the node runs without it
// (logged), while an address given explicitly must bind.
const DefaultAdminListen = "127.0.0.1:9644"

// adminState is what the admin endpoints read.
type adminState struct {
	ready    atomic.Bool // start-up done, not shutting down
	metrics  *metrics.Registry
	logLevel *slog.LevelVar
	guard    adminGuard
}

// startAdmin binds the admin listener, and the metrics listener when
// asked for, and serves them until the node closes.
func (n *Node) startAdmin(context.Context) error {
	n.admin = &adminState{metrics: metrics.New(), logLevel: n.cfg.LogLevel}
	if err := n.admin.guard.configure(n.cfg); err != nil {
		return err
	}
	addr, err := n.serveHTTP("admin", n.cfg.AdminListen, n.cfg.AdminListenGiven || n.cfg.AdminListen != DefaultAdminListen, n.adminMux(true))
	if err != nil {
		return err
	}
	n.adminAddr = addr
	n.metricsAddr, err = n.serveHTTP("metrics", n.cfg.MetricsListen, true, n.adminMux(false))
	return err
}

// serveHTTP binds addr (host:port, http://… or https://…; "" or "none":
// nothing) for the admin listener or the metrics listener named name and
// serves h on it until the node closes; it returns the bound address. An
// https:// address serves TLS with the listener.name.<name>.ssl.*
// settings (reloaded as a Kafka listener's). The default address being
// taken (!given) only leaves the listener out, with a warning.
func (n *Node) serveHTTP(name, addr string, given bool, h http.Handler) (string, error) {
	if addr == "" || addr == "none" {
		return "", nil
	}
	var tc *tls.Config
	if rest, ok := strings.CutPrefix(addr, "https://"); ok {
		var err error
		if tc, _, err = n.serviceTLSReloader(strings.ToUpper(name)); err != nil {
			return "", fmt.Errorf("%s listener (--%s-listen): %w", name, name, err)
		}
		addr = rest
	}
	addr = strings.TrimPrefix(addr, "http://")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !given {
			n.lg.Warn(name+" listener not started: its default address is taken (set --"+name+"-listen)", "addr", addr, "err", err)
			return "", nil
		}
		return "", fmt.Errorf("%s listener (--%s-listen): %w", name, name, err)
	}
	scheme := "http"
	if tc != nil {
		ln, scheme = tls.NewListener(ln, tc), "https"
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.lg.Handler(), slog.LevelDebug)}
	done := make(chan struct{})
	go func() { // owned by the node: stopped and waited by the closer below
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.lg.Warn(name+" listener stopped", "err", err)
		}
	}()
	bound := ln.Addr().String()
	n.lg.Info("serving "+name+" endpoints", "addr", bound, "scheme", scheme)
	n.stack.push(name+" listener", false, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		<-done
		return err
	})
	return bound, nil
}

// adminMux routes the admin listener (withAdmin) or the metrics listener
// (without /admin/*).
func (n *Node) adminMux(withAdmin bool) *http.ServeMux {
	mux := http.NewServeMux()
	g := &n.admin.guard
	mux.Handle("GET /metrics", g.metricsGuard(n.admin.metrics.Handler()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !n.admin.ready.Load() || n.Err() != nil || n.parts != nil && n.parts.OfflineCount() > 0 || n.registry != nil && !n.registry.Ready() {
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	if withAdmin {
		mux.Handle("GET /admin/loggers", g.protect(httpserve.OpDescribeConfigs, http.HandlerFunc(n.getLoggers)))
		mux.Handle("PUT /admin/loggers/{name}", g.protect(httpserve.OpAlterConfigs, http.HandlerFunc(n.putLogger)))
	}
	return mux
}

// getLoggers answers the log level of the node's one logger, "root".
func (n *Node) getLoggers(w http.ResponseWriter, _ *http.Request) {
	level := "unknown"
	if n.admin.logLevel != nil {
		level = n.admin.logLevel.Level().String()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]map[string]string{"root": {"level": level}})
}

// putLogger sets the level from a body {"level":"DEBUG"} (or the bare
// level); "root" is the only logger.
func (n *Node) putLogger(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("name") != "root" {
		http.Error(w, "unknown logger: the node has one, root\n", http.StatusNotFound)
		return
	}
	if n.admin.logLevel == nil {
		http.Error(w, "this node's log level is fixed\n", http.StatusConflict)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct{ Level string }
	if json.Unmarshal(body, &req) != nil {
		req.Level = strings.TrimSpace(string(body))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(req.Level)); err != nil {
		http.Error(w, fmt.Sprintf("level %q: want DEBUG, INFO, WARN or ERROR\n", req.Level), http.StatusBadRequest)
		return
	}
	n.admin.logLevel.Set(l)
	if u := adminUser(r); u != "" {
		n.lg.Info("log level changed", "level", l.String(), "by", "User:"+u)
	} else {
		n.lg.Info("log level changed", "level", l.String())
	}
	n.getLoggers(w, r)
}

// AdminAddr is the bound admin listener ("" when off).
func (n *Node) AdminAddr() string { return n.adminAddr }

// MetricsAddr is the bound metrics listener ("" when off).
func (n *Node) MetricsAddr() string { return n.metricsAddr }

// Metrics is the node's metrics registry.
func (n *Node) Metrics() *metrics.Registry { return n.admin.metrics }
