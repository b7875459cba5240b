package broker

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// WriteTxnMarkers, versions 1-2.
//
// Version notes:
//   - v1: flexible versions; Kafka 4.0 accepts v1 only (v0 went with KIP-896)
//   - v2: per-marker TransactionVersion (Kafka 4.2, KIP-1228), which the
//     markers themselves do not need: ignored here
//
// ACLs: ClusterAction on the cluster (an inter-broker API), else every
// partition answers CLUSTER_AUTHORIZATION_FAILED and no marker is written.
func init() { register(int16(kmsg.WriteTxnMarkers), 1, 2, (*Broker).handleWriteTxnMarkers) }

// handleWriteTxnMarkers writes COMMIT or ABORT markers to the partitions
// this broker leads: the inter-broker half of ending a transaction, sent by
// the transaction coordinator of another broker (txnMarkerWriter). A
// marker on a __consumer_offsets partition also completes the producer's
// transactional offset commits in this broker's group coordinator.
// Partitions are written in parallel, since each waits for acks=all; a
// partition this broker does not lead answers NOT_LEADER_OR_FOLLOWER and
// one the cluster does not have UNKNOWN_TOPIC_OR_PARTITION, which the
// coordinator retries or drops.
func (b *Broker) handleWriteTxnMarkers(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	allowed := c.authz().cluster(acl.OpClusterAction)
	type job struct {
		m     *kmsg.WriteTxnMarkersRequestMarker
		topic string
		part  int32
		code  *int16
	}
	var jobs []job
	resp.Markers = make([]kmsg.WriteTxnMarkersResponseMarker, len(req.Markers))
	for i := range req.Markers {
		m := &req.Markers[i]
		rm := &resp.Markers[i]
		*rm = kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		rm.Topics = make([]kmsg.WriteTxnMarkersResponseMarkerTopic, len(m.Topics))
		for j, t := range m.Topics {
			rt := &rm.Topics[j]
			*rt = kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			rt.Partitions = make([]kmsg.WriteTxnMarkersResponseMarkerTopicPartition, len(t.Partitions))
			for k, p := range t.Partitions {
				rp := &rt.Partitions[k]
				*rp = kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				if !allowed {
					rp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
					continue
				}
				jobs = append(jobs, job{m: m, topic: t.Topic, part: p, code: &rp.ErrorCode})
			}
		}
	}
	forEachParallel(len(jobs), markerParallelism, func(i int) {
		j := jobs[i]
		if ctx.Err() != nil {
			*j.code = kerr.RequestTimedOut.Code
			return
		}
		*j.code = errorCode(b.writeTxnMarker(j.topic, j.part, j.m.ProducerID, j.m.ProducerEpoch, j.m.Committed, j.m.CoordinatorEpoch))
	}, func(i int, v any) {
		j := jobs[i]
		b.lg.Error("panic writing a transaction marker", "topic", j.topic, "partition", j.part, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		*j.code = kerr.UnknownServerError.Code
	})
	return resp, nil
}
