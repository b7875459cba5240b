package registry

import "github.com/samsa-streaming/samsa/internal/registry/schema"

// DefaultHandlers are the schema types a registry serves by default.
func DefaultHandlers() []schema.Handler {
	return nil // filled in as the types land
}
