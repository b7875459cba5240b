package broker

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
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
//   - v8: authorized operations (KIP-430): IncludeTopicAuthorizedOperations
//     fills each described topic's bit field, IncludeClusterAuthorizedOperations
//     (v8-v10) the cluster's (0 without Describe on the cluster); INT32_MIN
//     when not asked
//   - v10: TopicID; Kafka refuses request topic ids before v12
//     (INVALID_REQUEST), Samsa resolves them from v10
//   - v11: IncludeClusterAuthorizedOperations removed (KIP-700)
//   - v12: nullable topic names in the response
//   - v13: top-level ErrorCode (KIP-1102), never set here
//
// ACLs: Describe on each topic. Listing all topics leaves out those not
// described; a named topic without it answers TOPIC_AUTHORIZATION_FAILED
// with no id and no partitions (by id: the id, and a null name), before its
// existence is looked at. Auto-creating an unknown topic needs Create on the
// cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED.
func init() { register(int16(kmsg.Metadata), 0, 13, (*Broker).handleMetadata) }

func (b *Broker) handleMetadata(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	img := b.image()
	az := c.authz()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	autoCreate := strings.EqualFold(b.setting(img, "auto.create.topics.enable"), "true") && (req.Version < 4 || req.AllowAutoTopicCreation)
	// described are the response topics Kafka reports authorized
	// operations for: those the principal may describe.
	var described []int
	answer := func(mt kmsg.MetadataResponseTopic, authorized bool) {
		if authorized {
			described = append(described, len(resp.Topics))
		}
		resp.Topics = append(resp.Topics, mt)
	}
	denied := func(name *string, id [16]byte, internal bool) {
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID, mt.IsInternal = name, id, internal
		mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		answer(mt, false)
	}

	if all {
		names := make([]string, 0, len(img.Topics))
		for n := range img.Topics {
			if az.topic(acl.OpDescribe, n) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			answer(metadataTopic(b, img, img.Topics[n], req.Version), true)
		}
	} else {
		for _, rt := range req.Topics {
			var t *metadata.Topic
			var ok bool
			name := ""
			if rt.Topic != nil {
				name = *rt.Topic
				if !az.topic(acl.OpDescribe, name) {
					denied(kmsg.StringPtr(name), [16]byte{}, false)
					continue
				}
				t, ok = img.Topics[name]
			} else if req.Version >= 10 && rt.TopicID != [16]byte{} {
				t, ok = img.TopicsByID[metadata.Uuid(rt.TopicID)]
				if !ok {
					mt := kmsg.NewMetadataResponseTopic()
					mt.TopicID = rt.TopicID
					mt.ErrorCode = kerr.UnknownTopicID.Code
					answer(mt, false)
					continue
				}
				if !az.topic(acl.OpDescribe, t.Name) {
					// Topic ids are not secret: the id is echoed.
					denied(nil, rt.TopicID, false)
					continue
				}
			}
			if !ok && t == nil {
				if autoCreate && !az.cluster(acl.OpCreate) && !az.topic(acl.OpCreate, name) {
					denied(kmsg.StringPtr(name), [16]byte{}, isInternalTopic(name))
					continue
				}
				if err := validTopicName(name); err != nil {
					mt := kmsg.NewMetadataResponseTopic()
					mt.Topic = kmsg.StringPtr(name)
					mt.ErrorCode = kerr.InvalidTopicException.Code
					answer(mt, true)
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
					answer(mt, true)
					continue
				}
			}
			answer(metadataTopic(b, img, t, req.Version), true)
		}
	}

	if req.Version >= 8 {
		if req.IncludeTopicAuthorizedOperations {
			for _, i := range described {
				if n := resp.Topics[i].Topic; n != nil {
					resp.Topics[i].AuthorizedOperations = az.ops(acl.ResourceTopic, *n)
				}
			}
		}
		if req.Version <= 10 && req.IncludeClusterAuthorizedOperations {
			resp.AuthorizedOperations = 0
			if az.cluster(acl.OpDescribe) {
				resp.AuthorizedOperations = az.ops(acl.ResourceCluster, acl.ClusterName)
			}
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
