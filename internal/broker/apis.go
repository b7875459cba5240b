package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/protocol"
)

// request is one decoded request.
type request struct {
	hdr protocol.RequestHeader
	req kmsg.Request
}

// handler handles one request. It returns the response, or nil for no
// response (acks=0 produce). An error closes the connection.
type handler func(b *Broker, ctx context.Context, c *conn, r *request) (kmsg.Response, error)

type api struct {
	key      int16
	min, max int16
	handle   handler
}

// apiTable is the static dispatch table: each NN_name.go file registers its
// key's version range and handler from init, next to the handler, as
// franz-go's kfake does. It is written only during package initialisation.
var apiTable = map[int16]api{}

func register(key, min, max int16, h handler) {
	apiTable[key] = api{key: key, min: min, max: max, handle: h}
}

// supportedAPIs lists the table for ApiVersions, in key order.
func supportedAPIs() []api {
	out := make([]api, 0, len(apiTable))
	for _, a := range apiTable {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
