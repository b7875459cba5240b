package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// CreateAcls, versions 1-3.
//
// Version notes:
//   - v0 removed in Kafka 4.0 (KIP-896)
//   - v1: ResourcePatternType (KIP-290)
//   - v2: flexible versions
//   - v3: USER resource type
//
// Alter on the cluster is required (CLUSTER_AUTHORIZATION_FAILED for every
// creation). Each valid creation becomes a CreateACL record in the metadata
// log; an ACL that already exists succeeds without a second copy, as in
// Kafka's AclControlManager. Invalid ones answer INVALID_REQUEST with
// Kafka's message.
func init() { register(int16(kmsg.CreateACLs), 1, 3, (*Broker).handleCreateAcls) }

func (b *Broker) handleCreateAcls(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	fail := func(code int16, msg string) {
		for range req.Creations {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, kmsg.StringPtr(msg)
			resp.Results = append(resp.Results, res)
		}
	}
	switch {
	case b.authz == nil:
		fail(kerr.SecurityDisabled.Code, securityDisabledMsg)
		return resp, nil
	case !c.canCluster(acl.OpAlter):
		fail(kerr.ClusterAuthorizationFailed.Code, "")
		return resp, nil
	}
	for _, cr := range req.Creations {
		res := kmsg.NewCreateACLsResponseResult()
		bd := acl.Binding{
			Pattern: acl.Pattern{Type: acl.ResourceType(cr.ResourceType), Name: cr.ResourceName, PatternType: acl.PatternType(cr.ResourcePatternType)},
			Entry:   acl.Entry{Principal: cr.Principal, Host: cr.Host, Operation: acl.Operation(cr.Operation), Permission: acl.Permission(cr.PermissionType)},
		}
		if err := bd.Validate(); err != nil {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(validationMessage(err))
			resp.Results = append(resp.Results, res)
			continue
		}
		if _, ids := imageBindings(b.image()); len(ids[bd]) == 0 {
			rec := metadata.CreateACL{ACL: metadata.ACL{
				ID: metadata.RandomUuid(), ResourceType: int8(bd.Pattern.Type), ResourceName: bd.Pattern.Name,
				PatternType: int8(bd.Pattern.PatternType), Principal: bd.Entry.Principal, Host: bd.Entry.Host,
				Operation: int8(bd.Entry.Operation), Permission: int8(bd.Entry.Permission),
			}}
			if _, err := b.ctl.Propose(ctx, rec); err != nil {
				res.ErrorCode, res.ErrorMessage = errorCode(err), kmsg.StringPtr(err.Error())
			}
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}
