package broker

import (
	"context"
	"fmt"
	"sort"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster, versions 0-2 (KIP-700).
//
// Version notes:
//   - v0: flexible versions; brokers only
//   - v1: EndpointType (KIP-919): a request for controllers answers
//     MISMATCHED_ENDPOINT_TYPE, another type UNSUPPORTED_ENDPOINT_TYPE
//   - v2: IncludeFencedBrokers and IsFenced (KIP-1073)
func init() { register(int16(kmsg.DescribeCluster), 0, 2, (*Broker).handleDescribeCluster) }

// KIP-919 endpoint types.
const (
	endpointBroker     int8 = 1
	endpointController int8 = 2
)

func (b *Broker) handleDescribeCluster(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)

	// v0 has no EndpointType: it always asks for brokers. A Samsa listener
	// is a broker listener, so a KIP-919 request for controllers gets what
	// a Kafka broker listener answers.
	if req.Version >= 1 && req.EndpointType != endpointBroker {
		if req.EndpointType == endpointController {
			resp.ErrorCode = kerr.MismatchedEndpointType.Code
			resp.ErrorMessage = kmsg.StringPtr("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER")
		} else {
			resp.ErrorCode = kerr.UnsupportedEndpointType.Code
			resp.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Unsupported endpoint type %d", req.EndpointType))
		}
		return resp, nil
	}

	img := b.image()
	ids := make([]int32, 0, len(img.Brokers))
	for id, br := range img.Brokers {
		if _, _, ok := br.Endpoint(c.l.Name); ok && (!br.Fenced || req.IncludeFencedBrokers) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		br := img.Brokers[id]
		sb := kmsg.NewDescribeClusterResponseBroker()
		sb.NodeID = br.ID
		sb.Host, sb.Port, _ = br.Endpoint(c.l.Name)
		if br.Rack != "" {
			sb.Rack = kmsg.StringPtr(br.Rack)
		}
		sb.IsFenced = br.Fenced
		resp.Brokers = append(resp.Brokers, sb)
	}
	resp.EndpointType = endpointBroker
	resp.ClusterID = img.ClusterID
	resp.ControllerID = b.controllerID()
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = c.authorizedOps(acl.ResourceCluster, acl.ClusterName)
	}
	return resp, nil
}
