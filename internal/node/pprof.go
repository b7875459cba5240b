package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofService serves Go's profiling endpoints on addr, on a mux of its own
// (not http.DefaultServeMux).
type pprofService struct {
	addr string
	lg   *slog.Logger
	srv  *http.Server
	done chan struct{}
}

func (p *pprofService) Name() string { return "pprof" }

func (p *pprofService) Start(context.Context) error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	p.done = make(chan struct{})
	go func() { // owned by p; stopped and waited by Close
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.lg.Warn("pprof server stopped", "err", err)
		}
	}()
	p.lg.Info("serving pprof", "addr", ln.Addr().String())
	return nil
}

// Close stops the server and waits for it.
func (p *pprofService) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	<-p.done
	return err
}
