package broker

import (
	"context"
	"hash/fnv"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// ConsumerGroupHeartbeat, versions 0-1 (KIP-848; internal/group).
//
// Version notes:
//   - v0: flexible versions; a joining member (epoch 0) may leave MemberID
//     empty, and the coordinator generates one
//   - v1: SubscribedTopicRegex (KIP-848); the consumer generates its own
//     MemberID (KIP-1082), so an empty one is INVALID_REQUEST
//
// ACLs: Read on the group, else GROUP_AUTHORIZATION_FAILED; Describe on
// every name in SubscribedTopicNames, else TOPIC_AUTHORIZATION_FAILED (the
// heartbeat is not processed). A regex resolved on a member's heartbeat
// matches only the topics that member may Describe (Kafka 4.x's
// refreshRegularExpressions). Resolutions triggered without a member's
// context (a classic member's request, a session timeout) match every
// topic until the next heartbeat re-resolves them: the filtered view's
// Version differs, forcing the refresh.
func init() {
	register(int16(kmsg.ConsumerGroupHeartbeat), 0, 1, (*Broker).handleConsumerGroupHeartbeat)
}

// handleConsumerGroupHeartbeat hands ConsumerGroupHeartbeat v0-v1 (KIP-848)
// to the group coordinator with the current topics.
func (b *Broker) handleConsumerGroupHeartbeat(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ConsumerGroupHeartbeatRequest)
	az := c.authz()
	if !az.group(acl.OpRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	for _, t := range req.SubscribedTopicNames {
		if !az.topic(acl.OpDescribe, t) {
			resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
			resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			return resp, nil
		}
	}
	if b.shares.HasGroup(req.Group) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr("Group " + req.Group + " is not a consumer group.")
		return resp, nil
	}
	var img group.TopicImage = newImageTopics(b.image())
	if az.enabled() {
		img = &describedTopics{imageTopics: img.(*imageTopics), az: az}
	}
	return b.groups.ConsumerGroupHeartbeat(ctx, clientOf(c, r), r.hdr.Version, req, img), nil
}

// describedTopics is the image a member's regex is resolved against: the
// topics its principal may Describe. Its Version mixes the principal and
// host into the image's, so that a group whose subscriptions were last
// resolved in another context (another principal, or none) resolves them
// again.
type describedTopics struct {
	*imageTopics
	az    *reqAuthz
	names []string
}

func (t *describedTopics) Version() int64 {
	h := fnv.New64a()
	h.Write([]byte(t.az.c.principal))
	h.Write([]byte{0})
	h.Write([]byte(t.az.c.ip))
	return t.img.Offset ^ int64(h.Sum64()>>1)
}

func (t *describedTopics) TopicNames() []string {
	if t.names == nil {
		t.names = []string{}
		for _, n := range t.imageTopics.TopicNames() {
			if t.az.topic(acl.OpDescribe, n) {
				t.names = append(t.names, n)
			}
		}
	}
	return t.names
}

// imageTopics is group.TopicImage over a metadata image.
type imageTopics struct {
	img   *metadata.Image
	names []string
}

func newImageTopics(img *metadata.Image) *imageTopics { return &imageTopics{img: img} }

func (t *imageTopics) Version() int64 { return t.img.Offset }

func (t *imageTopics) Topic(name string) (group.AssignmentTopic, bool) {
	mt, ok := t.img.Topics[name]
	if !ok {
		return group.AssignmentTopic{}, false
	}
	return group.AssignmentTopic{ID: mt.ID, Name: mt.Name, Partitions: int32(len(mt.Partitions))}, true
}

func (t *imageTopics) TopicByID(id [16]byte) (group.AssignmentTopic, bool) {
	mt, ok := t.img.TopicsByID[metadata.Uuid(id)]
	if !ok {
		return group.AssignmentTopic{}, false
	}
	return group.AssignmentTopic{ID: mt.ID, Name: mt.Name, Partitions: int32(len(mt.Partitions))}, true
}

// TopicNames lists the topics a subscription regex may match: every topic,
// internal ones included, as Kafka's GroupMetadataManager
// .refreshRegularExpressions scans every name of the image.
func (t *imageTopics) TopicNames() []string {
	if t.names == nil {
		t.names = make([]string, 0, len(t.img.Topics))
		for n := range t.img.Topics {
			t.names = append(t.names, n)
		}
		sort.Strings(t.names)
	}
	return t.names
}

// GroupTopicImages gives the group coordinator the current topic metadata,
// for classic members inside a consumer group (whose JoinGroup and
// SyncGroup carry none).
func GroupTopicImages(ctl *controller.Controller) func() group.TopicImage {
	return func() group.TopicImage { return newImageTopics(ctl.Image()) }
}
