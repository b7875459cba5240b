package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// CreatePartitions, versions 0-3.
//
// Version notes:
//   - v1: same as v0 (throttling behavior only)
//   - v2: flexible versions
//   - v3: THROTTLING_QUOTA_EXCEEDED (KIP-599), never sent: no quotas here
//
// ACLs: Alter on each topic, else TOPIC_AUTHORIZATION_FAILED for it,
// before its existence is looked at (duplicated names are refused first);
// refused topics do not count towards the request's partition limit.
func init() { register(int16(kmsg.CreatePartitions), 0, 3, (*Broker).handleCreatePartitions) }

func (b *Broker) handleCreatePartitions(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	ctx, cancel := adminContext(ctx, req.TimeoutMillis)
	defer cancel()

	answer := func(topic string, err error) {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = topic
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}

	// Kafka answers duplicated names first, once each, and skips them.
	count := make(map[string]int, len(req.Topics))
	for i := range req.Topics {
		count[req.Topics[i].Topic]++
	}
	for i := range req.Topics {
		name := req.Topics[i].Topic
		if count[name] > 1 {
			answer(name, newTopicError(kerr.InvalidRequest, "Duplicate topic name."))
			count[name] = -1
		}
	}

	az := c.authz()
	for i := range req.Topics {
		name := req.Topics[i].Topic
		if count[name] == 1 && !az.topic(acl.OpAlter, name) {
			answer(name, newTopicError(kerr.TopicAuthorizationFailed, "%s", kerr.TopicAuthorizationFailed.Description))
			count[name] = 0 // answered
		}
	}

	// Kafka builds the records of the whole request in one list bounded by
	// MAX_RECORDS_PER_USER_OP; past it the request fails as a whole.
	img := b.image()
	added := 0
	for i := range req.Topics {
		rt := &req.Topics[i]
		if t, ok := img.Topics[rt.Topic]; ok && count[rt.Topic] == 1 && int(rt.Count) > len(t.Partitions) {
			added += int(rt.Count) - len(t.Partitions)
		}
	}
	tooMany := added > metadata.MaxRecordsPerUserOp
	changed := false
	for i := range req.Topics {
		rt := &req.Topics[i]
		if count[rt.Topic] != 1 {
			continue
		}
		if tooMany {
			answer(rt.Topic, newTopicError(kerr.PolicyViolation, "%s", excessiveBatch))
			continue
		}
		if t, ok := b.image().Topics[rt.Topic]; ok && !c.mutationAllowed(r, int(rt.Count)-len(t.Partitions)) {
			answer(rt.Topic, errMutationQuota)
			continue
		}
		err := b.createPartitions(ctx, rt, req.ValidateOnly)
		if err == nil && !req.ValidateOnly {
			changed = true
		}
		answer(rt.Topic, err)
	}
	if changed {
		b.syncPartitions(ctx)
	}
	return resp, nil
}

func (b *Broker) createPartitions(ctx context.Context, rt *kmsg.CreatePartitionsRequestTopic, validateOnly bool) error {
	img := b.image()
	t, ok := img.Topics[rt.Topic]
	if !ok {
		return newTopicError(kerr.UnknownTopicOrPartition, "%s", kerr.UnknownTopicOrPartition.Description)
	}
	cur := int32(len(t.Partitions))
	switch {
	case rt.Count == cur:
		return newTopicError(kerr.InvalidPartitions, "Topic already has %d partition(s).", cur)
	case rt.Count < cur:
		return newTopicError(kerr.InvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", rt.Topic, cur, rt.Count)
	case rt.Count > metadata.MaxTopicPartitions:
		return newTopicError(kerr.InvalidPartitions, "number of partitions %d is larger than Samsa's limit of %d", rt.Count, metadata.MaxTopicPartitions)
	case cur == 0:
		return newTopicError(kerr.UnknownServerError, "Invalid state: topic %s appears to have no partitions.", rt.Topic)
	}
	add := rt.Count - cur
	rf := int16(len(t.Partitions[0].Replicas))

	var assignment [][]int32
	if rt.Assignment != nil {
		if int32(len(rt.Assignment)) != add {
			return newTopicError(kerr.InvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", add, len(rt.Assignment))
		}
		for i, a := range rt.Assignment {
			if err := checkManualAssignment(img, a.Replicas, int(rf), cur+int32(i)); err != nil {
				return err
			}
			assignment = append(assignment, append([]int32(nil), a.Replicas...))
		}
	} else {
		var err error
		if assignment, err = controller.AssignReplicas(img, cur, add, rf, len(rt.Topic)); err != nil {
			return err
		}
	}
	if err := b.checkFDBudget(img, assignment); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	_, err := b.ctl.Propose(ctx, metadata.CreatePartitions{TopicID: t.ID, Assignments: assignment})
	return err
}

// checkManualAssignment validates one partition's replica list as Kafka's
// ReplicationControlManager does, with its messages.
func checkManualAssignment(img *metadata.Image, replicas []int32, rf int, partition int32) error {
	if len(replicas) == 0 {
		return newTopicError(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
	}
	sorted := append([]int32(nil), replicas...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	active := 0
	for i, id := range sorted {
		br, ok := img.Brokers[id]
		if !ok {
			return newTopicError(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", id)
		}
		if i > 0 && sorted[i-1] == id {
			return newTopicError(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", id)
		}
		if !br.Fenced {
			active++
		}
	}
	if len(sorted) != rf {
		return newTopicError(kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is not consistent with previous partitions, which have %d replica(s).", len(sorted), rf)
	}
	if active == 0 {
		return newTopicError(kerr.InvalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition %d are fenced or in controlled shutdown.", partition)
	}
	return nil
}
