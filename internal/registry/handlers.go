package registry

import (
	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/samsa-streaming/samsa/internal/registry/schemaavro"
)

// DefaultHandlers are the schema types a registry serves by default.
func DefaultHandlers() []schema.Handler {
	return []schema.Handler{schemaavro.New()}
}
