package metrics

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Registry is the node's metrics registry: client_golang collectors, and
// Bulk collectors whose many series /metrics writes in the text format
// without client_golang (serve.go).
type Registry struct {
	small *prometheus.Registry // every collector but the Bulk ones
	all   *prometheus.Registry // every collector: Gatherer, and formats other than text

	mu       sync.Mutex // guards bulks and spare
	bulks    []Bulk
	spare    *Text     // the last scrape's buffers, kept for the next
	gzips    sync.Pool // *gzip.Writer
	fallback http.Handler
}

// Bulk is a collector of many series (per partition, per group) that can
// also write them in the text format directly: WriteText and Collect must
// give the same families, series and values.
type Bulk interface {
	prometheus.Collector
	WriteText(t *Text)
}

// New returns a registry holding the Go runtime and process collectors.
func New() *Registry {
	r := NewBare()
	if err := r.Register(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		panic(err) // a fresh registry refuses nothing
	}
	return r
}

// NewBare returns a registry without the runtime collectors (tests and
// benchmarks of one collector).
func NewBare() *Registry {
	r := &Registry{small: prometheus.NewRegistry(), all: prometheus.NewRegistry()}
	r.fallback = promhttp.HandlerFor(r.all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return r
}

// Register adds collectors.
func (r *Registry) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.all.Register(c); err != nil {
			return fmt.Errorf("register collector: %w", err)
		}
		if err := r.small.Register(c); err != nil {
			r.all.Unregister(c)
			return fmt.Errorf("register collector: %w", err)
		}
	}
	return nil
}

// RegisterBulk adds a Bulk collector. Its families must be its own: no
// other collector may write samples of them.
func (r *Registry) RegisterBulk(b Bulk) error {
	if err := r.all.Register(b); err != nil {
		return fmt.Errorf("register bulk collector: %w", err)
	}
	r.mu.Lock()
	r.bulks = append(r.bulks, b)
	r.mu.Unlock()
	return nil
}

// Gatherer is every collector through client_golang, for tests and
// embedders.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.all }

// Handler serves /metrics: the text format written as serve.go says, other
// formats (protobuf) through client_golang.
func (r *Registry) Handler() http.Handler { return http.HandlerFunc(r.serve) }

// text is a reset Text for one scrape, the last one's buffers if no other
// scrape holds them (a sync.Pool would lose them at most GCs: a scrape of
// a large broker writes megabytes); putText returns it.
func (r *Registry) text() *Text {
	r.mu.Lock()
	t := r.spare
	r.spare = nil
	r.mu.Unlock()
	if t == nil {
		return &Text{}
	}
	t.Reset()
	return t
}

func (r *Registry) putText(t *Text) {
	r.mu.Lock()
	r.spare = t
	r.mu.Unlock()
}

// negotiatedText is the text format when the request accepts it first (no
// Accept header included), and false when it prefers another (protobuf).
func negotiatedText(req *http.Request) (expfmt.Format, bool) {
	f := expfmt.NegotiateAccept(req.Header, expfmt.DefaultAcceptedFormats()...)
	return f, f.FormatType() == expfmt.TypeTextPlain
}
