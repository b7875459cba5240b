package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DeleteAcls, versions 1-3.
//
// Version notes:
//   - v0 removed in Kafka 4.0 (KIP-896)
//   - v1: ResourcePatternType filters (KIP-290)
//   - v2: flexible versions
//   - v3: USER resource type
//
// Alter on the cluster is required (CLUSTER_AUTHORIZATION_FAILED for every
// filter). Each filter answers the ACLs it matched, each removed by a
// RemoveACL record; an ACL two filters match is removed once.
func init() { register(int16(kmsg.DeleteACLs), 1, 3, (*Broker).handleDeleteAcls) }

func (b *Broker) handleDeleteAcls(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	fail := func(code int16, msg string) {
		for range req.Filters {
			res := kmsg.NewDeleteACLsResponseResult()
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
	all, ids := imageBindings(b.image())
	removed := map[metadata.Uuid]bool{}
	for _, f := range req.Filters {
		res := kmsg.NewDeleteACLsResponseResult()
		flt := filterOf(int8(f.ResourceType), int8(f.ResourcePatternType), f.ResourceName, f.Principal, f.Host, int8(f.Operation), int8(f.PermissionType))
		if err := flt.Validate(); err != nil {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(validationMessage(err))
			resp.Results = append(resp.Results, res)
			continue
		}
		for _, bd := range all {
			if !flt.Matches(bd) || removed[ids[bd][0]] {
				continue // an earlier filter removed it
			}
			m := deletedACL(bd)
			for _, id := range ids[bd] {
				if removed[id] {
					continue
				}
				if _, err := b.ctl.Propose(ctx, metadata.RemoveACL{ID: id}); err != nil {
					m.ErrorCode, m.ErrorMessage = errorCode(err), kmsg.StringPtr(err.Error())
					continue
				}
				removed[id] = true
			}
			res.MatchingACLs = append(res.MatchingACLs, m)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

func deletedACL(bd acl.Binding) kmsg.DeleteACLsResponseResultMatchingACL {
	m := kmsg.NewDeleteACLsResponseResultMatchingACL()
	m.ResourceType = kmsg.ACLResourceType(bd.Pattern.Type)
	m.ResourceName = bd.Pattern.Name
	m.ResourcePatternType = kmsg.ACLResourcePatternType(bd.Pattern.PatternType)
	m.Principal, m.Host = bd.Entry.Principal, bd.Entry.Host
	m.Operation = kmsg.ACLOperation(bd.Entry.Operation)
	m.PermissionType = kmsg.ACLPermissionType(bd.Entry.Permission)
	return m
}
