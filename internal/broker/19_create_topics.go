package broker

import (
	"context"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// CreateTopics, versions 2-7.
//
// A request for more than metadata.MaxRecordsPerUserOp (10000) partitions
// in all is refused for every topic with POLICY_VIOLATION, as KRaft does.
//
// Version notes:
//   - v2: the baseline (ValidateOnly and ErrorMessage from v1, throttle time
//     from v2; v0-v1 went with Kafka 4.0)
//   - v4: NumPartitions and ReplicationFactor may be -1, the defaults (KIP-464)
//   - v5: flexible versions; the response carries NumPartitions,
//     ReplicationFactor and Configs (KIP-525)
//   - v6: THROTTLING_QUOTA_EXCEEDED (KIP-599), never sent: no quotas here
//   - v7: TopicID in the response (KIP-516)
//
// ACLs: Create on the cluster, or else on each topic; a topic without it
// answers TOPIC_AUTHORIZATION_FAILED ("Authorization failed.") and does not
// count towards the partition limit. Duplicated names are refused first.
// From v5 a created topic the principal may not DescribeConfigs is
// answered without configs, partitions or replication factor (-1) and with
// TopicConfigErrorCode TOPIC_AUTHORIZATION_FAILED, as Kafka's controller.
func init() { register(int16(kmsg.CreateTopics), 2, 7, (*Broker).handleCreateTopics) }

func (b *Broker) handleCreateTopics(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	ctx, cancel := adminContext(ctx, req.TimeoutMillis)
	defer cancel()
	az := c.authz()
	clusterCreate := az.cluster(acl.OpCreate)
	mayCreate := func(name string) bool { return clusterCreate || az.topic(acl.OpCreate, name) }

	count := make(map[string]int, len(req.Topics))
	for i := range req.Topics {
		count[req.Topics[i].Topic]++
	}
	// The partition limit counts the topics the principal may create.
	counted := make(map[string]int, len(count))
	for name, n := range count {
		if n != 1 || mayCreate(name) {
			counted[name] = n
		}
	}
	tooMany := b.requestPartitions(req, counted) > metadata.MaxRecordsPerUserOp
	var dups []string
	for i := range req.Topics {
		rt := &req.Topics[i]
		switch n := count[rt.Topic]; {
		case n > 1:
			dups = append(dups, rt.Topic)
			count[rt.Topic] = -1 // reported once, below
			continue
		case n < 0:
			continue
		}
		if !mayCreate(rt.Topic) {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = rt.Topic
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			st.ErrorMessage = kmsg.StringPtr("Authorization failed.")
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if tooMany {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = rt.Topic
			st.ErrorCode = kerr.PolicyViolation.Code
			st.ErrorMessage = kmsg.StringPtr(excessivePartitionsPerRequest)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if !c.mutationAllowed(r, b.topicPartitions(rt)) {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = rt.Topic
			st.ErrorCode, st.ErrorMessage = errorCode(errMutationQuota), errMessage(errMutationQuota)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		st := b.createOneTopic(ctx, rt, req.ValidateOnly)
		if req.Version >= 5 && st.ErrorCode == 0 && !az.topic(acl.OpDescribeConfigs, rt.Topic) {
			st.Configs, st.NumPartitions, st.ReplicationFactor = nil, -1, -1
			st.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
		}
		resp.Topics = append(resp.Topics, st)
	}
	// Kafka answers duplicated names once each, after the other topics.
	for _, name := range dups {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = name
		st.ErrorCode = kerr.InvalidRequest.Code
		st.ErrorMessage = kmsg.StringPtr("Duplicate topic name.")
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// requestPartitions counts the partitions a request asks for over its
// topics named once, as Kafka's validateTotalNumberOfPartitions does: the
// assignments if given, else NumPartitions, num.partitions for -1.
func (b *Broker) requestPartitions(req *kmsg.CreateTopicsRequest, count map[string]int) int64 {
	var total int64
	def := int64(-1)
	for i := range req.Topics {
		rt := &req.Topics[i]
		switch {
		case count[rt.Topic] != 1:
		case len(rt.ReplicaAssignment) > 0:
			total += int64(len(rt.ReplicaAssignment))
		case rt.NumPartitions == -1:
			if def < 0 {
				def = max(0, b.settingInt(b.image(), "num.partitions"))
			}
			total += def
		case rt.NumPartitions > 0:
			total += int64(rt.NumPartitions)
		}
	}
	return total
}

// adminContext bounds an admin request by its TimeoutMillis, if positive.
func adminContext(ctx context.Context, timeoutMillis int32) (context.Context, context.CancelFunc) {
	if timeoutMillis > 0 {
		return context.WithTimeout(ctx, time.Duration(timeoutMillis)*time.Millisecond)
	}
	return context.WithCancel(ctx)
}

func (b *Broker) createOneTopic(ctx context.Context, rt *kmsg.CreateTopicsRequestTopic, validateOnly bool) kmsg.CreateTopicsResponseTopic {
	st := kmsg.NewCreateTopicsResponseTopic()
	st.Topic = rt.Topic
	t, rf, err := b.createTopicFromRequest(ctx, rt, validateOnly)
	if err != nil {
		st.ErrorCode = errorCode(err)
		st.ErrorMessage = errMessage(err)
		return st
	}
	img := b.image()
	if !validateOnly {
		st.TopicID = t.ID
	}
	st.NumPartitions = int32(len(t.Partitions))
	st.ReplicationFactor = rf
	for _, v := range resolvedTopicConfigs(b, img, t.Configs) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = v.Name
		c.Value = strPtr(v.Value)
		c.Source = int8(v.Source)
		c.ReadOnly = false
		c.IsSensitive = false
		st.Configs = append(st.Configs, c)
	}
	return st
}

// createTopicFromRequest checks what createTopic leaves to the request's
// shape (manual assignment indexes, null config values, name collisions)
// with Kafka's messages, then creates (or validates) the topic. It returns
// the topic and its replication factor.
func (b *Broker) createTopicFromRequest(ctx context.Context, rt *kmsg.CreateTopicsRequestTopic, validateOnly bool) (*metadata.Topic, int16, error) {
	var assignment [][]int32
	rf := rt.ReplicationFactor
	if len(rt.ReplicaAssignment) > 0 {
		if rt.ReplicationFactor != -1 {
			return nil, 0, newTopicError(kerr.InvalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1.")
		}
		if rt.NumPartitions != -1 {
			return nil, 0, newTopicError(kerr.InvalidRequest, "A manual partition assignment was specified, but numPartitions was not set to -1.")
		}
		byIndex := make(map[int32][]int32, len(rt.ReplicaAssignment))
		for _, ra := range rt.ReplicaAssignment {
			if _, dup := byIndex[ra.Partition]; dup {
				return nil, 0, newTopicError(kerr.InvalidReplicaAssignment, "Found multiple manual partition assignments for partition %d", ra.Partition)
			}
			byIndex[ra.Partition] = ra.Replicas
		}
		assignment = make([][]int32, len(byIndex))
		for i := range assignment {
			reps, ok := byIndex[int32(i)]
			if !ok {
				return nil, 0, newTopicError(kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
			}
			assignment[i] = reps
		}
		rf = int16(len(assignment[0]))
	} else if rf == -1 {
		rf = b.settings().DefaultReplicationFactor
	}

	var configs map[string]string
	if len(rt.Configs) > 0 {
		configs = make(map[string]string, len(rt.Configs))
		var nulls []string
		for _, c := range rt.Configs {
			if c.Value == nil {
				nulls = append(nulls, c.Name)
				continue
			}
			configs[c.Name] = *c.Value
		}
		if len(nulls) > 0 {
			return nil, 0, newTopicError(kerr.InvalidConfig, "Null value not supported for topic configs: %s", strings.Join(nulls, ","))
		}
	}

	img := b.image()
	if validTopicName(rt.Topic) == nil && img.Topics[rt.Topic] == nil && strings.ContainsAny(rt.Topic, "._") {
		key := strings.ReplaceAll(rt.Topic, ".", "_")
		for name := range img.Topics {
			if strings.ReplaceAll(name, ".", "_") == key {
				return nil, 0, newTopicError(kerr.InvalidTopicException, "Topic '%s' collides with existing topic: %s", rt.Topic, name)
			}
		}
	}

	t, err := b.createTopic(ctx, rt.Topic, rt.NumPartitions, rt.ReplicationFactor, assignment, configs, validateOnly)
	if err != nil {
		return nil, 0, err
	}
	if len(t.Partitions) > 0 && t.Partitions[0] != nil {
		rf = int16(len(t.Partitions[0].Replicas))
	}
	return t, rf, nil
}

// topicPartitions is how many partitions a CreateTopics topic asks for
// (its assignment, its count, or num.partitions for -1), for the
// controller mutation quota.
func (b *Broker) topicPartitions(rt *kmsg.CreateTopicsRequestTopic) int {
	switch {
	case len(rt.ReplicaAssignment) > 0:
		return len(rt.ReplicaAssignment)
	case rt.NumPartitions == -1:
		return int(b.settings().NumPartitions)
	}
	return int(rt.NumPartitions)
}
