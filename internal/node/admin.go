package node

import (
	"context"
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

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// The admin HTTP listener (samsa.admin.listener, --admin-listen; default
// 127.0.0.1:9644): /metrics (Prometheus), /healthz (the process is up),
// /readyz (metadata caught up, the start-up pass done, not shutting down,
// no partition of this broker offline, the metadata log writable)
// and PUT /admin/loggers/{name} (the log level at run time). It is bound
// first and closed last, so start-up and shutdown can be watched.

// DefaultAdminListen is where the admin listener binds unless told
// otherwise; when that default address is taken the node runs without it
// (logged), while an address given explicitly must bind.
const DefaultAdminListen = "127.0.0.1:9644"

// adminState is what the admin endpoints read.
type adminState struct {
	ready    atomic.Bool // start-up done, not shutting down
	metrics  *metrics.Registry
	logLevel *slog.LevelVar
}

// startAdmin binds the admin listener and serves it until the node closes.
func (n *Node) startAdmin(context.Context) error {
	n.admin = &adminState{metrics: metrics.New(), logLevel: n.cfg.LogLevel}
	addr := n.cfg.AdminListen
	if addr == "" || addr == "none" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !n.cfg.AdminListenGiven && addr == DefaultAdminListen {
			n.lg.Warn("admin listener not started: its default address is taken (set --admin-listen)", "addr", addr, "err", err)
			return nil
		}
		return fmt.Errorf("admin listener (--admin-listen): %w", err)
	}
	srv := &http.Server{Handler: n.adminMux(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // owned by the node: stopped and waited by the closer below
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.lg.Warn("admin listener stopped", "err", err)
		}
	}()
	n.adminAddr = ln.Addr().String()
	n.lg.Info("serving admin endpoints", "addr", n.adminAddr)
	n.stack.push("admin listener", false, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		<-done
		return err
	})
	return nil
}

func (n *Node) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.admin.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !n.admin.ready.Load() || n.Err() != nil || n.parts != nil && n.parts.OfflineCount() > 0 || n.registry != nil && !n.registry.Ready() || n.connect != nil && !n.connect.Ready() {
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /admin/loggers", n.getLoggers)
	mux.HandleFunc("PUT /admin/loggers/{name}", n.putLogger)
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
	n.lg.Info("log level changed", "level", l.String())
	n.getLoggers(w, r)
}

// AdminAddr is the bound admin listener ("" when off).
func (n *Node) AdminAddr() string { return n.adminAddr }

// Metrics is the node's metrics registry.
func (n *Node) Metrics() *metrics.Registry { return n.admin.metrics }
