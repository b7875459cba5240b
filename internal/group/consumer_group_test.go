package group

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeImage is a TopicImage tests edit by hand.
type fakeImage struct {
	version int64
	topics  map[string]AssignmentTopic
}

func newFakeImage(spec ...any) *fakeImage {
	im := &fakeImage{version: 1, topics: map[string]AssignmentTopic{}}
	for _, t := range topics(spec...) {
		im.topics[t.Name] = t
	}
	return im
}

func (f *fakeImage) add(name string, partitions int) {
	f.topics[name] = AssignmentTopic{ID: tid(name), Name: name, Partitions: int32(partitions)}
	f.version++
}

func (f *fakeImage) Version() int64 { return f.version }
func (f *fakeImage) Topic(n string) (AssignmentTopic, bool) {
	t, ok := f.topics[n]
	return t, ok
}

func (f *fakeImage) TopicByID(id [16]byte) (AssignmentTopic, bool) {
	for _, t := range f.topics {
		if t.ID == id {
			return t, true
		}
	}
	return AssignmentTopic{}, false
}
func (f *fakeImage) TopicNames() []string { return slices.Sorted(maps.Keys(f.topics)) }

// cgHarness drives one consumerGroup by hand. After every operation it
// encodes the emitted records, decodes them, replays the whole log into a
// fresh group and checks that it equals the live one: persistence is
// tested on every step.
type cgHarness struct {
	t   *testing.T
	g   *consumerGroup
	s   ConsumerSettings
	img *fakeImage
	now time.Time
	log []Record
}

func newHarness(t *testing.T, img *fakeImage) *cgHarness {
	now := time.Unix(1_700_000_000, 0)
	return &cgHarness{t: t, g: newConsumerGroup("g", now), s: ConsumerSettings{}.Defaults(), img: img, now: now}
}

func (h *cgHarness) heartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) (*kmsg.ConsumerGroupHeartbeatResponse, *heartbeatError) {
	h.t.Helper()
	req.Group = "g"
	if err := validateHeartbeat(&h.s, 1, req); err != nil {
		return nil, err
	}
	resp, err := h.g.heartbeat(heartbeatIn{now: h.now, s: &h.s, img: h.img, client: Client{ID: "c", Host: "/127.0.0.1"}, req: req})
	h.persist()
	return resp, err
}

func (h *cgHarness) expire() {
	h.t.Helper()
	h.g.expire(h.now, h.img)
	h.persist()
}

func (h *cgHarness) persist() {
	h.t.Helper()
	for _, r := range h.g.takeRecords() {
		h.log = append(h.log, r.encode())
	}
	replayed := newConsumerGroup("g", h.now)
	for _, rec := range h.log {
		r, err := decodeCGRecord(rec.Key, rec.Value)
		if err != nil {
			h.t.Fatalf("decoding record: %v", err)
		}
		if r.Group != "g" {
			h.t.Fatalf("record of group %q", r.Group)
		}
		replayed.apply(r)
	}
	g := h.g
	if replayed.epoch != g.epoch || replayed.assignmentEpoch != g.assignmentEpoch || !slices.Equal(replayed.subMeta, g.subMeta) {
		h.t.Fatalf("replay: epochs %d/%d meta %v, live %d/%d meta %v", replayed.epoch, replayed.assignmentEpoch, replayed.subMeta, g.epoch, g.assignmentEpoch, g.subMeta)
	}
	if len(replayed.members) != len(g.members) || !maps.Equal(replayed.static, g.static) {
		h.t.Fatalf("replay: members %v static %v, live %v %v", slices.Sorted(maps.Keys(replayed.members)), replayed.static, slices.Sorted(maps.Keys(g.members)), g.static)
	}
	for id, m := range g.members {
		r := replayed.members[id]
		if r == nil || !r.sameAssignmentRecord(m) || !r.sameSubscriptionRecord(m) {
			h.t.Fatalf("replay: member %s is %+v, live %+v", id, r, m)
		}
	}
	if !maps.EqualFunc(replayed.target, g.target, Assignment.Equal) {
		h.t.Fatalf("replay: target %v, live %v", replayed.target, g.target)
	}
	if !maps.EqualFunc(replayed.owners, g.owners, maps.Equal) {
		h.t.Fatalf("replay: owners differ")
	}
}

// client is a simulated KIP-848 consumer: it reports what it owns and takes
// what the coordinator assigns. With holdRevocations it keeps partitions
// the coordinator revokes until released.
type client struct {
	h               *cgHarness
	id, instance    string
	epoch           int32
	owned           Assignment
	topics          []string
	regex           *string
	holdRevocations bool
	held            Assignment
}

func (h *cgHarness) newClient(id string, topics ...string) *client {
	return &client{h: h, id: id, topics: topics, owned: Assignment{}}
}

func (c *client) request() *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.MemberID = c.id
	req.MemberEpoch = c.epoch
	if c.instance != "" {
		req.InstanceID = kmsg.StringPtr(c.instance)
	}
	if c.epoch == 0 {
		req.RebalanceTimeoutMillis = 60000
		if c.regex != nil {
			req.SubscribedTopicRegex = c.regex
		} else {
			req.SubscribedTopicNames = c.topics
		}
	}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for _, t := range union(c.owned, c.held).topicIDs() {
		rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		rt.TopicID = t
		rt.Partitions = union(c.owned, c.held)[t]
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func union(a, b Assignment) Assignment { return assignUnion(a, b) }

func (c *client) heartbeat() *heartbeatError {
	c.h.t.Helper()
	resp, err := c.h.heartbeat(c.request())
	if err != nil {
		return err
	}
	c.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		next := Assignment{}
		for _, t := range resp.Assignment.Topics {
			for _, p := range t.Partitions {
				next.add(t.TopicID, p)
			}
		}
		if c.holdRevocations {
			c.held = union(c.held, assignMinus(c.owned, next))
		}
		c.owned = next
	}
	return nil
}

func (c *client) mustHeartbeat() {
	c.h.t.Helper()
	if err := c.heartbeat(); err != nil {
		c.h.t.Fatalf("%s: heartbeat: %v %s", c.id, err.code, err.msg)
	}
}

// checkExclusive verifies that no partition is owned by two clients.
func checkExclusive(t *testing.T, cs ...*client) {
	t.Helper()
	seen := map[[16]byte]map[int32]string{}
	for _, c := range cs {
		for tp, ps := range union(c.owned, c.held) {
			for _, p := range ps {
				if seen[tp] == nil {
					seen[tp] = map[int32]string{}
				}
				if o, ok := seen[tp][p]; ok {
					t.Fatalf("partition %x/%d owned by %s and %s", tp[:4], p, o, c.id)
				}
				seen[tp][p] = c.id
			}
		}
	}
}

// settle heartbeats every client round robin until nothing changes.
func settle(t *testing.T, cs ...*client) {
	t.Helper()
	for range 20 {
		before := make([]string, len(cs))
		for i, c := range cs {
			before[i] = c.owned.String()
			c.mustHeartbeat()
			checkExclusive(t, cs...)
		}
		same := true
		for i, c := range cs {
			if before[i] != c.owned.String() {
				same = false
			}
		}
		if same && cs[0].h.g.state() == cgStateStable {
			return
		}
	}
	t.Fatalf("group did not settle: state %s", cs[0].h.g.state())
}

func TestConsumerJoinRevokeAndAssign(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 6))
	a := h.newClient("A", "a")
	a.mustHeartbeat()
	if a.epoch != 1 || a.owned.Count() != 6 || h.g.state() != cgStateStable {
		t.Fatalf("first member: epoch %d owns %v state %s", a.epoch, a.owned, h.g.state())
	}

	// B joins: it gets nothing until A revokes.
	b := h.newClient("B", "a")
	b.mustHeartbeat()
	if b.epoch != 2 || b.owned.Count() != 0 || h.g.members["B"].state != MemberUnreleasedPartitions {
		t.Fatalf("B: epoch %d owns %v state %v", b.epoch, b.owned, h.g.members["B"].state)
	}
	if h.g.epoch != 2 || h.g.state() != cgStateReconciling {
		t.Fatalf("group epoch %d state %s", h.g.epoch, h.g.state())
	}
	// A is asked to revoke 3 and stays at epoch 1 until it confirms.
	a.holdRevocations = true
	a.mustHeartbeat()
	if a.epoch != 1 || a.owned.Count() != 3 || h.g.members["A"].state != MemberUnrevokedPartitions {
		t.Fatalf("A: epoch %d owns %v state %v", a.epoch, a.owned, h.g.members["A"].state)
	}
	// B still cannot have them: A has not confirmed.
	b.mustHeartbeat()
	checkExclusive(t, a, b)
	if b.owned.Count() != 0 {
		t.Fatalf("B got partitions A still owns: %v", b.owned)
	}
	// A confirms; it moves to epoch 2; then B gets the rest.
	a.held = nil
	a.holdRevocations = false
	a.mustHeartbeat()
	if a.epoch != 2 || h.g.members["A"].state != MemberStable {
		t.Fatalf("A after revoking: epoch %d state %v", a.epoch, h.g.members["A"].state)
	}
	b.mustHeartbeat()
	if b.owned.Count() != 3 || h.g.state() != cgStateStable {
		t.Fatalf("B: %v state %s", b.owned, h.g.state())
	}

	// A third member: everyone ends with 2 and no partition is ever
	// owned twice.
	c := h.newClient("C", "a")
	c.mustHeartbeat()
	settle(t, a, b, c)
	for _, x := range []*client{a, b, c} {
		if x.owned.Count() != 2 || x.epoch != 3 {
			t.Fatalf("%s: epoch %d owns %v", x.id, x.epoch, x.owned)
		}
	}
}

func TestConsumerLeave(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 4))
	a, b := h.newClient("A", "a"), h.newClient("B", "a")
	a.mustHeartbeat()
	b.mustHeartbeat()
	settle(t, a, b)

	resp, err := h.heartbeat(&kmsg.ConsumerGroupHeartbeatRequest{MemberID: "B", MemberEpoch: -1})
	if err != nil || resp.MemberEpoch != -1 {
		t.Fatalf("leave: %v %v", resp, err)
	}
	if _, ok := h.g.members["B"]; ok {
		t.Fatal("B still a member")
	}
	a.mustHeartbeat()
	if a.owned.Count() != 4 {
		t.Fatalf("A did not take B's partitions: %v", a.owned)
	}
	// B is gone: its heartbeats are refused.
	b.epoch = 2
	if err := b.heartbeat(); err == nil || err.code != kerr.UnknownMemberID {
		t.Fatalf("heartbeat after leave: %v", err)
	}
	// Everyone leaves: the group is empty and keeps its epoch.
	if _, err := h.heartbeat(&kmsg.ConsumerGroupHeartbeatRequest{MemberID: "A", MemberEpoch: -1}); err != nil {
		t.Fatal(err)
	}
	if h.g.state() != cgStateEmpty || h.g.epoch != 4 {
		t.Fatalf("state %s epoch %d", h.g.state(), h.g.epoch)
	}
}

func TestConsumerEpochFencing(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 4))
	a := h.newClient("A", "a")
	a.mustHeartbeat()
	b := h.newClient("B", "a")
	b.mustHeartbeat()
	settle(t, a, b)
	// A's epoch is 2, previous 1.

	stale := *a
	stale.epoch = 3
	if err := stale.heartbeat(); err == nil || err.code != kerr.FencedMemberEpoch {
		t.Fatalf("epoch ahead: %v", err)
	}
	stale.epoch = 1 // the previous epoch, owning a subset: the lost-response case
	if err := stale.heartbeat(); err != nil {
		t.Fatalf("previous epoch with owned ⊆ assigned refused: %v", err)
	}
	stale.epoch = 1
	stale.owned = Assignment{tid("a"): {0, 1, 2, 3}}
	if err := stale.heartbeat(); err == nil || err.code != kerr.FencedMemberEpoch {
		t.Fatalf("previous epoch owning more than assigned: %v", err)
	}
	stale.epoch = 0
	stale.owned = Assignment{}
	stale.mustHeartbeat() // a fenced member rejoins with its id and epoch 0
	if stale.epoch != 2 {
		t.Fatalf("rejoin got epoch %d", stale.epoch)
	}

	u := h.newClient("U", "a")
	u.epoch = 5
	if err := u.heartbeat(); err == nil || err.code != kerr.UnknownMemberID {
		t.Fatalf("unknown member: %v", err)
	}
}

func TestConsumerStaticMembers(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 4))
	a := h.newClient("A1", "a")
	a.instance = "ia"
	b := h.newClient("B", "a")
	a.mustHeartbeat()
	b.mustHeartbeat()
	settle(t, a, b)
	had := a.owned.Clone()

	// Another process with the same instance id while A1 is alive.
	dup := h.newClient("A2", "a")
	dup.instance = "ia"
	if err := dup.heartbeat(); err == nil || err.code != kerr.UnreleasedInstanceID {
		t.Fatalf("duplicate instance: %v", err)
	}

	// A1 leaves temporarily (-2): its partitions stay reserved.
	resp, err := h.heartbeat(&kmsg.ConsumerGroupHeartbeatRequest{MemberID: "A1", MemberEpoch: -2, InstanceID: kmsg.StringPtr("ia")})
	if err != nil || resp.MemberEpoch != -2 {
		t.Fatalf("static leave: %v %v", resp, err)
	}
	b.mustHeartbeat()
	if b.owned.Count() != 2 {
		t.Fatalf("B took a departed static member's partitions: %v", b.owned)
	}
	// It comes back under a new member id and gets the same partitions.
	dup.mustHeartbeat()
	if !dup.owned.Equal(had) {
		t.Fatalf("static member came back with %v, had %v", dup.owned, had)
	}
	if _, ok := h.g.members["A1"]; ok || h.g.static["ia"] != "A2" {
		t.Fatalf("old static member not replaced: %v", h.g.static)
	}
	// The old id is fenced by the new one.
	a.epoch = 2
	if err := a.heartbeat(); err == nil || err.code != kerr.FencedInstanceID {
		t.Fatalf("old static id: %v", err)
	}
}

func TestConsumerSessionTimeout(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 4))
	a, b := h.newClient("A", "a"), h.newClient("B", "a")
	a.mustHeartbeat()
	b.mustHeartbeat()
	settle(t, a, b)

	h.now = h.now.Add(30 * time.Second)
	a.mustHeartbeat() // A is alive; B is silent
	h.now = h.now.Add(20 * time.Second)
	h.expire()
	if _, ok := h.g.members["B"]; ok {
		t.Fatal("B survived its session timeout")
	}
	if _, ok := h.g.members["A"]; !ok {
		t.Fatal("A was fenced although it heartbeated")
	}
	a.mustHeartbeat()
	if a.owned.Count() != 4 {
		t.Fatalf("A did not get B's partitions: %v", a.owned)
	}
	if d := h.g.nextDeadline(); !d.Equal(h.now.Add(45 * time.Second)) {
		t.Fatalf("next deadline %v", d)
	}
}

func TestConsumerRebalanceTimeout(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 4))
	a := h.newClient("A", "a")
	a.holdRevocations = true
	a.mustHeartbeat()
	b := h.newClient("B", "a")
	b.mustHeartbeat()
	a.mustHeartbeat() // asked to revoke; holds on to them
	if h.g.members["A"].state != MemberUnrevokedPartitions {
		t.Fatalf("A state %v", h.g.members["A"].state)
	}
	// A keeps heartbeating (session alive) but never revokes.
	for i := range 7 {
		h.now = h.now.Add(10 * time.Second)
		if _, ok := h.g.members["A"]; !ok {
			if i < 5 {
				t.Fatalf("A fenced after only %d s", i*10)
			}
			break
		}
		a.mustHeartbeat()
		b.mustHeartbeat()
		h.expire()
	}
	if _, ok := h.g.members["A"]; ok {
		t.Fatal("A was not fenced after its rebalance timeout")
	}
	b.mustHeartbeat()
	if b.owned.Count() != 4 {
		t.Fatalf("B: %v", b.owned)
	}
}

func TestConsumerRegexSubscription(t *testing.T) {
	img := newFakeImage("foo-1", 2, "bar", 2)
	h := newHarness(t, img)
	a := h.newClient("A")
	a.regex = kmsg.StringPtr("foo-.*")
	a.mustHeartbeat()
	if a.owned.Count() != 2 || len(a.owned[tid("foo-1")]) != 2 {
		t.Fatalf("regex assignment %v", a.owned)
	}
	epoch := h.g.epoch
	img.add("foo-2", 3)
	a.mustHeartbeat()
	if h.g.epoch != epoch+1 {
		t.Fatalf("new matching topic did not bump the group epoch: %d → %d", epoch, h.g.epoch)
	}
	if a.owned.Count() != 5 {
		t.Fatalf("after foo-2: %v", a.owned)
	}
	img.add("other", 1)
	a.mustHeartbeat()
	if h.g.epoch != epoch+1 {
		t.Fatal("a topic the regex does not match bumped the epoch")
	}

	bad := h.newClient("B")
	bad.regex = kmsg.StringPtr("foo-(")
	if err := bad.heartbeat(); err == nil || err.code != kerr.InvalidRegularExpression {
		t.Fatalf("bad regex: %v", err)
	}
}

func TestConsumerSubscriptionChangeRevokesAtOnce(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 2, "b", 2))
	a := h.newClient("A", "a", "b")
	a.mustHeartbeat()
	if a.owned.Count() != 4 {
		t.Fatalf("%v", a.owned)
	}
	req := a.request()
	req.SubscribedTopicNames = []string{"b"}
	req.RebalanceTimeoutMillis = 60000
	resp, err := h.heartbeat(req)
	if err != nil {
		t.Fatal(err)
	}
	got := Assignment{}
	for _, tp := range resp.Assignment.Topics {
		for _, p := range tp.Partitions {
			got.add(tp.TopicID, p)
		}
	}
	if !got.Equal(Assignment{tid("b"): {0, 1}}) {
		t.Fatalf("after unsubscribing from a: %v", got)
	}
}

func TestConsumerHeartbeatValidation(t *testing.T) {
	s := ConsumerSettings{}.Defaults()
	cases := []struct {
		req  kmsg.ConsumerGroupHeartbeatRequest
		code *kerr.Error
	}{
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberEpoch: 0, RebalanceTimeoutMillis: 1, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}, SubscribedTopicNames: []string{"a"}}, kerr.InvalidRequest},                 // v1 needs a member id
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: 0, RebalanceTimeoutMillis: -1, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}, SubscribedTopicNames: []string{"a"}}, kerr.InvalidRequest}, // no rebalance timeout
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: 0, RebalanceTimeoutMillis: 1, SubscribedTopicNames: []string{"a"}}, kerr.InvalidRequest},                                                       // null topics
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: 0, RebalanceTimeoutMillis: 1, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}}, kerr.InvalidRequest},                                       // no subscription
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: -2}, kerr.InvalidRequest},                                                                                                                      // -2 without instance
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: -3}, kerr.InvalidRequest},
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberID: "m", MemberEpoch: 1, ServerAssignor: kmsg.StringPtr("sticky")}, kerr.UnsupportedAssignor},
		{kmsg.ConsumerGroupHeartbeatRequest{Group: "", MemberID: "m", MemberEpoch: 1}, kerr.InvalidRequest},
	}
	for i, c := range cases {
		err := validateHeartbeat(&s, 1, &c.req)
		if err == nil || err.code != c.code {
			t.Errorf("case %d: got %v, want %v", i, err, c.code)
		}
	}
	ok := kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberEpoch: 0, RebalanceTimeoutMillis: 1, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}, SubscribedTopicNames: []string{"a"}}
	if err := validateHeartbeat(&s, 0, &ok); err != nil {
		t.Errorf("v0 join without member id: %v", err)
	}
}

func TestConsumerV0JoinGetsMemberID(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 1))
	req := &kmsg.ConsumerGroupHeartbeatRequest{Group: "g", MemberEpoch: 0, RebalanceTimeoutMillis: 1000, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}, SubscribedTopicNames: []string{"a"}}
	resp, err := h.g.heartbeat(heartbeatIn{now: h.now, s: &h.s, img: h.img, req: req})
	if err != nil || resp.MemberID == nil || len(*resp.MemberID) != 22 {
		t.Fatalf("v0 join: %+v %v", resp, err)
	}
}

func TestConsumerMaxSize(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 1))
	h.s.MaxSize = 1
	h.newClient("A", "a").mustHeartbeat()
	if err := h.newClient("B", "a").heartbeat(); err == nil || err.code != kerr.GroupMaxSizeReached {
		t.Fatalf("over max size: %v", err)
	}
}

func TestConsumerOffsetValidation(t *testing.T) {
	h := newHarness(t, newFakeImage("a", 1))
	if code := h.g.offsetCommitError("", -1, false, 9); code != 0 {
		t.Fatalf("admin commit to empty group: %d", code)
	}
	a := h.newClient("A", "a")
	a.mustHeartbeat()
	for _, c := range []struct {
		id      string
		epoch   int32
		version int16
		want    int16
	}{
		{"A", 1, 9, 0},
		{"A", 0, 9, kerr.StaleMemberEpoch.Code},
		{"A", 1, 8, kerr.UnsupportedVersion.Code},
		{"X", 1, 9, kerr.UnknownMemberID.Code},
		{"", -1, 9, kerr.UnknownMemberID.Code},
	} {
		if got := h.g.offsetCommitError(c.id, c.epoch, false, c.version); got != c.want {
			t.Errorf("commit %+v: got %d", c, got)
		}
	}
	if got := h.g.offsetFetchError(nil, -1); got != 0 {
		t.Errorf("admin fetch: %d", got)
	}
	if got := h.g.offsetFetchError(kmsg.StringPtr("A"), 0); got != kerr.StaleMemberEpoch.Code {
		t.Errorf("stale fetch: %d", got)
	}
}

func TestConsumerRecordsRoundTrip(t *testing.T) {
	recs := []*cgRecord{
		{Kind: cgKeyMetadata, Group: "g", Epoch: 7},
		{Kind: cgKeyPartitionMetadata, Group: "g", Topics: topics("a", 3, "b", 1)},
		{Kind: cgKeyMemberMetadata, Group: "g", MemberID: "m", InstanceID: kmsg.StringPtr("i"), ClientID: "c", ClientHost: "/h",
			SubscribedTopicNames: []string{"a", "b"}, SubscribedTopicRegex: kmsg.StringPtr("x.*"), RebalanceTimeoutMs: 1000, ServerAssignor: kmsg.StringPtr("range"),
			Classic: &ClassicMemberMetadata{SessionTimeoutMs: 45000, SupportedProtocols: []ClassicProtocol{{Name: "range", Metadata: []byte{1, 2}}}}},
		{Kind: cgKeyTargetMetadata, Group: "g", Epoch: 6},
		{Kind: cgKeyTargetMember, Group: "g", MemberID: "m", Target: Assignment{tid("a"): {0, 2}}},
		{Kind: cgKeyCurrentAssignment, Group: "g", MemberID: "m", MemberEpoch: 6, PrevEpoch: 5, State: 1, Assigned: Assignment{tid("a"): {0}}, Pending: Assignment{tid("b"): {0}}},
		{Kind: cgKeyCurrentAssignment, Group: "g", MemberID: "m", Tombstone: true},
	}
	for _, r := range recs {
		rec := r.encode()
		got, err := decodeCGRecord(rec.Key, rec.Value)
		if err != nil {
			t.Fatalf("kind %d: %v", r.Kind, err)
		}
		if again := got.encode(); string(again.Key) != string(rec.Key) || string(again.Value) != string(rec.Value) {
			t.Fatalf("kind %d: re-encoding differs", r.Kind)
		}
		if r.Kind == cgKeyMemberMetadata && (got.Classic == nil || got.Classic.SupportedProtocols[0].Name != "range" || deref(got.SubscribedTopicRegex) != "x.*") {
			t.Fatalf("member metadata: %+v", got)
		}
		// Every truncation is an error, never a panic.
		for i := range len(rec.Value) {
			if rec.Value != nil {
				_, _ = decodeCGRecord(rec.Key, rec.Value[:i])
			}
		}
	}
	// Kafka's exact bytes for ConsumerGroupMetadataKey("g") / Value(epoch 7):
	// key version 3, INT16 length, "g"; value version 0, epoch, no tags.
	rec := recs[0].encode()
	if string(rec.Key) != "\x00\x03\x00\x01g" || string(rec.Value) != "\x00\x00\x00\x00\x00\x07\x00" {
		t.Fatalf("metadata record bytes %x / %x", rec.Key, rec.Value)
	}
}
