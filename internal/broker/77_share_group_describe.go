package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// ShareGroupDescribe, versions 1 (KIP-932; internal/share).
//
// Version notes:
//   - v0: Kafka 4.0's early access; removed in Kafka 4.1, not served
//   - v1: the stable version: members, their subscriptions and
//     assignments, group and assignment epochs, assignor "simple"
//
// An id that is not a share group is GROUP_ID_NOT_FOUND ("Group … is not a
// share group." when another kind of group has it).
func init() {
	register(int16(kmsg.ShareGroupDescribe), 1, 1, (*Broker).handleShareGroupDescribe)
}

func (b *Broker) handleShareGroupDescribe(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ShareGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	az := c.authz()
	topics := shareTopics{b.image()}
	for _, id := range req.GroupIDs {
		g := kmsg.NewShareGroupDescribeResponseGroup()
		g.GroupID = id
		switch code, msg := b.shareCoordinatorCode(id); {
		case !az.group(acl.OpDescribe, id):
			g.ErrorCode = kerr.GroupAuthorizationFailed.Code
		case code != 0:
			g.ErrorCode = code
			if msg != "" {
				g.ErrorMessage = kmsg.StringPtr(msg)
			}
		default:
			d, ok := b.shares.Describe(id, topics)
			if !ok {
				g.ErrorCode, g.ErrorMessage = kerr.GroupIDNotFound.Code, kmsg.StringPtr(fmt.Sprintf("Group %s not found.", id))
				break
			}
			g = d
			if req.IncludeAuthorizedOperations {
				g.AuthorizedOperations = az.ops(acl.ResourceGroup, id)
			}
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp, nil
}
