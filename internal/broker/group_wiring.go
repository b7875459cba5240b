package broker

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// offsetsTopic is Kafka's group metadata topic.
const offsetsTopic = coordinator.OffsetsTopic

// ensureOffsetsTopic creates __consumer_offsets as Kafka does on the first
// FindCoordinator: offsets.topic.num.partitions partitions, replication
// offsets.topic.replication.factor capped at the live brokers, compacted.
func (b *Broker) ensureOffsetsTopic(ctx context.Context) (*metadata.Topic, error) {
	return b.ensureInternalTopic(ctx, &b.offsetsMu, offsetsTopic, "offsets.topic.num.partitions", "offsets.topic.replication.factor",
		func(*metadata.Image) map[string]string {
			return map[string]string{"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"}
		})
}

// clientOf is the coordinator's view of a request's origin; the host is
// reported as Kafka does ("/" + IP).
func clientOf(c *conn, r *request) group.Client {
	host := c.remote
	if h, _, err := net.SplitHostPort(c.remote); err == nil {
		host = h
	}
	return group.Client{ID: r.hdr.ClientID, Host: "/" + host}
}

// brokerEndpoint is a live broker's advertised host and port on the named
// listener (the one the asking client connected through).
func brokerEndpoint(img *metadata.Image, id int32, listener string) (string, int32, bool) {
	br, ok := img.Brokers[id]
	if !ok || br.Fenced {
		return "", 0, false
	}
	return br.Endpoint(listener)
}

// brokerRack is a broker's rack for a response's nullable rack field.
func brokerRack(img *metadata.Image, id int32) *string {
	if br, ok := img.Brokers[id]; ok && br.Rack != "" {
		return kmsg.StringPtr(br.Rack)
	}
	return nil
}
