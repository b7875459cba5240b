package connect

import (
	"fmt"

	pub "github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/internal/connect/plugins"
	"github.com/samsa-streaming/samsa/internal/connect/transform"
)

// DefaultPlugins returns a registry of every plugin Samsa ships:
// connectors, converters, transformations and predicates.
func DefaultPlugins() (*pub.Registry, error) {
	reg := pub.NewRegistry()
	for _, f := range []func(*pub.Registry) error{plugins.Register, convert.Register, transform.Register} {
		if err := f(reg); err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
	}
	return reg, nil
}
