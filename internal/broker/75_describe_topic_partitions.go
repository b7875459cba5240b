package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DescribeTopicPartitions, version 0 (KIP-966).
//
// Version notes:
//   - v0: flexible versions; paged with a Cursor
//
// ACLs: Describe on each topic. Listing all topics leaves out those not
// described; a named topic without it answers TOPIC_AUTHORIZATION_FAILED
// with no id and no partitions, after the described ones (Kafka), before
// its existence is looked at, and does not count towards the page.
// TopicAuthorizedOperations is the principal's on each described topic.
func init() {
	register(int16(kmsg.DescribeTopicPartitions), 0, 0, (*Broker).handleDescribeTopicPartitions)
}

// maxDescribePartitions is Kafka's max.request.partition.size.limit
// default: the most partitions one response carries.
const maxDescribePartitions = 2000

// handleDescribeTopicPartitions follows Kafka's
// DescribeTopicPartitionsRequestHandler and KRaftMetadataCache
// .describeTopicResponse (KIP-966).
func (b *Broker) handleDescribeTopicPartitions(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeTopicPartitionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	img := b.image()

	fetchAll := len(req.Topics) == 0
	cursorTopic := ""
	if req.Cursor != nil {
		cursorTopic = req.Cursor.Topic
	}
	set := map[string]bool{}
	if fetchAll {
		for name := range img.Topics {
			if name >= cursorTopic {
				set[name] = true
			}
		}
	} else {
		for _, rt := range req.Topics {
			if rt.Topic >= cursorTopic {
				set[rt.Topic] = true
			}
		}
	}
	// An invalid cursor fails the whole request: every requested topic
	// gets INVALID_REQUEST, as Kafka's error response does.
	if req.Cursor != nil && (!fetchAll && !set[req.Cursor.Topic] || req.Cursor.Partition < 0) {
		for _, rt := range req.Topics {
			st := kmsg.NewDescribeTopicPartitionsResponseTopic()
			st.Topic = kmsg.StringPtr(rt.Topic)
			st.ErrorCode = kerr.InvalidRequest.Code
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)

	remaining := req.ResponsePartitionLimit
	if remaining > maxDescribePartitions {
		remaining = maxDescribePartitions
	}
	if remaining < 1 {
		remaining = 1
	}
	az := c.authz()
	var denied []kmsg.DescribeTopicPartitionsResponseTopic
	for _, name := range names {
		if !az.topic(acl.OpDescribe, name) {
			if !fetchAll {
				st := kmsg.NewDescribeTopicPartitionsResponseTopic()
				st.Topic = kmsg.StringPtr(name)
				st.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = []kmsg.DescribeTopicPartitionsResponseTopicPartition{}
				denied = append(denied, st)
			}
			continue
		}
		if remaining == 0 {
			// All partitions of the previous topics fitted; the next
			// response starts at this topic.
			resp.NextCursor = nextCursor(name, 0)
			break
		}
		t, ok := img.Topics[name]
		if !ok {
			if fetchAll {
				continue
			}
			st := kmsg.NewDescribeTopicPartitionsResponseTopic()
			st.Topic = kmsg.StringPtr(name)
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if validTopicName(name) != nil {
				st.ErrorCode = kerr.InvalidTopicException.Code
			}
			st.IsInternal = isInternalTopic(name)
			st.AuthorizedOperations = az.ops(acl.ResourceTopic, name)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		start := int32(0)
		if req.Cursor != nil && name == cursorTopic {
			start = req.Cursor.Partition
		}
		n := int32(len(t.Partitions))
		upper := n
		if start+remaining < upper {
			upper = start + remaining
		}
		st := kmsg.NewDescribeTopicPartitionsResponseTopic()
		st.Topic = kmsg.StringPtr(name)
		st.TopicID = t.ID
		st.IsInternal = isInternalTopic(name)
		st.AuthorizedOperations = az.ops(acl.ResourceTopic, name)
		st.Partitions = []kmsg.DescribeTopicPartitionsResponseTopicPartition{}
		for i := start; i < upper; i++ {
			st.Partitions = append(st.Partitions, describeTopicPartition(img, t.Partitions[i], b.offlineIn(t.Name, t.Partitions[i].Index)))
		}
		resp.Topics = append(resp.Topics, st)
		if upper < n {
			resp.NextCursor = nextCursor(name, upper)
			break
		}
		if upper > start {
			remaining -= upper - start
		}
	}
	resp.Topics = append(resp.Topics, denied...)
	return resp, nil
}

func nextCursor(topic string, partition int32) *kmsg.DescribeTopicPartitionsResponseNextCursor {
	c := kmsg.NewDescribeTopicPartitionsResponseNextCursor()
	c.Topic, c.Partition = topic, partition
	return &c
}

func describeTopicPartition(img *metadata.Image, p *metadata.Partition, offline func(*metadata.Image, int32) bool) kmsg.DescribeTopicPartitionsResponseTopicPartition {
	sp := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
	sp.Partition = p.Index
	sp.LeaderID = p.Leader
	if offline(img, p.Leader) {
		sp.LeaderID = metadata.NoLeader
	}
	sp.LeaderEpoch = p.LeaderEpoch
	sp.Replicas = append([]int32{}, p.Replicas...)
	sp.ISR = append([]int32{}, p.ISR...)
	sp.EligibleLeaderReplicas = append([]int32{}, p.ELR...)
	sp.LastKnownELR = []int32{}
	sp.OfflineReplicas = []int32{}
	for _, rep := range p.Replicas {
		if offline(img, rep) {
			sp.OfflineReplicas = append(sp.OfflineReplicas, rep)
		}
	}
	return sp
}
