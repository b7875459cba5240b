package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka 4.0 accepts v1 (v0 went with KIP-896); v2 (4.2, KIP-1228) adds the
// marker's transaction version, which the markers themselves do not need.
func init() { register(int16(kmsg.WriteTxnMarkers), 1, 2, handleWriteTxnMarkers) }

// handleWriteTxnMarkers writes COMMIT or ABORT markers to the partitions
// this broker leads: the inter-broker half of ending a transaction. A
// single node's coordinator calls the same writeTxnMarker directly
// (txn_wiring.go).
func handleWriteTxnMarkers(b *Broker, _ context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				rp.ErrorCode = errorCode(b.writeTxnMarker(t.Topic, p, m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch))
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}
