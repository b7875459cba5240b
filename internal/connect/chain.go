package connect

import (
	"fmt"
	"strings"

	pub "github.com/samsa-streaming/samsa/connect"
)

// newChain builds a connector's transformation chain.
func newChain(reg *pub.Registry, conn map[string]string) (transformer, error) {
	if strings.TrimSpace(conn["transforms"]) == "" {
		return nil, nil
	}
	return nil, fmt.Errorf("transforms: not available in this build")
}
