package connect

import (
	pub "github.com/samsa-streaming/samsa/connect"
)

// DefaultPlugins returns a registry of every plugin Samsa ships:
// connectors, converters, transformations and predicates.
func DefaultPlugins() (*pub.Registry, error) {
	reg := pub.NewRegistry()
	return reg, nil
}
