package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/quota"
)

// DescribeClientQuotas, versions 0-1.
//
// Version notes:
//   - v1: flexible versions
//
// DescribeConfigs on the cluster is required
// (CLUSTER_AUTHORIZATION_FAILED). Filters follow Kafka's
// ClientQuotaControlManager: components of match type EXACT (0), DEFAULT
// (1) or SPECIFIED (2), strict or not; an invalid filter answers
// INVALID_REQUEST (or UNSUPPORTED_VERSION for an unknown entity type).
func init() { register(int16(kmsg.DescribeClientQuotas), 0, 1, (*Broker).handleDescribeClientQuotas) }

func (b *Broker) handleDescribeClientQuotas(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	if !c.canCluster(acl.OpDescribeConfigs) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	entries, err := b.quotaManager().Store().Describe(req.Components, req.Strict)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = quotaErrorCode(err), kmsg.StringPtr(quotaMessage(err))
		return resp, nil
	}
	if entries == nil {
		entries = []kmsg.DescribeClientQuotasResponseEntry{} // an empty array, not null: Java's client dereferences it
	}
	resp.Entries = entries
	return resp, nil
}

// quotaErrorCode maps internal/quota's errors to Kafka's codes.
func quotaErrorCode(err error) int16 {
	if errors.Is(err, quota.ErrUnsupportedEntityType) {
		return kerr.UnsupportedVersion.Code
	}
	return kerr.InvalidRequest.Code
}

// quotaMessage is Kafka's message of a quota error.
func quotaMessage(err error) string {
	var qe *quota.Error
	if errors.As(err, &qe) {
		return qe.Message
	}
	return err.Error()
}
