package group

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit handles OffsetCommit v2-v9.
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	setAll := func(code int16) *kmsg.OffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode == 0 {
					resp.Topics[i].Partitions[j].ErrorCode = code
				}
			}
		}
		return resp
	}
	if req.Group == "" {
		return setAll(kerr.InvalidGroupID.Code)
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		return setAll(code)
	}
	defer s.mu.Unlock()

	g := s.groups[req.Group]
	if g == nil {
		if req.Generation >= 0 {
			if req.Version >= 9 {
				return setAll(kerr.GroupIDNotFound.Code)
			}
			return setAll(kerr.IllegalGeneration.Code)
		}
	} else if code := g.validateOffsetCommit(req); code != 0 {
		return setAll(code)
	}

	now := s.now().UnixMilli()
	type pending struct {
		tp  topicPartition
		c   committed
		ptr *int16
	}
	var todo []pending
	var recs []Record
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			ec := &resp.Topics[i].Partitions[j].ErrorCode
			md := ""
			if rp.Metadata != nil {
				md = *rp.Metadata
			}
			switch {
			case !c.cfg.Topics.PartitionExists(rt.Topic, rp.Partition):
				*ec = kerr.UnknownTopicOrPartition.Code
				continue
			case len(md) > c.cfg.Settings.OffsetMetadataMaxBytes:
				*ec = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			epoch := int32(-1)
			if req.Version >= 6 {
				epoch = rp.LeaderEpoch
			}
			p := pending{tp: topicPartition{rt.Topic, rp.Partition}, c: committed{offset: rp.Offset, leaderEpoch: epoch, metadata: md, commitTime: now}, ptr: ec}
			todo = append(todo, p)
			recs = append(recs, offsetRecord(req.Group, p.tp, p.c))
		}
	}
	if len(recs) == 0 {
		return resp
	}
	base, err := s.writeAt(ctx, recs)
	if err != nil {
		code := writeCode(err)
		for _, p := range todo {
			*p.ptr = code
		}
		return resp
	}
	if g == nil {
		g = newGroup(s, req.Group, TypeClassic) // a simple group
		s.groups[req.Group] = g
	}
	for i, p := range todo {
		p.c.recordOffset = base + int64(i)
		g.offsets[p.tp] = p.c
	}
	return resp
}

// validateOffsetCommit is Kafka's ClassicGroup.validateOffsetCommit.
func (g *group) validateOffsetCommit(req *kmsg.OffsetCommitRequest) int16 {
	if g.typ == TypeConsumer {
		return g.consumer.offsetCommitError(req.MemberID, req.Generation, false, req.Version)
	}
	cg := g.classic
	if cg.state == stateDead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if req.Generation < 0 && cg.state == stateEmpty {
		return 0 // a simple or admin commit
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
			return code
		}
		if req.Generation != cg.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if cg.state != stateEmpty {
		return kerr.UnknownMemberID.Code
	}
	if cg.state == stateCompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// fetchTopic is one topic of an OffsetFetch: nil partitions with all set
// means every committed partition of the group.
type fetchTopic struct {
	topic      string
	partitions []int32
}

type fetchedPartition struct {
	partition int32
	c         committed
	found     bool
	// unstable: a transaction has pending offsets for the partition.
	unstable bool
}

type fetchedTopic struct {
	topic      string
	partitions []fetchedPartition
}

// fetch reads a group's offsets; topics nil means all. code is a
// group-level error.
func (c *Coordinator) fetch(groupID string, topics []fetchTopic, all bool, member fetchMember) (out []fetchedTopic, code int16) {
	s, code := c.lockShard(groupID)
	if code != 0 {
		return nil, code
	}
	defer s.mu.Unlock()
	g := s.groups[groupID]
	if g != nil && g.consumer != nil {
		// OffsetFetch v9 from a KIP-848 member carries its member epoch.
		if code := g.consumer.offsetFetchError(member.id, member.epoch); code != 0 {
			return nil, code
		}
	}
	if all {
		if g == nil {
			return nil, 0
		}
		byTopic := make(map[string][]fetchedPartition)
		for tp, cm := range g.offsets {
			byTopic[tp.topic] = append(byTopic[tp.topic], fetchedPartition{partition: tp.partition, c: cm, found: true, unstable: s.hasPending(groupID, tp)})
		}
		names := make([]string, 0, len(byTopic))
		for t := range byTopic {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			ps := byTopic[t]
			sort.Slice(ps, func(i, j int) bool { return ps[i].partition < ps[j].partition })
			out = append(out, fetchedTopic{topic: t, partitions: ps})
		}
		return out, 0
	}
	for _, t := range topics {
		ft := fetchedTopic{topic: t.topic}
		for _, p := range t.partitions {
			fp := fetchedPartition{partition: p, unstable: s.hasPending(groupID, topicPartition{t.topic, p})}
			if g != nil {
				fp.c, fp.found = g.offsets[topicPartition{t.topic, p}]
			}
			ft.partitions = append(ft.partitions, fp)
		}
		out = append(out, ft)
	}
	return out, 0
}

// OffsetFetch handles OffsetFetch v1-v9. With RequireStable (v7+) a
// partition with pending transactional offsets answers
// UNSTABLE_OFFSET_COMMIT.
func (c *Coordinator) OffsetFetch(_ context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			var topics []fetchTopic
			for _, t := range rg.Topics {
				topics = append(topics, fetchTopic{t.Topic, t.Partitions})
			}
			out, code := c.fetchChecked(rg.Group, topics, rg.Topics == nil, fetchMember{rg.MemberID, rg.MemberEpoch})
			sg.ErrorCode = code
			if code == 0 {
				for _, ft := range out {
					st := kmsg.NewOffsetFetchResponseGroupTopic()
					st.Topic = ft.topic
					for _, fp := range ft.partitions {
						sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
						sp.Partition = fp.partition
						fillFetched(&sp.Offset, &sp.LeaderEpoch, &sp.Metadata, fp, req.RequireStable)
						if req.RequireStable && fp.unstable {
							sp.ErrorCode = kerr.UnstableOffsetCommit.Code
						}
						st.Partitions = append(st.Partitions, sp)
					}
					sg.Topics = append(sg.Topics, st)
				}
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}
	var topics []fetchTopic
	for _, t := range req.Topics {
		topics = append(topics, fetchTopic{t.Topic, t.Partitions})
	}
	all := req.Topics == nil && req.Version >= 2
	out, code := c.fetchChecked(req.Group, topics, all, fetchMember{epoch: -1})
	if code != 0 {
		if req.Version >= 2 {
			resp.ErrorCode = code
			return resp
		}
		// v1 has no group-level error: every partition carries it.
		for _, t := range topics {
			st := kmsg.NewOffsetFetchResponseTopic()
			st.Topic = t.topic
			for _, p := range t.partitions {
				sp := kmsg.NewOffsetFetchResponseTopicPartition()
				sp.Partition, sp.Offset, sp.ErrorCode = p, -1, code
				sp.Metadata = kmsg.StringPtr("")
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	for _, ft := range out {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = ft.topic
		for _, fp := range ft.partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition = fp.partition
			fillFetched(&sp.Offset, &sp.LeaderEpoch, &sp.Metadata, fp, req.RequireStable)
			if req.RequireStable && fp.unstable {
				sp.ErrorCode = kerr.UnstableOffsetCommit.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// fetchMember is who asks in OffsetFetch v9+: a KIP-848 member's id and
// epoch, or no one (nil id, epoch -1).
type fetchMember struct {
	id    *string
	epoch int32
}

func (c *Coordinator) fetchChecked(groupID string, topics []fetchTopic, all bool, member fetchMember) ([]fetchedTopic, int16) {
	if groupID == "" {
		return nil, kerr.InvalidGroupID.Code
	}
	return c.fetch(groupID, topics, all, member)
}

func fillFetched(off *int64, epoch *int32, md **string, fp fetchedPartition, requireStable bool) {
	if !fp.found || requireStable && fp.unstable {
		*off, *epoch, *md = -1, -1, kmsg.StringPtr("")
		return
	}
	*off, *epoch, *md = fp.c.offset, fp.c.leaderEpoch, kmsg.StringPtr(fp.c.metadata)
}

// OffsetDelete handles OffsetDelete v0.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	defer s.mu.Unlock()
	g := s.groups[req.Group]
	if g == nil || g.typ == TypeClassic && g.classic.state == stateDead {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	subscribed, known := g.subscribedTopics()
	if !g.empty() && !known {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp
	}
	var recs []Record
	var gone []topicPartition
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			tp := topicPartition{rt.Topic, rp.Partition}
			switch {
			case subscribed[rt.Topic]:
				sp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			default:
				if _, ok := g.offsets[tp]; ok {
					recs = append(recs, offsetTombstone(g.id, tp))
					gone = append(gone, tp)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if err := s.write(ctx, recs); err != nil {
		resp.ErrorCode = writeCode(err)
		resp.Topics = nil
		return resp
	}
	for _, tp := range gone {
		delete(g.offsets, tp)
		dropPendingOffset(s.pending, g.id, tp)
	}
	return resp
}

// ExpireOffsets applies offsets.retention.minutes once: an empty group's
// offsets expire retention after the later of their commit and the group
// becoming empty; a consumer group's offsets of topics no member subscribes
// to expire retention after their commit. An empty group left with no
// offsets is deleted. The Coordinator runs it every
// offsets.retention.check.interval.ms.
func (c *Coordinator) ExpireOffsets() {
	retention := c.cfg.Settings.OffsetsRetention.Milliseconds()
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state == shardActive {
			now := s.now().UnixMilli()
			for _, g := range s.groups {
				s.expireGroup(g, now, retention)
			}
		}
		s.mu.Unlock()
	}
}

func (s *shard) expireGroup(g *group, now, retention int64) {
	var recs []Record
	var gone []topicPartition
	empty := g.empty()
	subscribed, known := g.subscribedTopics()
	if !empty && !known {
		return
	}
	for tp, cm := range g.offsets {
		base := cm.commitTime
		if empty {
			base = max(base, g.stateTime().UnixMilli())
		} else if subscribed[tp.topic] {
			continue
		}
		if now-base >= retention && !s.hasPending(g.id, tp) {
			recs = append(recs, offsetTombstone(g.id, tp))
			gone = append(gone, tp)
		}
	}
	deleteGroup := empty && len(gone) == len(g.offsets) && g.typ == TypeClassic
	if deleteGroup {
		recs = append(recs, groupTombstone(g.id))
	}
	if len(recs) == 0 {
		return
	}
	if err := s.write(s.c.ctx, recs); err != nil {
		s.c.lg.Warn("expiring offsets failed", "group", g.id, "err", err)
		return
	}
	for _, tp := range gone {
		delete(g.offsets, tp)
	}
	if deleteGroup {
		s.removeGroup(g)
	}
	s.c.lg.Info("expired group offsets", "group", g.id, "partitions", len(gone), "group_deleted", deleteGroup)
}

// DeleteTopicOffsets tombstones every committed offset of the given topics,
// in every group this coordinator leads: the topics were deleted.
func (c *Coordinator) DeleteTopicOffsets(ctx context.Context, topics []string) error {
	want := make(map[string]bool, len(topics))
	for _, t := range topics {
		want[t] = true
	}
	var firstErr error
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state == shardActive {
			for _, g := range s.groups {
				var recs []Record
				var gone []topicPartition
				for tp := range g.offsets {
					if want[tp.topic] {
						recs = append(recs, offsetTombstone(g.id, tp))
						gone = append(gone, tp)
					}
				}
				if err := s.write(ctx, recs); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				for _, tp := range gone {
					delete(g.offsets, tp)
					dropPendingOffset(s.pending, g.id, tp)
				}
			}
		}
		s.mu.Unlock()
	}
	return firstErr
}
