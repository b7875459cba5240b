package restproxy

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// v2 consumer instance operations: subscription, assignments, positions
// (seek) and offsets.

// topicPartition is {"topic","partition"} in v2 bodies.
type topicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// checkTopicPartition refuses (422/42203) a topic no Kafka topic can be
// named and a negative partition or offset, before the cluster is asked
// (the document's bounds).
func checkTopicPartition(field, topic string, partition int32, offset int64) error {
	if !validTopicName(topic) {
		return apiErr(http.StatusUnprocessableEntity, 42203, "%s: %q is not a Kafka topic name", field, topic)
	}
	if partition < 0 || offset < 0 {
		return apiErr(http.StatusUnprocessableEntity, 42203, "%s: negative partition or offset", field)
	}
	return nil
}

// checkTopicPartitions is checkTopicPartition of each of tps.
func checkTopicPartitions(field string, tps []topicPartition) error {
	for _, tp := range tps {
		if err := checkTopicPartition(field, tp.Topic, tp.Partition, 0); err != nil {
			return err
		}
	}
	return nil
}

// POST …/subscription {"topics"} or {"topic_pattern"}: the instance joins
// its group for them (replacing an earlier subscription).
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	var body struct {
		Topics       []string `json:"topics"`
		TopicPattern string   `json:"topic_pattern"`
	}
	if err := s.readBody(w, r, &body, false); err != nil {
		return err
	}
	if (len(body.Topics) > 0) == (body.TopicPattern != "") {
		return errIllegalState("Subscription to topics, partitions and pattern are mutually exclusive; give topics or topic_pattern")
	}
	for _, t := range body.Topics {
		// franz-go refuses "" when the client is made, after the old one
		// is dropped; no other invalid name reaches the cluster either.
		if err := checkTopicPartition("topics", t, 0, 0); err != nil {
			return err
		}
	}
	if body.TopicPattern != "" {
		if _, err := regexp.Compile(body.TopicPattern); err != nil {
			return apiErr(http.StatusUnprocessableEntity, 42203, "topic_pattern: %v", err)
		}
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	if c.mode == modeAssigned {
		return errIllegalState("Subscription to topics, partitions and pattern are mutually exclusive")
	}
	c.dropClient()
	opts := []kgo.Opt{kgo.ConsumerGroup(c.group),
		kgo.OnPartitionsAssigned(c.onAssigned), kgo.OnPartitionsRevoked(c.onRevoked), kgo.OnPartitionsLost(c.onRevoked)}
	if body.TopicPattern != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(body.TopicPattern))
	} else {
		opts = append(opts, kgo.ConsumeTopics(body.Topics...))
	}
	if c.autoComm {
		opts = append(opts, kgo.AutoCommitMarks())
	} else {
		opts = append(opts, kgo.DisableAutoCommit())
	}
	cl, err := kgo.NewClient(c.clientOpts(opts...)...)
	if err != nil {
		return fmt.Errorf("consumer client: %w", err)
	}
	c.cl, c.mode, c.topics, c.pattern = cl, modeSubscribed, body.Topics, body.TopicPattern
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET …/subscription: {"topics"}, the pattern's matches once assigned.
func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	topics := []string{}
	if c.mode == modeSubscribed {
		topics = append(topics, c.topics...)
		if c.pattern != "" {
			for t := range c.assignment() {
				topics = append(topics, t)
			}
			sort.Strings(topics)
		}
	}
	writeJSON(w, v2JSON, http.StatusOK, map[string]any{"topics": topics})
	return nil
}

// DELETE …/subscription: the instance leaves its group.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	if c.mode == modeSubscribed {
		c.dropClient()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST …/assignments {"partitions"}: the instance reads exactly these,
// from the group's committed offsets or else auto.offset.reset.
func (s *Server) assign(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	var body struct {
		Partitions []topicPartition `json:"partitions"`
	}
	if err := s.readBody(w, r, &body, false); err != nil {
		return err
	}
	if err := checkTopicPartitions("partitions", body.Partitions); err != nil {
		return err
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	if c.mode == modeSubscribed {
		return errIllegalState("Subscription to topics, partitions and pattern are mutually exclusive")
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	committed, err := s.kadm(ctx).FetchOffsets(ctx, c.group)
	if err != nil {
		return kafkaError(err)
	}
	parts := map[string]map[int32]kgo.Offset{}
	for _, tp := range body.Partitions {
		if parts[tp.Topic] == nil {
			parts[tp.Topic] = map[int32]kgo.Offset{}
		}
		off := c.reset
		if o, ok := committed.Lookup(tp.Topic, tp.Partition); ok && o.Err == nil && o.At >= 0 {
			off = kgo.NewOffset().At(o.At)
		}
		parts[tp.Topic][tp.Partition] = off
	}
	c.dropClient()
	if len(parts) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	cl, err := kgo.NewClient(c.clientOpts(kgo.ConsumePartitions(parts))...)
	if err != nil {
		return fmt.Errorf("consumer client: %w", err)
	}
	c.cl, c.mode = cl, modeAssigned
	c.amu.Lock()
	for t, ps := range parts {
		c.assigned[t] = map[int32]bool{}
		for p := range ps {
			c.assigned[t][p] = true
		}
	}
	c.amu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET …/assignments: {"partitions"} the instance reads now.
func (s *Server) getAssignments(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	writeJSON(w, v2JSON, http.StatusOK, map[string]any{"partitions": sortedTPs(c.assignment())})
	return nil
}

func sortedTPs(m map[string][]int32) []topicPartition {
	out := []topicPartition{}
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, topicPartition{t, p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// setPositions moves the instance's positions (c.mu held); every
// partition must be assigned (else 409/40903). Buffered records of those
// partitions are dropped.
func (c *consumerInstance) setPositions(to map[string]map[int32]int64) error {
	if c.cl == nil {
		return errIllegalState("No current assignment for partitions; subscribe or assign first")
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	for t, ps := range to {
		for p, o := range ps {
			if !c.isAssigned(t, p) {
				return errIllegalState("No current assignment for partition %s-%d", t, p)
			}
			if set[t] == nil {
				set[t] = map[int32]kgo.EpochOffset{}
			}
			set[t][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
	}
	kept := c.buf[:0]
	for _, rec := range c.buf {
		if _, moved := to[rec.Topic][rec.Partition]; !moved {
			kept = append(kept, rec)
		}
	}
	clear(c.buf[len(kept):])
	c.buf = kept
	c.cl.SetOffsets(set)
	return nil
}

// POST …/positions {"offsets":[{topic,partition,offset}],
// "timestamps":[{topic,partition,timestamp}]}: seek to offsets, or to the
// first offset at or after an ISO-8601 timestamp.
func (s *Server) seek(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	var body struct {
		Offsets []struct {
			topicPartition
			Offset int64 `json:"offset"`
		} `json:"offsets"`
		Timestamps []struct {
			topicPartition
			Timestamp string `json:"timestamp"`
		} `json:"timestamps"`
	}
	if err := s.readBody(w, r, &body, false); err != nil {
		return err
	}
	for _, o := range body.Offsets {
		if err := checkTopicPartition("offsets", o.Topic, o.Partition, o.Offset); err != nil {
			return err
		}
	}
	for _, ts := range body.Timestamps {
		if err := checkTopicPartition("timestamps", ts.Topic, ts.Partition, 0); err != nil {
			return err
		}
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	to := map[string]map[int32]int64{}
	put := func(t string, p int32, o int64) {
		if to[t] == nil {
			to[t] = map[int32]int64{}
		}
		to[t][p] = o
	}
	for _, o := range body.Offsets {
		put(o.Topic, o.Partition, o.Offset)
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	for _, ts := range body.Timestamps {
		o, err := s.offsetAfter(ctx, c, ts.topicPartition, ts.Timestamp)
		if err != nil {
			return err
		}
		put(ts.Topic, ts.Partition, o)
	}
	if err := c.setPositions(to); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// offsetAfter is the first offset of an assigned partition at or after an
// ISO-8601 timestamp (the end offset if there is none).
func (s *Server) offsetAfter(ctx context.Context, c *consumerInstance, tp topicPartition, timestamp string) (int64, error) {
	at, err := parseTimestamp(timestamp)
	if err != nil {
		return 0, apiErr(http.StatusUnprocessableEntity, 42203, "timestamp %q: want ISO-8601", timestamp)
	}
	if !c.isAssigned(tp.Topic, tp.Partition) {
		return 0, errIllegalState("No current assignment for partition %s-%d", tp.Topic, tp.Partition)
	}
	var o kadm.ListedOffset
	err = retryTransient(ctx, func() error {
		lo, err := s.kadm(ctx).ListOffsetsAfterMilli(ctx, at.UnixMilli(), tp.Topic)
		if err != nil {
			return kafkaError(err)
		}
		var ok bool
		if o, ok = lo.Lookup(tp.Topic, tp.Partition); !ok {
			return errPartitionNotFound(tp.Partition)
		}
		if o.Err != nil {
			return kafkaError(o.Err)
		}
		return nil
	})
	return o.Offset, err
}

// parseTimestamp reads ISO-8601 date-times as Confluent's clients write
// them ("2020-10-30T19:39:45+0000", RFC 3339, with or without fractions).
func parseTimestamp(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05Z0700"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// POST …/positions/beginning {"partitions"}.
func (s *Server) seekBeginning(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	return s.seekEdge(w, r, true)
}

// POST …/positions/end {"partitions"}.
func (s *Server) seekEnd(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	return s.seekEdge(w, r, false)
}

func (s *Server) seekEdge(w http.ResponseWriter, r *http.Request, start bool) error {
	var body struct {
		Partitions []topicPartition `json:"partitions"`
	}
	if err := s.readBody(w, r, &body, false); err != nil {
		return err
	}
	if err := checkTopicPartitions("partitions", body.Partitions); err != nil {
		return err
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	var topics []string
	for _, tp := range body.Partitions {
		if !c.isAssigned(tp.Topic, tp.Partition) {
			return errIllegalState("No current assignment for partition %s-%d", tp.Topic, tp.Partition)
		}
		topics = append(topics, tp.Topic)
	}
	if len(topics) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	list := s.kadm(ctx).ListEndOffsets
	if start {
		list = s.kadm(ctx).ListStartOffsets
	}
	to := map[string]map[int32]int64{}
	err = retryTransient(ctx, func() error {
		offs, err := list(ctx, topics...)
		if err != nil {
			return kafkaError(err)
		}
		for _, tp := range body.Partitions {
			o, ok := offs.Lookup(tp.Topic, tp.Partition)
			if !ok {
				return errPartitionNotFound(tp.Partition)
			}
			if o.Err != nil {
				return kafkaError(o.Err)
			}
			if to[tp.Topic] == nil {
				to[tp.Topic] = map[int32]int64{}
			}
			to[tp.Topic][tp.Partition] = o.Offset
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.setPositions(to); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// v2CommitOffset is an entry of an offsets body or answer.
type v2CommitOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Metadata  string `json:"metadata"`
}

// POST …/offsets: commit the given offsets (each is the last record
// processed, so offset+1 is committed, as Confluent does), or with no
// body everything the instance has returned.
func (s *Server) commitOffsets(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	var body struct {
		Offsets []v2CommitOffset `json:"offsets"`
	}
	if err := s.readBody(w, r, &body, true); err != nil {
		return err
	}
	for _, o := range body.Offsets {
		if err := checkTopicPartition("offsets", o.Topic, o.Partition, o.Offset); err != nil {
			return err
		}
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	to := kadm.Offsets{}
	if body.Offsets == nil { // what was returned, of partitions still the instance's
		for t, ps := range c.consumed {
			for p, o := range ps {
				if c.isAssigned(t, p) {
					to.Add(kadm.Offset{Topic: t, Partition: p, At: o, LeaderEpoch: -1})
				}
			}
		}
	}
	for _, o := range body.Offsets {
		to.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.Offset + 1, LeaderEpoch: -1, Metadata: o.Metadata})
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	if err := c.commit(ctx, to); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// commit commits offsets for the instance's group: as the group member
// when subscribed, else as a client outside the group (c.mu held).
func (c *consumerInstance) commit(ctx context.Context, to kadm.Offsets) error {
	if len(to) == 0 {
		return nil
	}
	if c.mode != modeSubscribed {
		resp, err := c.set.s.kadm(ctx).CommitOffsets(ctx, c.group, to)
		if err != nil {
			return kafkaError(err)
		}
		if err := resp.Error(); err != nil {
			return kafkaError(err)
		}
		return nil
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	to.Each(func(o kadm.Offset) {
		if set[o.Topic] == nil {
			set[o.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[o.Topic][o.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o.At}
	})
	var cerr error
	c.cl.CommitOffsetsSync(ctx, set, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && cerr == nil {
					cerr = e
				}
			}
		}
	})
	if cerr != nil {
		return kafkaError(fmt.Errorf("commit: %w", cerr))
	}
	return nil
}

// GET …/offsets {"partitions"}: the group's committed offsets of those
// partitions (ones never committed are left out).
func (s *Server) committedOffsets(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	var body struct {
		Partitions []topicPartition `json:"partitions"`
	}
	if err := s.readBody(w, r, &body, true); err != nil {
		return err
	}
	if err := checkTopicPartitions("partitions", body.Partitions); err != nil {
		return err
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	ctx, cancel := metaCtx(r)
	defer cancel()
	got, err := s.kadm(ctx).FetchOffsets(ctx, c.group)
	if err != nil {
		return kafkaError(err)
	}
	out := []v2CommitOffset{}
	for _, tp := range body.Partitions {
		o, ok := got.Lookup(tp.Topic, tp.Partition)
		if !ok || o.Err != nil || o.At < 0 {
			continue
		}
		out = append(out, v2CommitOffset{Topic: tp.Topic, Partition: tp.Partition, Offset: o.At, Metadata: o.Metadata})
	}
	writeJSON(w, v2JSON, http.StatusOK, map[string]any{"offsets": out})
	return nil
}
