package broker

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DeleteTopics, versions 1-6.
//
// Version notes:
//   - v1: throttle time (v0 went with Kafka 4.0)
//   - v3: TOPIC_DELETION_DISABLED; below v3 disabled deletion answers
//     INVALID_REQUEST
//   - v4: flexible versions
//   - v5: ErrorMessage; THROTTLING_QUOTA_EXCEEDED (KIP-599), never sent here
//   - v6: Topics by name or topic id (KIP-516) instead of TopicNames
//
// ACLs (Kafka's ControllerApis.deleteTopics): Delete on the cluster allows
// every topic; else a topic needs Describe and Delete on itself, answered
// TOPIC_AUTHORIZATION_FAILED otherwise. By name, Describe is checked before
// existence, and the id is never returned; by id (an unknown id is
// UNKNOWN_TOPIC_ID, ids are not secret), the name is returned only when
// the principal may Describe the topic. Malformed and duplicate entries
// are refused first.
func init() { register(int16(kmsg.DeleteTopics), 1, 6, (*Broker).handleDeleteTopics) }

// deleteWant is one topic a DeleteTopics request names, by name or by id.
type deleteWant struct {
	name *string
	id   metadata.Uuid
}

func (b *Broker) handleDeleteTopics(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	ctx, cancel := adminContext(ctx, req.TimeoutMillis)
	defer cancel()

	answer := func(name *string, id metadata.Uuid, err error) {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = name, id
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}

	var wants []deleteWant
	for _, n := range req.TopicNames {
		wants = append(wants, deleteWant{name: kmsg.StringPtr(n)})
	}
	for _, rt := range req.Topics {
		wants = append(wants, deleteWant{name: rt.Topic, id: metadata.Uuid(rt.TopicID)})
	}

	if strings.EqualFold(b.settings().Values["delete.topic.enable"], "false") {
		for _, w := range wants {
			if req.Version < 3 {
				answer(w.name, w.id, newTopicError(kerr.InvalidRequest, "Topic deletion is disabled."))
			} else {
				answer(w.name, w.id, newTopicError(kerr.TopicDeletionDisabled, "Topic deletion is disabled."))
			}
		}
		return resp, nil
	}

	// Validate the shape of the request as Kafka's controller does:
	// exactly one of name and id, no duplicates.
	names := map[string]int{}
	ids := map[metadata.Uuid]int{}
	for _, w := range wants {
		switch {
		case w.name != nil && !w.id.IsZero():
			// An error of its own, below; it counts as neither.
		case w.name != nil:
			names[*w.name]++
		case !w.id.IsZero():
			ids[w.id]++
		}
	}
	img := b.image()
	az := c.authz()
	clusterDelete := az.cluster(acl.OpDelete)
	describable := func(n string) bool { return clusterDelete || az.topic(acl.OpDescribe, n) }
	deletable := func(n string) bool { return clusterDelete || az.topic(acl.OpDelete, n) }
	denied := func() error {
		return newTopicError(kerr.TopicAuthorizationFailed, "%s", kerr.TopicAuthorizationFailed.Description)
	}
	var targets []deleteWant // resolved: name and id both set
	for _, w := range wants {
		switch {
		case w.name == nil && w.id.IsZero():
			answer(nil, metadata.ZeroUuid, newTopicError(kerr.InvalidRequest, "Neither topic name nor id were specified."))
		case w.name != nil && !w.id.IsZero():
			answer(w.name, w.id, newTopicError(kerr.InvalidRequest, "You may not specify both topic name and topic id."))
		case w.name != nil:
			n := *w.name
			if names[n] > 1 {
				answer(w.name, metadata.ZeroUuid, newTopicError(kerr.InvalidRequest, "Duplicate topic name."))
				names[n] = -1 // answered once
				continue
			}
			if names[n] < 0 {
				continue
			}
			if !describable(n) {
				answer(w.name, metadata.ZeroUuid, denied())
				continue
			}
			t, ok := img.Topics[n]
			if !ok {
				answer(w.name, metadata.ZeroUuid, newTopicError(kerr.UnknownTopicOrPartition, "%s", kerr.UnknownTopicOrPartition.Description))
				continue
			}
			if !deletable(n) {
				answer(w.name, metadata.ZeroUuid, denied())
				continue
			}
			if ids[t.ID] != 0 {
				answer(w.name, t.ID, newTopicError(kerr.InvalidRequest, "The provided topic name maps to an ID that was already supplied."))
				continue
			}
			targets = append(targets, deleteWant{name: w.name, id: t.ID})
		default:
			if ids[w.id] > 1 {
				answer(nil, w.id, newTopicError(kerr.InvalidRequest, "Duplicate topic id."))
				ids[w.id] = -1 // answered once
				continue
			}
			if ids[w.id] < 0 {
				continue
			}
			t, ok := img.TopicsByID[w.id]
			if !ok {
				answer(nil, w.id, newTopicError(kerr.UnknownTopicID, "%s", kerr.UnknownTopicID.Description))
				continue
			}
			if !deletable(t.Name) {
				var name *string // the name only to who may see it
				if describable(t.Name) {
					name = kmsg.StringPtr(t.Name)
				}
				answer(name, w.id, denied())
				continue
			}
			targets = append(targets, deleteWant{name: kmsg.StringPtr(t.Name), id: t.ID})
		}
	}

	var deleted []string
	for _, w := range targets {
		if t, ok := img.TopicsByID[w.id]; ok && !c.mutationAllowed(r, len(t.Partitions)) {
			answer(w.name, w.id, errMutationQuota)
			continue
		}
		if _, err := b.ctl.Propose(ctx, metadata.DeleteTopic{ID: w.id}); err != nil {
			answer(w.name, w.id, err)
			continue
		}
		deleted = append(deleted, *w.name)
		answer(w.name, w.id, nil)
	}
	if len(deleted) > 0 {
		b.syncPartitions(ctx)
		if b.groups != nil {
			// A deleted topic's committed offsets go too (tombstones).
			if err := b.groups.DeleteTopicOffsets(ctx, deleted); err != nil {
				b.lg.Warn("removing committed offsets of deleted topics", "topics", deleted, "err", err)
			}
		}
	}
	return resp, nil
}
