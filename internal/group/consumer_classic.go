package group

import (
	"cmp"
	"encoding/binary"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file serves classic members (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup) inside a consumer group, after Kafka's
// GroupMetadataManager.classicGroup{Join,Sync,Heartbeat,Leave}ToConsumerGroup.
// The coordinator is the assignor: a JoinGroup answers at once with the
// member's epoch as the generation and no leader, so that the client runs
// no assignor; SyncGroup returns the member's current assignment in the
// consumer protocol's encoding; Heartbeat answers REBALANCE_IN_PROGRESS
// when the member must rejoin (a new group epoch, partitions to revoke, or
// partitions it waited for now free), and a rejoin reports what the member
// still owns in its subscription, which is how it revokes. Every function
// here runs with the shard lock held; the consumerGroup methods are, like
// heartbeat, pure: they emit records and set deadlines.

// classicJoinIn is one JoinGroup to a consumer group and its context.
type classicJoinIn struct {
	now    time.Time
	s      *ConsumerSettings
	img    TopicImage
	client Client
	req    *kmsg.JoinGroupRequest
}

// supportsClassicProtocols is Kafka's ConsumerGroup.supportsClassicProtocols:
// the "consumer" protocol type, and a protocol every classic member
// supports.
func (g *consumerGroup) supportsClassicProtocols(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if protocolType != "consumer" || len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		all := true
		for _, m := range g.members {
			if m.classic != nil && !slices.ContainsFunc(m.classic.SupportedProtocols, func(c ClassicProtocol) bool { return c.Name == p.Name }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// classicProtocols converts JoinGroup protocols to classic metadata.
func classicProtocols(ps []kmsg.JoinGroupRequestProtocol) []ClassicProtocol {
	out := make([]ClassicProtocol, 0, len(ps))
	for _, p := range ps {
		out = append(out, ClassicProtocol{Name: p.Name, Metadata: slices.Clone(p.Metadata)})
	}
	return out
}

// topicIDOf finds a topic id by name in the subscription metadata, then in
// img.
func (g *consumerGroup) topicIDOf(name string, img TopicImage) ([16]byte, bool) {
	for _, t := range g.subMeta {
		if t.Name == name {
			return t.ID, true
		}
	}
	if img != nil {
		if t, ok := img.Topic(name); ok {
			return t.ID, true
		}
	}
	return [16]byte{}, false
}

// topicNameOf is the reverse of topicIDOf; "" if unknown.
func (g *consumerGroup) topicNameOf(id [16]byte, img TopicImage) string {
	for _, t := range g.subMeta {
		if t.ID == id {
			return t.Name
		}
	}
	if img != nil {
		if t, ok := img.TopicByID(id); ok {
			return t.Name
		}
	}
	return ""
}

// classicJoin is Kafka's classicGroupJoinToConsumerGroup. It returns the
// response; a non-zero error code means nothing must be written.
func (g *consumerGroup) classicJoin(in classicJoinIn) *kmsg.JoinGroupResponse {
	req := in.req
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	fail := func(code *kerr.Error) *kmsg.JoinGroupResponse {
		resp.ErrorCode = code.Code
		return resp
	}
	memberID := req.MemberID
	unknown := memberID == ""
	if unknown {
		memberID = newConsumerMemberID()
	}
	if len(g.members) >= in.s.MaxSize && (unknown || g.members[memberID] == nil) {
		return fail(kerr.GroupMaxSizeReached)
	}
	if !g.supportsClassicProtocols(req.ProtocolType, req.Protocols) {
		return fail(kerr.InconsistentGroupProtocol)
	}
	if unknown && req.InstanceID == nil && req.Version >= 4 {
		// Kafka remembers nothing here: the second join with this id is
		// simply a new member.
		resp.MemberID = memberID
		return fail(kerr.MemberIDRequired)
	}
	var sub kmsg.ConsumerMemberMetadata
	if err := sub.ReadFrom(req.Protocols[0].Metadata); err != nil {
		return fail(kerr.InconsistentGroupProtocol)
	}

	// Find the member, or make it.
	var old *consumerMember
	replaced := ""
	if req.InstanceID == nil {
		old = g.members[memberID]
	} else {
		existing := g.members[g.static[*req.InstanceID]]
		switch {
		case unknown && existing != nil:
			replaced = existing.id // a classic static member always replaces
		case unknown:
		case existing == nil:
			return fail(kerr.UnknownMemberID)
		case existing.id != memberID:
			return fail(kerr.FencedInstanceID)
		default:
			old = existing
		}
	}
	var m *consumerMember
	switch {
	case replaced != "":
		prev := g.members[replaced]
		m = prev.clone()
		m.id = memberID
		m.epoch, m.prevEpoch = 0, 0
		target := g.target[replaced]
		g.emitRemoveMember(replaced)
		g.emitMember(m)
		g.emitTarget(memberID, target)
		g.emitCurrent(m)
		m = g.members[memberID]
	case old == nil:
		m = &consumerMember{id: memberID, assigned: Assignment{}, pending: Assignment{}, rebalanceTimeoutMs: -1}
	default:
		m = old
	}

	// 1. The member's subscription.
	updated := m.clone()
	if req.InstanceID != nil {
		updated.instanceID = *req.InstanceID
	}
	if sub.Rack != nil {
		updated.rackID = *sub.Rack
	}
	updated.rebalanceTimeoutMs = int32(rebalanceTimeout(req) / time.Millisecond)
	updated.topics = slices.Compact(slices.Sorted(slices.Values(sub.Topics)))
	updated.clientID, updated.clientHost = in.client.ID, in.client.Host
	updated.classic = &ClassicMemberMetadata{SessionTimeoutMs: req.SessionTimeoutMillis, SupportedProtocols: classicProtocols(req.Protocols)}
	isNew := g.members[memberID] == nil
	subscriptionChanged := isNew || !slices.Equal(updated.topics, m.topics) || updated.regex != m.regex
	if isNew || !updated.sameSubscriptionRecord(m) {
		g.emitMember(updated)
	}
	if isNew {
		g.emitCurrent(&consumerMember{id: memberID, assigned: Assignment{}, pending: Assignment{}})
	}

	// 2. Subscription metadata and group epoch; then the target.
	g.refreshSubscriptions(in.img, subscriptionChanged)
	if g.epoch > g.assignmentEpoch {
		if err := g.updateTarget(in.s); err != nil {
			return fail(kerr.UnknownServerError)
		}
	}

	// 3. Reconcile against what the member says it owns. A classic
	// member always reports (an empty list when it revoked everything, as
	// eager members do before they rejoin).
	owned := Assignment{}
	for _, op := range sub.OwnedPartitions {
		if id, ok := g.topicIDOf(op.Topic, in.img); ok {
			for _, p := range op.Partitions {
				owned.add(id, p)
			}
		}
	}
	if !g.reconcileMember(g.members[memberID], owned, subscriptionChanged && !isNew, in.now) {
		return fail(kerr.FencedMemberEpoch)
	}
	cur := g.members[memberID]
	delete(g.joinDeadline, memberID)
	g.syncDeadline[memberID] = in.now.Add(time.Duration(cur.rebalanceTimeoutMs) * time.Millisecond)
	g.sessionDeadline[memberID] = in.now.Add(cur.sessionTimeout(in.s))
	g.noteState(in.now)

	resp.MemberID = memberID
	resp.Generation = cur.epoch
	resp.ProtocolType = kmsg.StringPtr("consumer")
	resp.Protocol = kmsg.StringPtr(req.Protocols[0].Name)
	resp.LeaderID = "" // no leader: the coordinator assigns
	return resp
}

// classicMember finds the member a classic request names, as Kafka's
// validateConsumerGroupMember and throwIfMemberDoesNotUseClassicProtocol.
func (g *consumerGroup) classicMember(memberID string, instanceID *string) (*consumerMember, int16) {
	var m *consumerMember
	if instanceID == nil {
		m = g.members[memberID]
		if m == nil {
			return nil, kerr.UnknownMemberID.Code
		}
	} else {
		m = g.members[g.static[*instanceID]]
		if m == nil {
			return nil, kerr.UnknownMemberID.Code
		}
		if m.id != memberID {
			return nil, kerr.FencedInstanceID.Code
		}
	}
	if m.classic == nil {
		return nil, kerr.UnknownMemberID.Code
	}
	return m, 0
}

// classicRejoin arms the deadline of a member told to rejoin, unless one
// is already armed (Kafka's scheduleConsumerGroupJoinTimeoutIfAbsent).
func (g *consumerGroup) classicRejoin(m *consumerMember, now time.Time) {
	if _, ok := g.joinDeadline[m.id]; !ok {
		g.joinDeadline[m.id] = now.Add(time.Duration(m.rebalanceTimeoutMs) * time.Millisecond)
	}
}

// classicSync is Kafka's classicGroupSyncToConsumerGroup.
func (g *consumerGroup) classicSync(now time.Time, s *ConsumerSettings, img TopicImage, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	m, code := g.classicMember(req.MemberID, req.InstanceID)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	switch {
	case req.Generation != m.epoch:
		resp.ErrorCode = kerr.IllegalGeneration.Code
	case req.ProtocolType != nil && *req.ProtocolType != "consumer",
		req.Protocol != nil && *req.Protocol != m.classic.SupportedProtocols[0].Name:
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
	case g.epoch > m.epoch && m.state != MemberUnrevokedPartitions:
		g.classicRejoin(m, now)
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	}
	if resp.ErrorCode != 0 {
		return resp
	}
	delete(g.syncDeadline, m.id)
	g.sessionDeadline[m.id] = now.Add(m.sessionTimeout(s))
	resp.ProtocolType = req.ProtocolType
	resp.Protocol = req.Protocol
	resp.MemberAssignment = g.classicAssignment(m, img)
	return resp
}

// classicAssignment encodes m's assigned partitions as a consumer protocol
// assignment, in the version of the member's first protocol's metadata.
func (g *consumerGroup) classicAssignment(m *consumerMember, img TopicImage) []byte {
	var md []byte
	if m.classic != nil && len(m.classic.SupportedProtocols) > 0 {
		md = m.classic.SupportedProtocols[0].Metadata
	}
	return encodeClassicAssignment(g, m.assigned, md, img)
}

// encodeClassicAssignment encodes a into the consumer protocol; the version
// is that of the subscription md (Kafka's ConsumerProtocol.deserializeVersion),
// at most 3.
func encodeClassicAssignment(g *consumerGroup, a Assignment, md []byte, img TopicImage) []byte {
	out := kmsg.NewConsumerMemberAssignment()
	if len(md) >= 2 {
		out.Version = min(max(int16(binary.BigEndian.Uint16(md)), 0), 3)
	}
	for _, id := range a.topicIDs() {
		name := g.topicNameOf(id, img)
		if name == "" {
			continue
		}
		t := kmsg.NewConsumerMemberAssignmentTopic()
		t.Topic = name
		t.Partitions = slices.Sorted(slices.Values(a[id]))
		out.Topics = append(out.Topics, t)
	}
	slices.SortFunc(out.Topics, func(x, y kmsg.ConsumerMemberAssignmentTopic) int { return cmp.Compare(x.Topic, y.Topic) })
	return out.AppendTo(nil)
}

// waitingOnUnreleased is Kafka's ConsumerGroup.waitingOnUnreleasedPartition:
// m waits for a target partition another member still owns.
func (g *consumerGroup) waitingOnUnreleased(m *consumerMember) bool {
	if m.state != MemberUnreleasedPartitions {
		return false
	}
	for t, ps := range g.target[m.id] {
		for _, p := range ps {
			if !m.assigned.Has(t, p) {
				if o := g.owner(t, p); o != "" && o != m.id {
					return true
				}
			}
		}
	}
	return false
}

// classicHeartbeat is Kafka's classicGroupHeartbeatToConsumerGroup.
func (g *consumerGroup) classicHeartbeat(now time.Time, s *ConsumerSettings, req *kmsg.HeartbeatRequest) int16 {
	m, code := g.classicMember(req.MemberID, req.InstanceID)
	if code != 0 {
		return code
	}
	if req.Generation != m.epoch {
		return kerr.IllegalGeneration.Code
	}
	g.sessionDeadline[m.id] = now.Add(m.sessionTimeout(s))
	if m.epoch < g.epoch || m.state == MemberUnrevokedPartitions ||
		m.state == MemberUnreleasedPartitions && !g.waitingOnUnreleased(m) {
		g.classicRejoin(m, now)
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// classicLeave is Kafka's classicGroupLeaveToConsumerGroup: each named
// classic member is removed; the group epoch is bumped once.
func (g *consumerGroup) classicLeave(img TopicImage, members []kmsg.LeaveGroupRequestMember) []kmsg.LeaveGroupResponseMember {
	var out []kmsg.LeaveGroupResponseMember
	var gone []string
	for _, rm := range members {
		r := kmsg.NewLeaveGroupResponseMember()
		r.MemberID, r.InstanceID = rm.MemberID, rm.InstanceID
		r.ErrorCode = func() int16 {
			var m *consumerMember
			if rm.InstanceID == nil {
				m = g.members[rm.MemberID]
			} else {
				m = g.members[g.static[*rm.InstanceID]]
				if m != nil && rm.MemberID != "" && m.id != rm.MemberID {
					return kerr.FencedInstanceID.Code
				}
			}
			if m == nil || m.classic == nil || slices.Contains(gone, m.id) {
				return kerr.UnknownMemberID.Code
			}
			r.MemberID = m.id
			gone = append(gone, m.id)
			return 0
		}()
		out = append(out, r)
	}
	if len(gone) > 0 {
		g.fenceAll(gone, img)
	}
	return out
}

// imageFor is the topic image a classic request to a consumer group uses:
// the broker's current one if the Coordinator was given a source, else the
// one the last ConsumerGroupHeartbeat brought, else the group's own
// subscription metadata.
func (s *shard) imageFor(cg *consumerGroup) TopicImage {
	if f := s.c.cfg.Images; f != nil {
		if img := f(); img != nil {
			return img
		}
	}
	if cg.img != nil {
		return cg.img
	}
	return subMetaImage{cg}
}

// subMetaImage is a TopicImage of a group's subscription metadata only.
type subMetaImage struct{ g *consumerGroup }

// Version is fixed: this image never changes, and the metadata it is
// made of does not need a refresh against itself.
func (i subMetaImage) Version() int64 { return -2 }

func (i subMetaImage) Topic(name string) (AssignmentTopic, bool) {
	for _, t := range i.g.subMeta {
		if t.Name == name {
			return t, true
		}
	}
	return AssignmentTopic{}, false
}

func (i subMetaImage) TopicByID(id [16]byte) (AssignmentTopic, bool) {
	for _, t := range i.g.subMeta {
		if t.ID == id {
			return t, true
		}
	}
	return AssignmentTopic{}, false
}

func (i subMetaImage) TopicNames() []string {
	names := map[string]bool{}
	for _, t := range i.g.subMeta {
		names[t.Name] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// consumerOp runs op on g's consumer group and writes what it emitted.
// If op fails (returns non-zero) the group is rolled back and nothing is
// written; if the write fails, likewise, and its error code is returned.
func (s *shard) consumerOp(g *group, op func(cg *consumerGroup) int16) (writeErr int16) {
	cg := g.consumer
	snap := cg.clone()
	code := op(cg)
	var recs []Record
	for _, r := range cg.takeRecords() {
		recs = append(recs, r.encode())
	}
	if code != 0 {
		g.consumer = snap
		return 0
	}
	if err := s.write(s.c.ctx, recs); err != nil {
		g.consumer = snap
		return writeCode(err)
	}
	s.armConsumer(g)
	return 0
}

// consumerJoin handles a JoinGroup to a consumer group with members.
func (s *shard) consumerJoin(g *group, cl Client, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	set := s.c.consumerSettings()
	var resp *kmsg.JoinGroupResponse
	if code := s.consumerOp(g, func(cg *consumerGroup) int16 {
		resp = cg.classicJoin(classicJoinIn{now: s.now(), s: &set, img: s.imageFor(cg), client: cl, req: req})
		return resp.ErrorCode
	}); code != 0 {
		r := req.ResponseKind().(*kmsg.JoinGroupResponse)
		r.MemberID = req.MemberID
		r.ErrorCode = code
		return r
	}
	return resp
}

// consumerSync handles a SyncGroup to a consumer group.
func (s *shard) consumerSync(g *group, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	set := s.c.consumerSettings()
	cg := g.consumer
	r := cg.classicSync(s.now(), &set, s.imageFor(cg), req)
	s.armConsumer(g)
	return r
}

// consumerHeartbeat handles a classic Heartbeat to a consumer group.
func (s *shard) consumerHeartbeat(g *group, req *kmsg.HeartbeatRequest) int16 {
	set := s.c.consumerSettings()
	code := g.consumer.classicHeartbeat(s.now(), &set, req)
	s.armConsumer(g)
	return code
}

// consumerLeave handles a LeaveGroup to a consumer group.
func (s *shard) consumerLeave(g *group, members []kmsg.LeaveGroupRequestMember) ([]kmsg.LeaveGroupResponseMember, int16) {
	var out []kmsg.LeaveGroupResponseMember
	if code := s.consumerOp(g, func(cg *consumerGroup) int16 {
		out = cg.classicLeave(s.imageFor(cg), members)
		cg.noteState(s.now())
		return 0
	}); code != 0 {
		return nil, code
	}
	return out, 0
}
