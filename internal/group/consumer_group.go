package group

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicImage is the cluster's topics as a consumer group sees them. The
// broker hands one to every consumer group call.
type TopicImage interface {
	// Version changes whenever a topic is created, deleted or grows.
	Version() int64
	// Topic looks a topic up by name.
	Topic(name string) (AssignmentTopic, bool)
	// TopicByID looks a topic up by id.
	TopicByID(id [16]byte) (AssignmentTopic, bool)
	// TopicNames lists the topics a regular expression may match, sorted:
	// every topic, internal ones included, as Kafka's
	// refreshRegularExpressions matches every topic name of the image.
	TopicNames() []string
}

// Consumer group states, as ListGroups, DescribeGroups and
// ConsumerGroupDescribe report them.
const (
	cgStateEmpty       = "Empty"
	cgStateAssigning   = "Assigning"
	cgStateReconciling = "Reconciling"
	cgStateStable      = "Stable"
	cgStateDead        = "Dead"
)

// consumerGroup is the state of one KIP-848 group. Every change is a
// record: methods emit records and apply them at once through apply, the
// same function that replays them at load, so memory and log cannot
// disagree. Nothing here blocks, reads the clock or starts timers; time
// comes in as arguments and deadlines go out as fields.
type consumerGroup struct {
	id              string
	epoch           int32 // group epoch
	assignmentEpoch int32 // target assignment epoch
	members         map[string]*consumerMember
	target          map[string]Assignment
	subMeta         []AssignmentTopic // subscribed topics, by name

	// Derived from the above.
	static  map[string]string             // instance id → member id
	owners  map[[16]byte]map[int32]string // partition → owning member
	deleted bool                          // a ConsumerGroupMetadata tombstone was applied

	// Runtime state, not persisted.
	sessionDeadline   map[string]time.Time
	rebalanceDeadline map[string]epochDeadline
	// joinDeadline and syncDeadline bound a classic member's rejoin after
	// it was told REBALANCE_IN_PROGRESS, and its SyncGroup after its
	// JoinGroup, by its rebalance timeout (consumer_classic.go).
	joinDeadline map[string]time.Time
	syncDeadline map[string]time.Time
	metaVersion  int64 // TopicImage version subMeta was computed at; -1 forces a refresh
	regexes      map[string]*regexp.Regexp
	img          TopicImage // the latest, for timers
	timer        *timer     // fires at nextDeadline
	stateTime    time.Time
	lastState    string

	recs []*cgRecord // records emitted by the current operation
}

type epochDeadline struct {
	at    time.Time
	epoch int32
}

func newConsumerGroup(id string, now time.Time) *consumerGroup {
	return &consumerGroup{
		id:                id,
		members:           map[string]*consumerMember{},
		target:            map[string]Assignment{},
		static:            map[string]string{},
		owners:            map[[16]byte]map[int32]string{},
		sessionDeadline:   map[string]time.Time{},
		rebalanceDeadline: map[string]epochDeadline{},
		joinDeadline:      map[string]time.Time{},
		syncDeadline:      map[string]time.Time{},
		regexes:           map[string]*regexp.Regexp{},
		metaVersion:       -1,
		stateTime:         now,
		lastState:         cgStateEmpty,
	}
}

// clone deep-copies the group, to roll back an operation whose records
// could not be written.
func (g *consumerGroup) clone() *consumerGroup {
	c := *g
	c.members = make(map[string]*consumerMember, len(g.members))
	for id, m := range g.members {
		c.members[id] = m.clone()
	}
	c.target = make(map[string]Assignment, len(g.target))
	for id, a := range g.target {
		c.target[id] = a.Clone()
	}
	c.subMeta = slices.Clone(g.subMeta)
	c.static = maps.Clone(g.static)
	c.owners = make(map[[16]byte]map[int32]string, len(g.owners))
	for t, ps := range g.owners {
		c.owners[t] = maps.Clone(ps)
	}
	c.sessionDeadline = maps.Clone(g.sessionDeadline)
	c.rebalanceDeadline = maps.Clone(g.rebalanceDeadline)
	c.joinDeadline = maps.Clone(g.joinDeadline)
	c.syncDeadline = maps.Clone(g.syncDeadline)
	c.regexes = maps.Clone(g.regexes)
	c.recs = nil
	return &c
}

// state is the group state Kafka derives from epochs and members.
func (g *consumerGroup) state() string {
	switch {
	case g.deleted:
		return cgStateDead
	case len(g.members) == 0:
		return cgStateEmpty
	case g.epoch > g.assignmentEpoch:
		return cgStateAssigning
	}
	for _, m := range g.members {
		if !m.reconciledTo(g.assignmentEpoch) {
			return cgStateReconciling
		}
	}
	return cgStateStable
}

// noteState records when the state last changed, for offset expiry of
// empty groups.
func (g *consumerGroup) noteState(now time.Time) {
	if s := g.state(); s != g.lastState {
		g.lastState = s
		g.stateTime = now
	}
}

// emit applies a record and keeps it for the log.
func (g *consumerGroup) emit(r *cgRecord) {
	r.Group = g.id
	g.apply(r)
	g.recs = append(g.recs, r)
}

// takeRecords returns and forgets the records emitted so far.
func (g *consumerGroup) takeRecords() []*cgRecord {
	r := g.recs
	g.recs = nil
	return r
}

// apply changes the group as one record says; it is both the replay of a
// loaded record and the second half of emit.
func (g *consumerGroup) apply(r *cgRecord) {
	switch r.Kind {
	case cgKeyMetadata:
		if r.Tombstone {
			g.deleted = true
			return
		}
		g.deleted = false
		g.epoch = r.Epoch
	case cgKeyPartitionMetadata:
		if r.Tombstone {
			g.subMeta = nil
			return
		}
		g.subMeta = slices.Clone(r.Topics)
		slices.SortFunc(g.subMeta, func(a, b AssignmentTopic) int { return cmp.Compare(a.Name, b.Name) })
	case cgKeyMemberMetadata:
		if r.Tombstone {
			if m, ok := g.members[r.MemberID]; ok {
				g.setOwnership(m, false)
				if m.instanceID != "" && g.static[m.instanceID] == m.id {
					delete(g.static, m.instanceID)
				}
				delete(g.members, r.MemberID)
				delete(g.sessionDeadline, r.MemberID)
				delete(g.rebalanceDeadline, r.MemberID)
				delete(g.joinDeadline, r.MemberID)
				delete(g.syncDeadline, r.MemberID)
			}
			return
		}
		m := g.members[r.MemberID]
		if m == nil {
			m = &consumerMember{id: r.MemberID, assigned: Assignment{}, pending: Assignment{}}
			g.members[r.MemberID] = m
		}
		if m.instanceID != "" && g.static[m.instanceID] == m.id {
			delete(g.static, m.instanceID)
		}
		m.instanceID = deref(r.InstanceID)
		m.rackID = deref(r.RackID)
		m.clientID = r.ClientID
		m.clientHost = r.ClientHost
		m.topics = slices.Clone(r.SubscribedTopicNames)
		slices.Sort(m.topics)
		m.regex = deref(r.SubscribedTopicRegex)
		m.rebalanceTimeoutMs = r.RebalanceTimeoutMs
		m.assignor = deref(r.ServerAssignor)
		m.classic = r.Classic
		if m.instanceID != "" {
			g.static[m.instanceID] = m.id
		}
	case cgKeyTargetMetadata:
		if !r.Tombstone {
			g.assignmentEpoch = r.Epoch
		}
	case cgKeyTargetMember:
		if r.Tombstone {
			delete(g.target, r.MemberID)
		} else {
			g.target[r.MemberID] = r.Target.Clone()
		}
	case cgKeyCurrentAssignment:
		m := g.members[r.MemberID]
		if m == nil {
			if r.Tombstone {
				return
			}
			m = &consumerMember{id: r.MemberID}
			g.members[r.MemberID] = m
		}
		g.setOwnership(m, false)
		if r.Tombstone {
			m.epoch, m.prevEpoch, m.state = epochLeave, epochLeave, MemberStable
			m.assigned, m.pending = Assignment{}, Assignment{}
			return
		}
		m.epoch, m.prevEpoch, m.state = r.MemberEpoch, r.PrevEpoch, memberStateOf(r.State)
		m.assigned, m.pending = r.Assigned.Clone(), r.Pending.Clone()
		if m.assigned == nil {
			m.assigned = Assignment{}
		}
		if m.pending == nil {
			m.pending = Assignment{}
		}
		g.setOwnership(m, true)
	}
}

// setOwnership adds or removes m's partitions in the owner index.
func (g *consumerGroup) setOwnership(m *consumerMember, own bool) {
	for _, a := range []Assignment{m.assigned, m.pending} {
		for t, ps := range a {
			for _, p := range ps {
				if own {
					if g.owners[t] == nil {
						g.owners[t] = map[int32]string{}
					}
					g.owners[t][p] = m.id
				} else if g.owners[t][p] == m.id {
					delete(g.owners[t], p)
					if len(g.owners[t]) == 0 {
						delete(g.owners, t)
					}
				}
			}
		}
	}
}

func (g *consumerGroup) owner(t [16]byte, p int32) string { return g.owners[t][p] }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Record constructors.

func (g *consumerGroup) emitEpoch(epoch int32) {
	g.emit(&cgRecord{Kind: cgKeyMetadata, Epoch: epoch})
}

func (g *consumerGroup) emitMember(m *consumerMember) {
	g.emit(&cgRecord{
		Kind: cgKeyMemberMetadata, MemberID: m.id,
		InstanceID: ptrOrNil(m.instanceID), RackID: ptrOrNil(m.rackID),
		ClientID: m.clientID, ClientHost: m.clientHost,
		SubscribedTopicNames: slices.Clone(m.topics), SubscribedTopicRegex: ptrOrNil(m.regex),
		RebalanceTimeoutMs: m.rebalanceTimeoutMs, ServerAssignor: ptrOrNil(m.assignor),
		Classic: m.classic,
	})
}

func (g *consumerGroup) emitCurrent(m *consumerMember) {
	g.emit(&cgRecord{
		Kind: cgKeyCurrentAssignment, MemberID: m.id,
		MemberEpoch: m.epoch, PrevEpoch: m.prevEpoch, State: int8(m.state),
		Assigned: m.assigned.Clone(), Pending: m.pending.Clone(),
	})
}

func (g *consumerGroup) emitTarget(id string, a Assignment) {
	g.emit(&cgRecord{Kind: cgKeyTargetMember, MemberID: id, Target: a.Clone()})
}

// emitRemoveMember writes the member's tombstones, in Kafka's order.
func (g *consumerGroup) emitRemoveMember(id string) {
	g.emit(&cgRecord{Kind: cgKeyCurrentAssignment, MemberID: id, Tombstone: true})
	g.emit(&cgRecord{Kind: cgKeyTargetMember, MemberID: id, Tombstone: true})
	g.emit(&cgRecord{Kind: cgKeyMemberMetadata, MemberID: id, Tombstone: true})
}

// emitCreate writes the records of a group that exists only in memory
// (new, or converted from a classic group).
func (g *consumerGroup) emitAll() {
	ids := slices.Sorted(maps.Keys(g.members))
	for _, id := range ids {
		g.emitMember(g.members[id])
	}
	g.emit(&cgRecord{Kind: cgKeyPartitionMetadata, Topics: slices.Clone(g.subMeta)})
	g.emitEpoch(g.epoch)
	for _, id := range ids {
		g.emitTarget(id, g.target[id])
	}
	g.emit(&cgRecord{Kind: cgKeyTargetMetadata, Epoch: g.assignmentEpoch})
	for _, id := range ids {
		g.emitCurrent(g.members[id])
	}
}

// emitDelete writes the tombstones that delete the group.
func (g *consumerGroup) emitDelete() {
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		g.emitRemoveMember(id)
	}
	g.emit(&cgRecord{Kind: cgKeyTargetMetadata, Tombstone: true})
	g.emit(&cgRecord{Kind: cgKeyPartitionMetadata, Tombstone: true})
	g.emit(&cgRecord{Kind: cgKeyMetadata, Tombstone: true})
}

// compileRegex compiles a subscription regex with RE2 syntax, as Kafka's
// RE2/J does, matching whole topic names.
func (g *consumerGroup) compileRegex(expr string) (*regexp.Regexp, error) {
	if re, ok := g.regexes[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return nil, err
	}
	g.regexes[expr] = re
	return re, nil
}

// subscribedNames is every topic name the members subscribe to, regexes
// resolved against img; members maps ids to the members to use (so that a
// caller can look at the group as it would be).
func (g *consumerGroup) subscribedNames(members map[string]*consumerMember, img TopicImage) map[string]bool {
	names := map[string]bool{}
	var all []string
	for _, m := range members {
		for _, t := range m.topics {
			names[t] = true
		}
		if m.regex == "" {
			continue
		}
		re, err := g.compileRegex(m.regex)
		if err != nil {
			continue
		}
		if all == nil {
			all = img.TopicNames()
		}
		for _, t := range all {
			if re.MatchString(t) {
				names[t] = true
			}
		}
	}
	return names
}

// memberTopics is the topic names one member subscribes to, regex resolved.
func (g *consumerGroup) memberTopics(m *consumerMember) []string {
	if m.regex == "" {
		return m.topics
	}
	out := slices.Clone(m.topics)
	if re, err := g.compileRegex(m.regex); err == nil {
		for _, t := range g.subMeta {
			if re.MatchString(t.Name) {
				out = append(out, t.Name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// computeSubMeta is the subscription metadata for the given names.
func computeSubMeta(names map[string]bool, img TopicImage) []AssignmentTopic {
	var out []AssignmentTopic
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if t, ok := img.Topic(n); ok {
			out = append(out, t)
		}
	}
	return out
}

// refreshSubscriptions recomputes the subscription metadata and bumps the
// group epoch if it or a subscription changed: a new topic matching a
// regex, a topic created, deleted or grown. It returns whether it bumped.
func (g *consumerGroup) refreshSubscriptions(img TopicImage, subscriptionChanged bool) bool {
	if !subscriptionChanged && g.metaVersion == img.Version() {
		return false
	}
	g.metaVersion = img.Version()
	meta := computeSubMeta(g.subscribedNames(g.members, img), img)
	bump := subscriptionChanged
	if !slices.Equal(meta, g.subMeta) {
		g.emit(&cgRecord{Kind: cgKeyPartitionMetadata, Topics: meta})
		bump = true
	}
	if bump {
		g.emitEpoch(g.epoch + 1)
	}
	return bump
}

// preferredAssignor is the assignor most members ask for; ties go to the
// one configured first.
func (g *consumerGroup) preferredAssignor(s *ConsumerSettings) string {
	counts := map[string]int{}
	for _, m := range g.members {
		if m.assignor != "" {
			counts[m.assignor]++
		}
	}
	best, n := s.Assignors[0], 0
	for _, a := range s.Assignors {
		if counts[a] > n {
			best, n = a, counts[a]
		}
	}
	return best
}

// updateTarget computes a new target assignment at the group epoch and
// emits the members whose target changed.
func (g *consumerGroup) updateTarget(s *ConsumerSettings) error {
	assign, _ := LookupAssignor(g.preferredAssignor(s))
	spec := AssignmentSpec{Topics: g.subMeta}
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		spec.Members = append(spec.Members, AssignmentMember{
			MemberID: id, InstanceID: m.instanceID, RackID: m.rackID,
			Topics: g.memberTopics(m), Current: g.target[id],
		})
	}
	out, err := assign(spec)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(out)) {
		if old, ok := g.target[id]; !ok || !old.Equal(out[id]) {
			g.emitTarget(id, out[id])
		}
	}
	g.emit(&cgRecord{Kind: cgKeyTargetMetadata, Epoch: g.epoch})
	return nil
}

// reconcileMember moves m towards its target and emits the change. It
// returns false if m must be fenced.
func (g *consumerGroup) reconcileMember(m *consumerMember, owned Assignment, subscriptionChanged bool, now time.Time) bool {
	if m.reconciledTo(g.assignmentEpoch) && !subscriptionChanged {
		return true
	}
	subscribed := map[[16]byte]bool{}
	for _, n := range g.memberTopics(m) {
		for _, t := range g.subMeta {
			if t.Name == n {
				subscribed[t.ID] = true
			}
		}
	}
	next, ok := reconcile(m, reconcileInput{
		targetEpoch: g.assignmentEpoch, target: g.target[m.id], owner: g.owner,
		owned: owned, subscriptionChanged: subscriptionChanged, subscribed: subscribed,
	})
	if !ok {
		return false
	}
	if next == m || next.sameAssignmentRecord(m) {
		return true
	}
	g.emitCurrent(next)
	if next.state == MemberUnrevokedPartitions && next.classic == nil {
		g.rebalanceDeadline[m.id] = epochDeadline{at: now.Add(time.Duration(next.rebalanceTimeoutMs) * time.Millisecond), epoch: next.epoch}
	} else {
		delete(g.rebalanceDeadline, m.id)
	}
	return true
}

// fence removes a member: its tombstones, new subscription metadata, and
// a group epoch bump so that its partitions are reassigned.
func (g *consumerGroup) fence(id string, img TopicImage) { g.fenceAll([]string{id}, img) }

// fenceAll removes several members with one epoch bump (a LeaveGroup of
// several classic members).
func (g *consumerGroup) fenceAll(ids []string, img TopicImage) {
	for _, id := range ids {
		g.emitRemoveMember(id)
	}
	if img != nil {
		meta := computeSubMeta(g.subscribedNames(g.members, img), img)
		if !slices.Equal(meta, g.subMeta) {
			g.emit(&cgRecord{Kind: cgKeyPartitionMetadata, Topics: meta})
		}
		g.metaVersion = img.Version()
	}
	g.emitEpoch(g.epoch + 1)
}

// newConsumerMemberID is Kafka's Uuid.randomUuid().toString(): 16 random
// bytes in unpadded URL-safe base64.
func newConsumerMemberID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// heartbeatError is a Kafka error with the message Kafka sends with it.
type heartbeatError struct {
	code *kerr.Error
	msg  string
}

func hbErr(code *kerr.Error, format string, args ...any) *heartbeatError {
	return &heartbeatError{code: code, msg: fmt.Sprintf(format, args...)}
}

// validateHeartbeat checks a ConsumerGroupHeartbeat as Kafka 4's
// throwIfConsumerGroupHeartbeatRequestIsInvalid does.
func validateHeartbeat(s *ConsumerSettings, version int16, req *kmsg.ConsumerGroupHeartbeatRequest) *heartbeatError {
	empty := func(p *string) bool { return p != nil && *p == "" }
	if (version >= 1 || req.MemberEpoch > 0 || req.MemberEpoch == epochLeave) && req.MemberID == "" {
		return hbErr(kerr.InvalidRequest, "MemberId can't be empty.")
	}
	if req.Group == "" {
		return hbErr(kerr.InvalidRequest, "GroupId can't be empty.")
	}
	if empty(req.InstanceID) {
		return hbErr(kerr.InvalidRequest, "InstanceId can't be empty.")
	}
	if empty(req.RackID) {
		return hbErr(kerr.InvalidRequest, "RackId can't be empty.")
	}
	switch {
	case req.MemberEpoch == epochJoin:
		if req.RebalanceTimeoutMillis == -1 {
			return hbErr(kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request.")
		}
		if req.Topics == nil || len(req.Topics) > 0 {
			return hbErr(kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining.")
		}
		if req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil {
			return hbErr(kerr.InvalidRequest, "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case req.MemberEpoch == epochStaticLeave:
		if req.InstanceID == nil {
			return hbErr(kerr.InvalidRequest, "InstanceId can't be null.")
		}
	case req.MemberEpoch < epochStaticLeave:
		return hbErr(kerr.InvalidRequest, "MemberEpoch is invalid.")
	}
	if req.ServerAssignor != nil && !s.supportsAssignor(*req.ServerAssignor) {
		return hbErr(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %v.", *req.ServerAssignor, s.Assignors)
	}
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != "" {
		if _, err := regexp.Compile(*req.SubscribedTopicRegex); err != nil {
			return hbErr(kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", *req.SubscribedTopicRegex, err)
		}
	}
	return nil
}

// heartbeatIn is one validated ConsumerGroupHeartbeat and its context.
type heartbeatIn struct {
	now    time.Time
	s      *ConsumerSettings
	img    TopicImage
	client Client
	req    *kmsg.ConsumerGroupHeartbeatRequest
}

// heartbeat handles a ConsumerGroupHeartbeat that validateHeartbeat
// accepted: a leave (epoch -1 or -2) or a join / heartbeat, as Kafka's
// GroupMetadataManager.consumerGroupHeartbeat. It emits records and
// returns the response.
func (g *consumerGroup) heartbeat(in heartbeatIn) (*kmsg.ConsumerGroupHeartbeatResponse, *heartbeatError) {
	req := in.req
	if req.MemberEpoch == epochLeave || req.MemberEpoch == epochStaticLeave {
		return g.leave(in)
	}
	memberID := req.MemberID
	if memberID == "" {
		memberID = newConsumerMemberID() // v0 joins get a server-made id
	}
	joining := req.MemberEpoch == epochJoin
	owned := ownedPartitions(req.Topics)

	// Find the member, or make it.
	var old *consumerMember // nil for a new member
	replaced := ""          // the static member this one replaces
	if req.InstanceID == nil {
		old = g.members[memberID]
		if old == nil && !joining {
			return nil, hbErr(kerr.UnknownMemberID, "Member %s is not a member of group %s.", memberID, g.id)
		}
	} else {
		inst := *req.InstanceID
		existing := g.members[g.static[inst]]
		switch {
		case joining && existing == nil:
			old = g.members[memberID]
		case joining && existing.id == memberID:
			old = existing
		case joining:
			if existing.classic == nil && existing.epoch != epochStaticLeave {
				return nil, hbErr(kerr.UnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", memberID, inst, existing.id)
			}
			replaced = existing.id
		case existing == nil:
			return nil, hbErr(kerr.UnknownMemberID, "Instance id %s is unknown.", inst)
		case existing.id != memberID:
			return nil, hbErr(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", memberID, inst, existing.id)
		default:
			old = existing
		}
	}
	if old != nil && !joining {
		if err := checkMemberEpoch(old, req.MemberEpoch, owned); err != nil {
			return nil, err
		}
	}
	if old == nil && replaced == "" && len(g.members) >= in.s.MaxSize {
		return nil, hbErr(kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", in.s.MaxSize)
	}

	// 1. The member's subscription.
	var m *consumerMember
	switch {
	case replaced != "":
		// Kafka's replaceMember: the new member id takes over the old
		// member's subscription, target and partitions, at epoch 0.
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
	updated := m.clone()
	if req.InstanceID != nil {
		updated.instanceID = *req.InstanceID
	}
	if req.RackID != nil {
		updated.rackID = *req.RackID
	}
	if req.RebalanceTimeoutMillis != -1 {
		updated.rebalanceTimeoutMs = req.RebalanceTimeoutMillis
	}
	if req.ServerAssignor != nil {
		updated.assignor = *req.ServerAssignor
	}
	if req.SubscribedTopicNames != nil {
		updated.topics = slices.Clone(req.SubscribedTopicNames)
		slices.Sort(updated.topics)
		updated.topics = slices.Compact(updated.topics)
	}
	if req.SubscribedTopicRegex != nil {
		updated.regex = *req.SubscribedTopicRegex
	}
	updated.clientID, updated.clientHost = in.client.ID, in.client.Host
	updated.classic = nil
	isNew := g.members[memberID] == nil
	subscriptionChanged := isNew || !slices.Equal(updated.topics, m.topics) || updated.regex != m.regex
	if isNew || !updated.sameSubscriptionRecord(m) {
		g.emitMember(updated)
	}
	if isNew {
		// A new member starts at epoch 0 with nothing, as Kafka's does.
		g.emitCurrent(&consumerMember{id: memberID, assigned: Assignment{}, pending: Assignment{}})
	}
	before := g.members[memberID].clone()
	if isNew {
		before.assigned = nil
	}

	// 2. Subscription metadata and group epoch; then the target.
	g.refreshSubscriptions(in.img, subscriptionChanged)
	if g.epoch > g.assignmentEpoch {
		if err := g.updateTarget(in.s); err != nil {
			return nil, hbErr(kerr.UnknownServerError, "Failed to compute a new target assignment for epoch %d: %v.", g.epoch, err)
		}
	}

	// 3. Reconcile.
	cur := g.members[memberID]
	if !g.reconcileMember(cur, owned, subscriptionChanged && !isNew, in.now) {
		return nil, hbErr(kerr.FencedMemberEpoch, "The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.")
	}
	cur = g.members[memberID]
	g.sessionDeadline[memberID] = in.now.Add(in.s.SessionTimeout)
	g.noteState(in.now)

	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.MemberID = kmsg.StringPtr(memberID)
	resp.MemberEpoch = cur.epoch
	resp.HeartbeatIntervalMillis = int32(in.s.HeartbeatInterval / time.Millisecond)
	full := joining || (req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil)
	if full || !before.assigned.Equal(cur.assigned) {
		resp.Assignment = heartbeatAssignment(cur.assigned)
	}
	return resp, nil
}

// checkMemberEpoch is Kafka's throwIfConsumerGroupMemberEpochIsInvalid: a
// member may heartbeat with its epoch, or with its previous epoch if it
// owns no more than it is assigned (its last response was lost).
func checkMemberEpoch(m *consumerMember, epoch int32, owned Assignment) *heartbeatError {
	if epoch > m.epoch {
		return hbErr(kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.epoch)
	}
	if epoch < m.epoch {
		if epoch != m.prevEpoch || owned == nil || assignMinus(owned, m.assigned).Count() > 0 {
			return hbErr(kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.epoch)
		}
	}
	return nil
}

func heartbeatAssignment(a Assignment) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	out := &kmsg.ConsumerGroupHeartbeatResponseAssignment{}
	for _, t := range a.topicIDs() {
		rt := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		rt.TopicID = t
		rt.Partitions = slices.Clone(a[t])
		out.Topics = append(out.Topics, rt)
	}
	if out.Topics == nil {
		out.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	}
	return out
}

// leave handles epochs -1 (leave) and -2 (a static member leaving for a
// while, keeping its assignment until its session times out).
func (g *consumerGroup) leave(in heartbeatIn) (*kmsg.ConsumerGroupHeartbeatResponse, *heartbeatError) {
	req := in.req
	var m *consumerMember
	if req.InstanceID == nil {
		m = g.members[req.MemberID]
		if m == nil {
			return nil, hbErr(kerr.UnknownMemberID, "Member %s is not a member of group %s.", req.MemberID, g.id)
		}
	} else {
		m = g.members[g.static[*req.InstanceID]]
		if m == nil {
			return nil, hbErr(kerr.UnknownMemberID, "Instance id %s is unknown.", *req.InstanceID)
		}
		if m.id != req.MemberID {
			return nil, hbErr(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", req.MemberID, *req.InstanceID, m.id)
		}
	}
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.MemberID = kmsg.StringPtr(m.id)
	resp.MemberEpoch = req.MemberEpoch
	if req.MemberEpoch == epochStaticLeave {
		n := m.clone()
		n.epoch = epochStaticLeave
		n.pending = Assignment{}
		g.emitCurrent(n)
		delete(g.rebalanceDeadline, m.id)
	} else {
		g.fence(m.id, in.img)
	}
	g.noteState(in.now)
	return resp, nil
}

// expire fences the members whose session ended, and those that did not
// revoke partitions within their rebalance timeout. It returns whether it
// fenced anyone.
func (g *consumerGroup) expire(now time.Time, img TopicImage) bool {
	fence := g.due(now)
	for _, id := range fence {
		g.expireMember(id, img)
	}
	g.noteState(now)
	return len(fence) > 0
}

// due lists, sorted, the members whose session ended, that did not revoke
// partitions within their rebalance timeout, or (classic members) that did
// not rejoin or sync within it.
func (g *consumerGroup) due(now time.Time) []string {
	var fence []string
	add := func(id string) {
		if !slices.Contains(fence, id) {
			fence = append(fence, id)
		}
	}
	for id, at := range g.sessionDeadline {
		if !now.Before(at) {
			add(id)
		}
	}
	for id, d := range g.rebalanceDeadline {
		if m := g.members[id]; m != nil && m.epoch == d.epoch && !now.Before(d.at) {
			add(id)
		}
	}
	for _, dl := range []map[string]time.Time{g.joinDeadline, g.syncDeadline} {
		for id, at := range dl {
			if !now.Before(at) {
				add(id)
			}
		}
	}
	slices.Sort(fence)
	return fence
}

// expireMember fences one member found by due and forgets its deadlines.
func (g *consumerGroup) expireMember(id string, img TopicImage) {
	if _, ok := g.members[id]; ok {
		g.fence(id, img)
	}
	g.forgetDeadlines(id)
}

func (g *consumerGroup) forgetDeadlines(id string) {
	delete(g.sessionDeadline, id)
	delete(g.rebalanceDeadline, id)
	delete(g.joinDeadline, id)
	delete(g.syncDeadline, id)
}

// nextDeadline is the earliest session or rebalance deadline, zero if none.
func (g *consumerGroup) nextDeadline() time.Time {
	var next time.Time
	for _, at := range g.sessionDeadline {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	for _, d := range g.rebalanceDeadline {
		if next.IsZero() || d.at.Before(next) {
			next = d.at
		}
	}
	for _, dl := range []map[string]time.Time{g.joinDeadline, g.syncDeadline} {
		for _, at := range dl {
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	return next
}

// afterLoad arms every member's session, as Kafka does when it loads a
// group: members that do not come back within a session are fenced.
func (g *consumerGroup) afterLoad(now time.Time, s *ConsumerSettings) {
	for id, m := range g.members {
		g.sessionDeadline[id] = now.Add(m.sessionTimeout(s))
	}
	g.lastState = g.state()
	g.stateTime = now
}

// offsetCommitError is Kafka's ConsumerGroup.validateOffsetCommit, as an
// error code (0 if the commit may go ahead).
func (g *consumerGroup) offsetCommitError(memberID string, memberEpoch int32, transactional bool, version int16) int16 {
	if memberEpoch < 0 && len(g.members) == 0 {
		return 0 // admin client or a consumer without group management
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	if !transactional && m.classic == nil && version < 9 {
		return kerr.UnsupportedVersion.Code
	}
	if memberEpoch != m.epoch {
		if m.classic != nil {
			return kerr.IllegalGeneration.Code
		}
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// offsetFetchError is Kafka's ConsumerGroup.validateOffsetFetch.
func (g *consumerGroup) offsetFetchError(memberID *string, memberEpoch int32) int16 {
	if (memberID == nil || *memberID == "") && memberEpoch < 0 {
		return 0
	}
	m := g.members[deref(memberID)]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	if memberEpoch != m.epoch {
		if m.classic != nil {
			return kerr.IllegalGeneration.Code
		}
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// subscribedTopics is the set of topic names live members subscribe to.
func (g *consumerGroup) subscribedTopics() map[string]bool {
	if len(g.members) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, m := range g.members {
		for _, t := range g.memberTopics(m) {
			out[t] = true
		}
	}
	return out
}

// describe is the group as ConsumerGroupDescribe reports it.
func (g *consumerGroup) describe(s *ConsumerSettings, img TopicImage) kmsg.ConsumerGroupDescribeResponseGroup {
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = g.id
	d.State = g.state()
	d.Epoch = g.epoch
	d.AssignmentEpoch = g.assignmentEpoch
	d.AssignorName = g.preferredAssignor(s)
	d.AuthorizedOperations = -2147483648
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = ptrOrNil(m.instanceID)
		dm.RackID = ptrOrNil(m.rackID)
		dm.MemberEpoch = m.epoch
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.SubscribedTopics = slices.Clone(m.topics)
		if dm.SubscribedTopics == nil {
			dm.SubscribedTopics = []string{}
		}
		dm.SubscribedTopicRegex = ptrOrNil(m.regex)
		dm.Assignment = describeAssignment(m.assigned, img)
		dm.TargetAssignment = describeAssignment(g.target[id], img)
		dm.MemberType = 1 // consumer
		if m.classic != nil {
			dm.MemberType = 0 // classic
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

func describeAssignment(a Assignment, img TopicImage) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, t := range a.topicIDs() {
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID = t
		if img != nil {
			if ti, ok := img.TopicByID(t); ok {
				tp.Topic = ti.Name
			}
		}
		tp.Partitions = slices.Clone(a[t])
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
