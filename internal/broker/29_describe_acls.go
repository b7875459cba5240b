package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// DescribeAcls, versions 1-3.
//
// Version notes:
//   - v0 removed in Kafka 4.0 (KIP-896)
//   - v1: ResourcePatternType (KIP-290: LITERAL, PREFIXED; ANY and MATCH
//     in filters)
//   - v2: flexible versions
//   - v3: USER resource type
//
// Describe on the cluster is required (CLUSTER_AUTHORIZATION_FAILED);
// without an authorizer the answer is SECURITY_DISABLED, as Kafka's.
func init() { register(int16(kmsg.DescribeACLs), 1, 3, (*Broker).handleDescribeAcls) }

func (b *Broker) handleDescribeAcls(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	img := b.image()
	switch {
	case b.authz == nil:
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr(securityDisabledMsg)
		return resp, nil
	case !c.canCluster(acl.OpDescribe):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	f := filterOf(int8(req.ResourceType), int8(req.ResourcePatternType), req.ResourceName, req.Principal, req.Host, int8(req.Operation), int8(req.PermissionType))
	if err := f.Validate(); err != nil {
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(validationMessage(err))
		return resp, nil
	}
	all, _ := imageBindings(img)
	var matched []acl.Binding
	for _, bd := range all {
		if f.Matches(bd) {
			matched = append(matched, bd)
		}
	}
	resp.Resources = describeACLResources(matched)
	return resp, nil
}
