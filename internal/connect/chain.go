package connect

import (
	"strings"

	pub "github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/transform"
)

// newChain builds a connector's transformation chain (transforms,
// transforms.<n>.type/.predicate/.negate, predicates); nil when it has
// none.
func newChain(reg *pub.Registry, conn map[string]string) (transformer, error) {
	if strings.TrimSpace(conn["transforms"]) == "" {
		return nil, nil
	}
	c, err := transform.NewChain(reg, conn)
	if err != nil {
		return nil, err
	}
	return c, nil
}
