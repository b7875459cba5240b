package group

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The online migration between classic and consumer groups, driven
// through the Coordinator with the fake clock and log: classic clients
// (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and KIP-848 clients
// (ConsumerGroupHeartbeat) in one group, checking after every step that no
// partition is owned twice.

const migTopic = "t" // 4 partitions in migEnv's image

func migEnv(t *testing.T) *env {
	e := &env{t: t, clock: newFakeClock(), log: newMemLog(), set: testSettings(), img: newFakeImage(migTopic, 4)}
	e.start()
	return e
}

// classicClient is a simulated cooperative classic consumer: it reports
// what it owns in its subscription and takes what SyncGroup gives.
type classicClient struct {
	e     *env
	name  string
	id    string
	gen   int32
	owned []int32 // partitions of migTopic
	// session is the session timeout in ms; 0 means joinReq's 10 s.
	session int32
}

func (c *classicClient) joinRequest() *kmsg.JoinGroupRequest {
	r := joinReq(9, "g", c.id, nil)
	if c.session > 0 {
		r.SessionTimeoutMillis = c.session
	}
	md := kmsg.NewConsumerMemberMetadata()
	md.Version = 1
	md.Topics = []string{migTopic}
	md.OwnedPartitions = []kmsg.ConsumerMemberMetadataOwnedPartition{{Topic: migTopic, Partitions: slices.Clone(c.owned)}}
	r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "cooperative-sticky", Metadata: md.AppendTo(nil)}}
	return r
}

// join sends JoinGroup (and the MEMBER_ID_REQUIRED round) and returns the
// channel of the answer, which a classic group may park.
func (c *classicClient) join() <-chan *kmsg.JoinGroupResponse {
	c.e.t.Helper()
	c.memberID()
	return c.e.joinAsync(c.joinRequest())
}

// memberID gets a member id with the MEMBER_ID_REQUIRED round if needed.
func (c *classicClient) memberID() {
	c.e.t.Helper()
	if c.id == "" {
		r := c.e.c.JoinGroup(context.Background(), cl, c.joinRequest())
		if r.ErrorCode != kerr.MemberIDRequired.Code {
			c.e.t.Fatalf("%s: first join: %d", c.name, r.ErrorCode)
		}
		c.id = r.MemberID
	}
}

// took records a join answer.
func (c *classicClient) took(r *kmsg.JoinGroupResponse) {
	c.e.t.Helper()
	if r.ErrorCode != 0 {
		c.e.t.Fatalf("%s: join: error %d", c.name, r.ErrorCode)
	}
	c.id, c.gen = r.MemberID, r.Generation
}

// sync sends SyncGroup (assignments only if leader) and takes the answer.
func (c *classicClient) sync(assign map[string][]int32) *kmsg.SyncGroupResponse {
	c.e.t.Helper()
	req := syncReq("g", c.id, c.gen, nil)
	req.ProtocolType = kmsg.StringPtr("consumer")
	req.Protocol = kmsg.StringPtr("cooperative-sticky")
	for id, ps := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: classicAssign(ps)})
	}
	return wait(c.e.t, c.e.syncAsync(req))
}

func (c *classicClient) tookSync(r *kmsg.SyncGroupResponse) {
	c.e.t.Helper()
	if r.ErrorCode != 0 {
		c.e.t.Fatalf("%s: sync: error %d", c.name, r.ErrorCode)
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(r.MemberAssignment); err != nil {
		c.e.t.Fatalf("%s: sync assignment: %v", c.name, err)
	}
	c.owned = nil
	for _, t := range a.Topics {
		if t.Topic != migTopic {
			c.e.t.Fatalf("%s: assigned topic %q", c.name, t.Topic)
		}
		c.owned = append(c.owned, t.Partitions...)
	}
	slices.Sort(c.owned)
}

// rejoin is what a classic client does on REBALANCE_IN_PROGRESS inside a
// consumer group: JoinGroup (answered at once) then SyncGroup.
func (c *classicClient) rejoin() {
	c.e.t.Helper()
	r := wait(c.e.t, c.join())
	c.took(r)
	if r.LeaderID != "" || len(r.Members) != 0 {
		c.e.t.Fatalf("%s: join to a consumer group names a leader %q / %d members", c.name, r.LeaderID, len(r.Members))
	}
	c.tookSync(c.sync(nil))
}

func (c *classicClient) heartbeat() int16 { return c.e.heartbeat("g", c.id, c.gen, nil) }

// step heartbeats and rejoins when told to.
func (c *classicClient) step() {
	c.e.t.Helper()
	switch code := c.heartbeat(); code {
	case 0:
	case kerr.RebalanceInProgress.Code:
		c.rejoin()
	default:
		c.e.t.Fatalf("%s: heartbeat: error %d", c.name, code)
	}
}

func classicAssign(ps []int32) []byte {
	a := kmsg.NewConsumerMemberAssignment()
	a.Version = 1
	a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: migTopic, Partitions: ps}}
	return a.AppendTo(nil)
}

// newClient is a simulated KIP-848 consumer of migTopic.
type newClient struct {
	e     *env
	id    string
	epoch int32
	owned []int32
}

func (c *newClient) heartbeat() *kmsg.ConsumerGroupHeartbeatResponse {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = "g", c.id, c.epoch
	req.RebalanceTimeoutMillis = -1
	if c.epoch == 0 {
		req.RebalanceTimeoutMillis = 30_000
		req.SubscribedTopicNames = []string{migTopic}
	}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if len(c.owned) > 0 {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: tid(migTopic), Partitions: slices.Clone(c.owned)}}
	}
	resp := c.e.c.ConsumerGroupHeartbeat(context.Background(), cl, 1, req, c.e.img)
	if resp.ErrorCode == 0 {
		c.epoch = resp.MemberEpoch
		if resp.Assignment != nil {
			c.owned = nil
			for _, t := range resp.Assignment.Topics {
				c.owned = append(c.owned, t.Partitions...)
			}
			slices.Sort(c.owned)
		}
	}
	return resp
}

func (c *newClient) mustHeartbeat() {
	c.e.t.Helper()
	if r := c.heartbeat(); r.ErrorCode != 0 {
		c.e.t.Fatalf("%s: ConsumerGroupHeartbeat: %d %v", c.id, r.ErrorCode, deref(r.ErrorMessage))
	}
}

func (c *newClient) leave() *kmsg.ConsumerGroupHeartbeatResponse {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = "g", c.id, epochLeave
	c.owned = nil
	return c.e.c.ConsumerGroupHeartbeat(context.Background(), cl, 1, req, c.e.img)
}

// exclusive fails if a partition is owned by two clients.
func exclusive(t *testing.T, owners map[string][]int32) {
	t.Helper()
	seen := map[int32]string{}
	for name, ps := range owners {
		for _, p := range ps {
			if o, ok := seen[p]; ok {
				t.Fatalf("partition %d owned by %s and %s (%v)", p, o, name, owners)
			}
			seen[p] = name
		}
	}
}

// grp returns the live group g. Its fields may be read only while no
// request is in flight (stateOf otherwise).
func (e *env) grp() *group {
	e.t.Helper()
	s := e.c.shards[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups["g"]
}

// stateOf is the group's state, read under the shard lock.
func (e *env) stateOf() string {
	s := e.c.shards[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups["g"].stateName()
}

// stableClassicPair makes a classic group of two cooperative members a
// (partitions 0, 1) and b (2, 3) at generation 1.
func stableClassicPair(e *env) (*classicClient, *classicClient) {
	e.t.Helper()
	a, b := &classicClient{e: e, name: "a"}, &classicClient{e: e, name: "b"}
	a.memberID()
	b.memberID() // pending, so that the join phase waits for both
	ja := a.join()
	jb := b.join()
	ra, rb := wait(e.t, ja), wait(e.t, jb)
	a.took(ra)
	b.took(rb)
	leader, follower := a, b
	if ra.LeaderID != a.id {
		leader, follower = b, a
	}
	fch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { fch <- follower.sync(nil) }()
	time.Sleep(20 * time.Millisecond) // let the follower park first
	leader.tookSync(leader.sync(map[string][]int32{a.id: {0, 1}, b.id: {2, 3}}))
	follower.tookSync(wait(e.t, fch))
	if g := e.grp(); g.typ != TypeClassic || g.classic.state != stateStable || g.classic.generation != 1 {
		e.t.Fatalf("classic group not stable: %v", g.stateName())
	}
	return a, b
}

// settleMixed steps every client until the group is Stable and the
// partitions are all owned, checking exclusivity after every step.
func settleMixed(t *testing.T, e *env, cs []*classicClient, ns []*newClient) {
	t.Helper()
	owners := func() map[string][]int32 {
		m := map[string][]int32{}
		for _, c := range cs {
			m["classic "+c.name] = c.owned
		}
		for _, n := range ns {
			m["consumer "+n.id] = n.owned
		}
		return m
	}
	for range 30 {
		for _, c := range cs {
			c.step()
			exclusive(t, owners())
		}
		for _, n := range ns {
			n.mustHeartbeat()
			exclusive(t, owners())
		}
		total := 0
		for _, ps := range owners() {
			total += len(ps)
		}
		if g := e.grp(); g.stateName() == cgStateStable && total == 4 {
			return
		}
	}
	t.Fatalf("group did not settle: %s, owners %v", e.grp().stateName(), owners())
}

func TestMigrationUpgradeClassicMembersAndDowngrade(t *testing.T) {
	e := migEnv(t)
	a, b := stableClassicPair(e)
	if code := e.commit(8, "g", a.id, 1, migTopic, 0, 42, "m"); code != 0 {
		t.Fatalf("classic commit: %d", code)
	}

	// The upgrade is atomic: a failed append leaves the classic group.
	c := &newClient{e: e, id: "C"}
	e.log.fail = errors.New("disk on fire")
	if r := c.heartbeat(); r.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("heartbeat with a failing log: %d", r.ErrorCode)
	}
	e.log.fail = nil
	if g := e.grp(); g.typ != TypeClassic || g.classic.state != stateStable {
		t.Fatalf("failed upgrade changed the group: %v %s", g.typ, g.stateName())
	}
	before := len(e.log.records(0))

	// A member switching to the consumer protocol upgrades the group.
	c.mustHeartbeat()
	g := e.grp()
	if g.typ != TypeConsumer {
		t.Fatalf("group type %v after the upgrade", g.typ)
	}
	cg := g.consumer
	for _, x := range []*classicClient{a, b} {
		m := cg.members[x.id]
		if m == nil || m.classic == nil || m.classic.SessionTimeoutMs != 10_000 || m.classic.SupportedProtocols[0].Name != "cooperative-sticky" {
			t.Fatalf("%s after the upgrade: %+v", x.name, m)
		}
		if want := (Assignment{tid(migTopic): x.owned}); m.epoch != 1 || m.state != MemberStable || !m.assigned.Equal(want) {
			t.Fatalf("%s kept %v at epoch %d, had %v", x.name, m.assigned, m.epoch, x.owned)
		}
	}
	if c.epoch != 2 || len(c.owned) != 0 {
		t.Fatalf("C got epoch %d and %v while the classic members own everything", c.epoch, c.owned)
	}
	// The conversion's records: the classic group's tombstone first.
	recs := e.log.records(0)[before:]
	if kind, _, v, _ := DecodeRecord(recs[0].Key, recs[0].Value); kind != "group" || v != nil {
		t.Fatalf("first record of the upgrade: %s %v", kind, v)
	}
	sawClassic := false
	for _, r := range recs[1:] {
		cr, err := decodeCGRecord(r.Key, r.Value)
		if err != nil {
			t.Fatalf("upgrade record: %v", err)
		}
		if cr.Kind == cgKeyMemberMetadata && cr.Classic != nil && cr.MemberID == a.id {
			sawClassic = true
		}
	}
	if !sawClassic {
		t.Fatal("no classic member metadata written for a")
	}
	if got := e.fetched("g", migTopic, 0); got != 42 {
		t.Fatalf("offset after the upgrade: %d", got)
	}
	if l := e.listGroups(); len(l) != 1 || l[0].GroupType != "consumer" {
		t.Fatalf("ListGroups: %+v", l)
	}

	// The classic members are told to rejoin; the one giving up a
	// partition revokes it by rejoining without it, and only then does C
	// get it.
	if code := a.heartbeat(); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("a's heartbeat after the upgrade: %d", code)
	}
	sawUnrevoked := false
	for range 10 {
		for _, x := range []*classicClient{a, b} {
			x.step()
			if m := e.grp().consumer.members[x.id]; m.state == MemberUnrevokedPartitions {
				sawUnrevoked = true
				// Until it rejoins, its heartbeats ask for a rejoin.
				if code := x.heartbeat(); code != kerr.RebalanceInProgress.Code {
					t.Fatalf("%s with partitions to revoke: heartbeat %d", x.name, code)
				}
			}
			exclusive(t, map[string][]int32{"a": a.owned, "b": b.owned, "C": c.owned})
		}
		c.mustHeartbeat()
		exclusive(t, map[string][]int32{"a": a.owned, "b": b.owned, "C": c.owned})
	}
	if !sawUnrevoked {
		t.Fatal("no classic member had to revoke")
	}
	settleMixed(t, e, []*classicClient{a, b}, []*newClient{c})
	if len(c.owned) == 0 || len(a.owned)+len(b.owned)+len(c.owned) != 4 {
		t.Fatalf("after settling: a %v b %v C %v", a.owned, b.owned, c.owned)
	}
	// Classic commits use the member epoch as the generation.
	if code := e.commit(8, "g", a.id, a.gen, migTopic, a.owned[0], 43, ""); code != 0 {
		t.Fatalf("classic member's commit in a consumer group: %d", code)
	}
	if code := e.commit(8, "g", a.id, a.gen-1, migTopic, a.owned[0], 43, ""); code != kerr.IllegalGeneration.Code {
		t.Fatalf("stale classic commit: %d", code)
	}

	// Persistence: a fresh coordinator replaying the log has the same group.
	live := e.grp().consumer.clone()
	e.start()
	checkSameConsumerGroup(t, live, e.grp())

	// b leaves with LeaveGroup; a and C share the partitions.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{MemberID: b.id}}
	if resp := e.c.LeaveGroup(context.Background(), lr); resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 {
		t.Fatalf("classic leave: %+v", resp)
	}
	if _, ok := e.grp().consumer.members[b.id]; ok {
		t.Fatal("b still a member")
	}
	b.owned = nil
	settleMixed(t, e, []*classicClient{a}, []*newClient{c})

	// C, the last member using the consumer protocol, leaves: the group
	// becomes classic again, rebalancing, with a's target as its
	// assignment.
	if r := c.leave(); r.ErrorCode != 0 || r.MemberEpoch != -1 {
		t.Fatalf("C's leave: %+v", r)
	}
	g = e.grp()
	if g.typ != TypeClassic || g.classic.state != statePreparingRebalance || len(g.classic.members) != 1 || g.classic.protocol != "cooperative-sticky" {
		t.Fatalf("after the downgrade: %v %s", g.typ, g.stateName())
	}
	var kept kmsg.ConsumerMemberAssignment
	if err := kept.ReadFrom(g.classic.members[a.id].assignment); err != nil || len(kept.Topics) != 1 || !slices.Equal(kept.Topics[0].Partitions, a.owned) {
		t.Fatalf("a's assignment in the classic group: %+v (%v), owns %v", kept, err, a.owned)
	}
	gen := g.classic.generation
	if code := a.heartbeat(); code != kerr.RebalanceInProgress.Code && code != kerr.IllegalGeneration.Code {
		t.Fatalf("a's heartbeat after the downgrade: %d", code)
	}
	r := wait(t, a.join())
	a.took(r)
	if r.LeaderID != a.id || r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("a's classic rejoin: %+v", r)
	}
	a.tookSync(a.sync(map[string][]int32{a.id: {0, 1, 2, 3}}))
	if g := e.grp(); g.classic.state != stateStable || len(a.owned) != 4 {
		t.Fatalf("classic again: %s, a owns %v", g.stateName(), a.owned)
	}
	if got := e.fetched("g", migTopic, a.owned[0]); got != 43 {
		t.Fatalf("offset after the downgrade: %d", got)
	}
	if l := e.listGroups(); l[0].GroupType != "classic" || l[0].GroupState != "Stable" {
		t.Fatalf("ListGroups: %+v", l)
	}
	// And the log says so too.
	e.start()
	if g := e.grp(); g.typ != TypeClassic || g.classic.generation != gen+1 || len(g.classic.members) != 1 || g.classic.members[a.id] == nil {
		t.Fatalf("replayed after the downgrade: %v %+v", g.typ, g.classic)
	}
}

// checkSameConsumerGroup compares a live consumer group with the one a
// fresh coordinator loaded.
func checkSameConsumerGroup(t *testing.T, live *consumerGroup, g *group) {
	t.Helper()
	if g == nil || g.typ != TypeConsumer {
		t.Fatalf("replayed group: %+v", g)
	}
	r := g.consumer
	if r.epoch != live.epoch || r.assignmentEpoch != live.assignmentEpoch || !slices.Equal(r.subMeta, live.subMeta) {
		t.Fatalf("replayed epochs %d/%d, live %d/%d", r.epoch, r.assignmentEpoch, live.epoch, live.assignmentEpoch)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(r.members)), slices.Sorted(maps.Keys(live.members))) {
		t.Fatalf("replayed members %v, live %v", slices.Sorted(maps.Keys(r.members)), slices.Sorted(maps.Keys(live.members)))
	}
	for id, m := range live.members {
		rm := r.members[id]
		if !rm.sameAssignmentRecord(m) || !rm.sameSubscriptionRecord(m) {
			t.Fatalf("member %s replayed as %+v, live %+v", id, rm, m)
		}
	}
	if !maps.EqualFunc(r.target, live.target, Assignment.Equal) {
		t.Fatalf("replayed target %v, live %v", r.target, live.target)
	}
}

func TestMigrationUpgradeRefused(t *testing.T) {
	e := migEnv(t)
	a, _ := stableClassicPair(e)
	// Rebalancing: a rejoin with new metadata parks the group in
	// PreparingRebalance.
	a.owned = []int32{0}
	ch := a.join()
	for i := 0; e.stateOf() != "PreparingRebalance"; i++ {
		if i > 500 {
			t.Fatalf("the rejoin did not start a rebalance: %s", e.stateOf())
		}
		time.Sleep(time.Millisecond)
	}
	c := &newClient{e: e, id: "C"}
	if r := c.heartbeat(); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("heartbeat to a rebalancing classic group: %d", r.ErrorCode)
	}
	if e.grp().typ != TypeClassic {
		t.Fatal("a rebalancing group was upgraded")
	}
	parked(t, ch)

	// The policy.
	e2 := &env{t: t, clock: newFakeClock(), log: newMemLog(), set: testSettings(), img: newFakeImage(migTopic, 4)}
	e2.set.Consumer.MigrationPolicy = "downgrade"
	e2.start()
	stableClassicPair(e2)
	c2 := &newClient{e: e2, id: "C"}
	if r := c2.heartbeat(); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("heartbeat with upgrades disabled: %d", r.ErrorCode)
	}
	// A heartbeat that is not a join.
	c2.epoch = 3
	if r := c2.heartbeat(); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("non-join heartbeat to a classic group: %d", r.ErrorCode)
	}
}

func TestMigrationClassicJoinToConsumerGroup(t *testing.T) {
	e := migEnv(t)
	c := &newClient{e: e, id: "C"}
	c.mustHeartbeat()
	if len(c.owned) != 4 {
		t.Fatalf("C: %v", c.owned)
	}
	// A classic member joins the consumer group: MEMBER_ID_REQUIRED, then
	// an answer at once, without a leader.
	a := &classicClient{e: e, name: "a"}
	a.rejoin()
	if m := e.grp().consumer.members[a.id]; m == nil || m.classic == nil || m.state != MemberUnreleasedPartitions {
		t.Fatalf("a in the consumer group: %+v", m)
	}
	if len(a.owned) != 0 {
		t.Fatalf("a got partitions C still owns: %v", a.owned)
	}
	// An unsupported protocol, a wrong generation, a wrong protocol name.
	bad := a.joinRequest()
	bad.Protocols[0].Name = "range"
	if r := e.c.JoinGroup(context.Background(), cl, bad); r.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("join with another protocol: %d", r.ErrorCode)
	}
	if code := e.heartbeat("g", a.id, a.gen+1, nil); code != kerr.IllegalGeneration.Code {
		t.Fatalf("heartbeat of another generation: %d", code)
	}
	sr := syncReq("g", a.id, a.gen, nil)
	sr.Protocol = kmsg.StringPtr("range")
	if r := wait(t, e.syncAsync(sr)); r.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("sync with another protocol name: %d", r.ErrorCode)
	}
	if code := e.heartbeat("g", "C", c.epoch, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("classic heartbeat of a consumer-protocol member: %d", code)
	}
	settleMixed(t, e, []*classicClient{a}, []*newClient{c})
	if len(a.owned) != 2 || len(c.owned) != 2 {
		t.Fatalf("a %v C %v", a.owned, c.owned)
	}

	// A classic member that does not sync after its join is fenced after
	// its rebalance timeout; one that does not heartbeat after its session.
	b := &classicClient{e: e, name: "b", session: 60_000}
	r := wait(t, b.join())
	b.took(r)
	if m := e.grp().consumer.members[b.id]; m == nil || m.classic.SessionTimeoutMs != 60_000 {
		t.Fatalf("b: %+v", m)
	}
	e.clock.Advance(29 * time.Second)
	c.mustHeartbeat()
	if _, ok := e.grp().consumer.members[a.id]; ok {
		t.Fatal("a survived its 10 s session")
	}
	if _, ok := e.grp().consumer.members[b.id]; !ok {
		t.Fatal("b fenced before its rebalance timeout")
	}
	e.clock.Advance(2 * time.Second) // b's 30 s rebalance timeout passes
	if _, ok := e.grp().consumer.members[b.id]; ok {
		t.Fatal("b survived without syncing")
	}
	if _, ok := e.grp().consumer.members["C"]; !ok {
		t.Fatal("C was fenced")
	}
}

func TestMigrationDowngradeOnSessionExpiry(t *testing.T) {
	e := migEnv(t)
	a, b := stableClassicPair(e)
	c := &newClient{e: e, id: "C"}
	c.mustHeartbeat()
	settleMixed(t, e, []*classicClient{a, b}, []*newClient{c})
	// C goes silent; the classic members keep heartbeating. After C's 45 s
	// session the group is classic again and rebalances.
	for range 10 {
		e.clock.Advance(5 * time.Second)
		if e.grp().typ == TypeClassic {
			break
		}
		a.step()
		b.step()
	}
	g := e.grp()
	if g.typ != TypeClassic || g.classic.state != statePreparingRebalance || len(g.classic.members) != 2 {
		t.Fatalf("after C's session expired: %v %s", g.typ, g.stateName())
	}
	// Both rejoin; the leader assigns.
	ja, jb := a.join(), b.join()
	ra, rb := wait(t, ja), wait(t, jb)
	a.took(ra)
	b.took(rb)
	if ra.Generation != g.classic.generation || ra.LeaderID == "" {
		t.Fatalf("rejoin after the downgrade: %+v", ra)
	}
	leader, follower := a, b
	if ra.LeaderID != a.id {
		leader, follower = b, a
	}
	fch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { fch <- follower.sync(nil) }()
	time.Sleep(20 * time.Millisecond)
	leader.tookSync(leader.sync(map[string][]int32{a.id: {0, 1}, b.id: {2, 3}}))
	follower.tookSync(wait(t, fch))
	if e.grp().classic.state != stateStable {
		t.Fatalf("state %s", e.grp().stateName())
	}
}
