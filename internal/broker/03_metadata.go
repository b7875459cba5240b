package broker

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Metadata, versions 0-13.
//
// Version notes:
//   - v0: an empty topic list means all topics (from v1, null does)
//   - v1: Rack, ControllerID, IsInternal; v2: ClusterID; v3: throttle time
//   - v4: AllowAutoTopicCreation; below v4 only auto.create.topics.enable
//     decides
//   - v5: OfflineReplicas; v7: LeaderEpoch; v9: flexible versions
//   - v8: authorized operations (KIP-430): topics report INT32_MIN (none)
//   - v10: TopicID; Kafka refuses request topic ids before v12
//     (INVALID_REQUEST), Samsa resolves them from v10
//   - v11: IncludeClusterAuthorizedOperations removed (KIP-700)
//   - v12: nullable topic names in the response
//   - v13: top-level ErrorCode (KIP-1102), never set here
func init() { register(int16(kmsg.Metadata), 0, 13, (*Broker).handleMetadata) }

func (b *Broker) handleMetadata(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	img := b.image()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	autoCreate := strings.EqualFold(b.setting(img, "auto.create.topics.enable"), "true") && (req.Version < 4 || req.AllowAutoTopicCreation)

	if all {
		names := make([]string, 0, len(img.Topics))
		for n := range img.Topics {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			resp.Topics = append(resp.Topics, metadataTopic(b, img, img.Topics[n], req.Version))
		}
	} else {
		for _, rt := range req.Topics {
			var t *metadata.Topic
			var ok bool
			name := ""
			if rt.Topic != nil {
				name = *rt.Topic
				t, ok = img.Topics[name]
			} else if req.Version >= 10 && rt.TopicID != [16]byte{} {
				t, ok = img.TopicsByID[metadata.Uuid(rt.TopicID)]
				if !ok {
					mt := kmsg.NewMetadataResponseTopic()
					mt.TopicID = rt.TopicID
					mt.ErrorCode = kerr.UnknownTopicID.Code
					resp.Topics = append(resp.Topics, mt)
					continue
				}
			}
			if !ok && t == nil {
				if err := validTopicName(name); err != nil {
					mt := kmsg.NewMetadataResponseTopic()
					mt.Topic = kmsg.StringPtr(name)
					mt.ErrorCode = kerr.InvalidTopicException.Code
					resp.Topics = append(resp.Topics, mt)
					continue
				}
				if autoCreate && !isInternalTopic(name) {
					created, err := b.createTopic(ctx, name, -1, -1, nil, nil, false)
					if err == nil || errorCode(err) == kerr.TopicAlreadyExists.Code {
						img = b.image()
						t, ok = img.Topics[name], created != nil || img.Topics[name] != nil
					}
					if err != nil && !ok {
						b.lg.Warn("auto-creating topic failed", "topic", name, "err", err)
					}
				}
				if !ok {
					mt := kmsg.NewMetadataResponseTopic()
					mt.Topic = kmsg.StringPtr(name)
					mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
					resp.Topics = append(resp.Topics, mt)
					continue
				}
			}
			resp.Topics = append(resp.Topics, metadataTopic(b, img, t, req.Version))
		}
	}

	resp.Brokers = metadataBrokers(img, c.l.Name)
	resp.ClusterID = kmsg.StringPtr(img.ClusterID)
	resp.ControllerID = b.controllerID()
	return resp, nil
}

func metadataBrokers(img *metadata.Image, listener string) []kmsg.MetadataResponseBroker {
	ids := make([]int32, 0, len(img.Brokers))
	for id, br := range img.Brokers {
		if _, _, ok := br.Endpoint(listener); ok && !br.Fenced {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]kmsg.MetadataResponseBroker, 0, len(ids))
	for _, id := range ids {
		br := img.Brokers[id]
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID = br.ID
		mb.Host, mb.Port, _ = br.Endpoint(listener)
		if br.Rack != "" {
			mb.Rack = kmsg.StringPtr(br.Rack)
		}
		out = append(out, mb)
	}
	return out
}

// controllerID is what Metadata and DescribeCluster report as the controller.
// Kafka 4 reports a random live broker, since clients send controller-bound
// admin requests there for forwarding; here it is the metadata leader when
// it is also a live broker (a controller-only node serves no clients), or
// this broker.
func (b *Broker) controllerID() int32 {
	if id := b.ctl.LeaderID(); id >= 0 && b.ctl.Image().Live(id) {
		return id
	}
	return b.cfg.NodeID
}

func metadataTopic(b *Broker, img *metadata.Image, t *metadata.Topic, version int16) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = kmsg.StringPtr(t.Name)
	mt.TopicID = t.ID
	mt.IsInternal = isInternalTopic(t.Name)
	if version >= 8 {
		mt.AuthorizedOperations = -2147483648
	}
	for _, p := range t.Partitions {
		mt.Partitions = append(mt.Partitions, metadataPartition(img, p, b.offlineIn(t.Name, p.Index)))
	}
	return mt
}

func metadataPartition(img *metadata.Image, p *metadata.Partition, offline func(*metadata.Image, int32) bool) kmsg.MetadataResponseTopicPartition {
	mp := kmsg.NewMetadataResponseTopicPartition()
	mp.Partition = p.Index
	mp.Leader = p.Leader
	mp.LeaderEpoch = p.LeaderEpoch
	mp.Replicas = append([]int32(nil), p.Replicas...)
	mp.ISR = append([]int32(nil), p.ISR...)
	mp.OfflineReplicas = []int32{}
	for _, r := range p.Replicas {
		if offline(img, r) {
			mp.OfflineReplicas = append(mp.OfflineReplicas, r)
		}
	}
	if p.Leader < 0 || offline(img, p.Leader) {
		// Kafka's metadata cache answers an unavailable leader as -1.
		mp.Leader, mp.ErrorCode = metadata.NoLeader, kerr.LeaderNotAvailable.Code
	}
	return mp
}
