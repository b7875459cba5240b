package plugins

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/datagen"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/file"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/httpsink"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/postgres"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/verifiable"
)

// Options are what the built-in connectors take from the worker.
type Options struct {
	// Stdin is read by FileStreamSource when `file` is not set.
	Stdin io.Reader
	// Stdout receives FileStreamSink's lines when `file` is not set and
	// the Verifiable connectors' JSON lines (the worker's standard
	// output, which Kafka's system tests read).
	Stdout io.Writer
}

// Defaults fills unset fields with the process's standard streams.
func (o *Options) Defaults() {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
}

// Register adds every built-in connector to r, printing to the process's
// standard output.
func Register(r *connect.Registry) error {
	return RegisterWith(r, Options{})
}

// RegisterWith adds every built-in connector to r with o's streams.
func RegisterWith(r *connect.Registry, o Options) error {
	o.Defaults()
	out := &lockedWriter{w: o.Stdout}
	var all []connect.Plugin
	all = append(all, file.Plugins(o.Stdin, out)...)
	all = append(all, verifiable.Plugins(out)...)
	all = append(all, datagen.Plugins()...)
	all = append(all, httpsink.Plugins()...)
	for _, p := range all {
		if err := r.Register(p); err != nil {
			return fmt.Errorf("plugins: %w", err)
		}
	}
	if err := postgres.Register(r); err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	return nil
}

// lockedWriter serialises the tasks' writes to one output.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
