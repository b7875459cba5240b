package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

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
func init() {
	register(int16(kmsg.ConsumerGroupHeartbeat), 0, 1, (*Broker).handleConsumerGroupHeartbeat)
}

// handleConsumerGroupHeartbeat hands ConsumerGroupHeartbeat v0-v1 (KIP-848)
// to the group coordinator with the current topics.
func (b *Broker) handleConsumerGroupHeartbeat(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ConsumerGroupHeartbeatRequest)
	return b.groups.ConsumerGroupHeartbeat(ctx, clientOf(c, r), r.hdr.Version, req, newImageTopics(b.image())), nil
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
