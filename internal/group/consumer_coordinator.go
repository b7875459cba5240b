package group

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerSettings are the KIP-848 settings, Kafka's defaults filled in.
func (c *Coordinator) consumerSettings() ConsumerSettings {
	return c.cfg.Settings.Consumer.orDefaults()
}

// ConsumerGroupHeartbeat handles ConsumerGroupHeartbeat v0-v1: joining,
// heartbeating in and leaving a KIP-848 consumer group. img is the current
// topic metadata. A classic group becomes a consumer group here (Kafka's
// upgrade of group.consumer.migration.policy, consumer_migration.go): an
// empty one at once, one with members if the policy allows and it is
// Stable and uses the consumer protocol; otherwise GROUP_ID_NOT_FOUND, as
// Kafka answers for a group of the other type. The leave of the last
// member using the consumer protocol turns a group of classic members back
// into a classic group.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, cl Client, version int16, req *kmsg.ConsumerGroupHeartbeatRequest, img TopicImage) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	fail := func(code *kerr.Error, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp.ErrorCode = code.Code
		resp.ErrorMessage = kmsg.StringPtr(msg)
		return resp
	}
	set := c.consumerSettings()
	if err := validateHeartbeat(&set, version, req); err != nil {
		return fail(err.code, err.msg)
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	defer s.mu.Unlock()

	g := s.groups[req.Group]
	var pre []Record
	install := false
	switch {
	case g == nil || g.stateName() == cgStateDead && g.typ == TypeConsumer:
		if req.MemberEpoch != epochJoin {
			return fail(kerr.UnknownMemberID, fmt.Sprintf("Group %s has no member %s.", req.Group, req.MemberID))
		}
		g = newGroup(s, req.Group, TypeConsumer)
		install = true
	case g.typ == TypeClassic && !g.empty():
		if req.MemberEpoch != epochJoin {
			return fail(kerr.GroupIDNotFound, fmt.Sprintf("Group %s is not a consumer group.", req.Group))
		}
		ng, recs, why := s.upgrade(g, &set, img)
		if why != "" {
			c.lg.Info("cannot upgrade the classic group to a consumer group", "group", req.Group, "reason", why)
			return fail(kerr.GroupIDNotFound, fmt.Sprintf("Group %s is not a consumer group.", req.Group))
		}
		c.lg.Info("upgrading a classic group to a consumer group", "group", req.Group, "members", len(g.classic.members), "generation", g.classic.generation)
		g, pre, install = ng, recs, true
	case g.typ == TypeClassic:
		if req.MemberEpoch != epochJoin || !set.upgradeAllowed() {
			return fail(kerr.GroupIDNotFound, fmt.Sprintf("Group %s is not a consumer group.", req.Group))
		}
		// An empty classic group (or one that only has offsets) becomes
		// a consumer group, keeping its offsets.
		old := g
		g = newGroup(s, req.Group, TypeConsumer)
		g.offsets = old.offsets
		pre = append(pre, groupTombstone(req.Group))
		install = true
		c.lg.Info("converting an empty classic group to a consumer group", "group", req.Group)
	}

	cg := g.consumer
	if !install && req.MemberEpoch == epochLeave {
		if id := cg.leavingMember(req); id != "" && s.canDowngrade(cg, id) {
			if err := s.downgrade(ctx, g, id, nil); err != nil {
				resp.ErrorCode = writeCode(err)
				return resp
			}
			resp.MemberID = kmsg.StringPtr(id)
			resp.MemberEpoch = epochLeave
			return resp
		}
	}
	snap := cg.clone()
	cg.img = img
	r, herr := cg.heartbeat(heartbeatIn{now: s.now(), s: &set, img: img, client: cl, req: req})
	recs := pre
	for _, rec := range cg.takeRecords() {
		recs = append(recs, rec.encode())
	}
	if herr != nil {
		g.consumer = snap
		return fail(herr.code, herr.msg)
	}
	if err := s.write(ctx, recs); err != nil {
		g.consumer = snap
		resp.ErrorCode = writeCode(err)
		return resp
	}
	if install {
		if old := s.groups[req.Group]; old != nil {
			old.shutdown()
		}
		s.groups[req.Group] = g
	}
	s.armConsumer(g)
	return r
}

// armConsumer (re)arms the group's one timer at its next session or
// rebalance deadline; s.mu is held.
func (s *shard) armConsumer(g *group) {
	cg := g.consumer
	cg.timer.cancel()
	cg.timer = nil
	next := cg.nextDeadline()
	if next.IsZero() {
		return
	}
	cg.timer = s.after(max(next.Sub(s.now()), 0), func() { s.expireConsumer(g) })
}

// expireConsumer fences the members whose deadlines passed; s.mu is held.
// The fencing of the last member using the consumer protocol among classic
// members downgrades the group instead (Kafka's consumerGroupFenceMember).
func (s *shard) expireConsumer(g *group) {
	if s.groups[g.id] != g || g.consumer == nil {
		return
	}
	cg := g.consumer
	snap := cg.clone()
	now := s.now()
	due := cg.due(now)
	if len(due) == 0 {
		s.armConsumer(g)
		return
	}
	img := s.imageFor(cg)
	retry := func(err error) {
		s.c.lg.Warn("fencing expired consumer group members failed", "group", g.id, "err", err)
		g.consumer = snap
		// The deadlines have passed: try again in a while, not at once.
		snap.timer.cancel()
		snap.timer = s.after(time.Second, func() { s.expireConsumer(g) })
	}
	for _, id := range due {
		if s.canDowngrade(cg, id) {
			var pre []Record
			for _, r := range cg.takeRecords() {
				pre = append(pre, r.encode())
			}
			if err := s.downgrade(s.c.ctx, g, id, pre); err != nil {
				retry(err)
			}
			return
		}
		cg.expireMember(id, img)
	}
	cg.noteState(now)
	var recs []Record
	for _, r := range cg.takeRecords() {
		recs = append(recs, r.encode())
	}
	if err := s.write(s.c.ctx, recs); err != nil {
		retry(err)
		return
	}
	s.armConsumer(g)
}

// ConsumerGroupDescribe handles ConsumerGroupDescribe v0-v1.
func (c *Coordinator) ConsumerGroupDescribe(_ context.Context, req *kmsg.ConsumerGroupDescribeRequest, img TopicImage) *kmsg.ConsumerGroupDescribeResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	set := c.consumerSettings()
	for _, id := range req.Groups {
		d := c.describeConsumer(id, &set, img)
		if req.IncludeAuthorizedOperations && d.ErrorCode == 0 {
			d.AuthorizedOperations = groupOperations
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp
}

func (c *Coordinator) describeConsumer(id string, set *ConsumerSettings, img TopicImage) kmsg.ConsumerGroupDescribeResponseGroup {
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = id
	s, code := c.lockShard(id)
	if code != 0 {
		d.ErrorCode = code
		return d
	}
	defer s.mu.Unlock()
	g := s.groups[id]
	switch {
	case g == nil || g.stateName() == cgStateDead:
		d.ErrorCode = kerr.GroupIDNotFound.Code
		d.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s not found.", id))
		return d
	case g.typ != TypeConsumer:
		d.ErrorCode = kerr.GroupIDNotFound.Code
		d.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s is not a consumer group.", id))
		return d
	}
	return g.consumer.describe(set, img)
}

// applyConsumer replays one consumer group record (at offset) during a
// load.
func (st *loadState) applyConsumer(offset int64, key, value []byte) {
	r, err := decodeCGRecord(key, value)
	if err != nil {
		st.skip(offset, "consumer group record: "+err.Error())
		return
	}
	if st.consumer == nil {
		st.consumer = map[string]*consumerGroup{}
	}
	cg := st.consumer[r.Group]
	if cg == nil {
		if r.Tombstone {
			return
		}
		cg = newConsumerGroup(r.Group, time.Time{})
		st.consumer[r.Group] = cg
	}
	cg.apply(r)
	if r.Kind == cgKeyMetadata && r.Tombstone {
		delete(st.consumer, r.Group)
	}
}

// installConsumer installs the loaded consumer groups; s.mu is held. A
// consumer group replaces a classic group of the same id (the conversion
// tombstones the classic one, so this only matters for a torn log).
func (st *loadState) installConsumer(s *shard) {
	set := s.c.consumerSettings()
	for id, cg := range st.consumer {
		if cg.deleted {
			continue
		}
		g := newGroup(s, id, TypeConsumer)
		if old := s.groups[id]; old != nil {
			g.offsets = old.offsets
		}
		cg.afterLoad(s.now(), &set)
		g.consumer = cg
		s.groups[id] = g
		s.armConsumer(g)
	}
}

// consumerTombstones are the records that delete a consumer group's
// metadata (DeleteGroups, conversion back to classic).
func (g *group) consumerTombstones() []Record {
	cg := g.consumer.clone()
	cg.emitDelete()
	var out []Record
	for _, r := range cg.takeRecords() {
		out = append(out, r.encode())
	}
	return out
}

// metadataTombstones are the records that delete the group's metadata, of
// whichever type it is.
func (g *group) metadataTombstones() []Record {
	if g.typ == TypeConsumer && g.consumer != nil {
		return g.consumerTombstones()
	}
	return []Record{groupTombstone(g.id)}
}

// maybeDowngrade turns an empty consumer group into a classic one when a
// classic JoinGroup arrives (Kafka's downgrade under
// group.consumer.migration.policy), keeping its offsets; s.mu is held. It
// returns the group to use, and an error code if the records could not be
// written.
func (s *shard) maybeDowngrade(g *group) (*group, int16) {
	if g == nil || g.typ != TypeConsumer || !g.empty() || !s.c.consumerSettings().downgradeAllowed() {
		return g, 0
	}
	if err := s.write(s.c.ctx, g.consumerTombstones()); err != nil {
		return g, writeCode(err)
	}
	s.c.lg.Info("converting an empty consumer group to a classic group", "group", g.id)
	ng := newGroup(s, g.id, TypeClassic)
	ng.offsets = g.offsets
	g.shutdown()
	s.groups[g.id] = ng
	return ng, 0
}
