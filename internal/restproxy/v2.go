package restproxy

import (
	"context"
	"net/http"
)

// routesV2 registers the v2 API (being written).
func (s *Server) routesV2(mux *http.ServeMux) {}

// consumerSet holds the v2 consumer instances (being written).
type consumerSet struct{ s *Server }

func newConsumerSet(s *Server) *consumerSet { return &consumerSet{s: s} }

// reap closes instances idle longer than ConsumerInstanceTimeout, until
// ctx ends.
func (c *consumerSet) reap(ctx context.Context) { <-ctx.Done() }

// closeAll closes every instance.
func (c *consumerSet) closeAll() {}
