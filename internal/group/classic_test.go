package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

func TestPartitionForIsTheRuntimes(t *testing.T) {
	// Java: "hello".hashCode() == 99162322; % 50 == 22.
	if p := coordinator.PartitionFor("hello", 50); p != 22 {
		t.Errorf("coordinator.PartitionFor(hello, 50) = %d, want 22", p)
	}
}

// stableOne makes a one-member group stable and returns its member id.
func (e *env) stableOne(group string) string {
	e.t.Helper()
	ch, id := e.joinNew(group)
	r := wait(e.t, ch)
	if r.ErrorCode != 0 || r.Generation != 1 || r.LeaderID != id || len(r.Members) != 1 {
		e.t.Fatalf("join: %+v", r)
	}
	sr := wait(e.t, e.syncAsync(syncReq(group, id, 1, map[string]string{id: "A"})))
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "A" {
		e.t.Fatalf("sync: %+v", sr)
	}
	return id
}

func TestJoinSyncHeartbeat(t *testing.T) {
	e := newEnv(t, testSettings())
	id := e.stableOne("g")
	if code := e.heartbeat("g", id, 1, nil); code != 0 {
		t.Fatalf("heartbeat: %d", code)
	}
	if code := e.heartbeat("g", id, 2, nil); code != kerr.IllegalGeneration.Code {
		t.Fatalf("heartbeat of wrong generation: %d", code)
	}
	if code := e.heartbeat("g", "nobody", 1, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat of unknown member: %d", code)
	}
	if code := e.heartbeat("nogroup", id, 1, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat of unknown group: %d", code)
	}
	d := e.describe("g")
	if d.State != "Stable" || d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 1 || string(d.Members[0].MemberAssignment) != "A" || d.Members[0].ClientHost != "/127.0.0.1" {
		t.Fatalf("describe: %+v", d)
	}
	// A sync of the stable group returns the assignment again.
	sr := wait(t, e.syncAsync(syncReq("g", id, 1, nil)))
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "A" || *sr.Protocol != "range" {
		t.Fatalf("sync again: %+v", sr)
	}
	// SyncGroup v5 checks protocol type and name.
	bad := syncReq("g", id, 1, nil)
	bad.Protocol = kmsg.StringPtr("roundrobin")
	if sr := wait(t, e.syncAsync(bad)); sr.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("sync with other protocol: %d", sr.ErrorCode)
	}
	// Bad session timeouts.
	jr := joinReq(9, "g", "", nil)
	jr.SessionTimeoutMillis = int32(e.set.MaxSessionTimeout/time.Millisecond) + 1
	if r := e.c.JoinGroup(context.Background(), cl, jr); r.ErrorCode != kerr.InvalidSessionTimeout.Code {
		t.Fatalf("join with a too large session timeout: %d", r.ErrorCode)
	}
	// An incompatible protocol is refused.
	jr = joinReq(9, "g", "", nil, "roundrobin")
	if r := e.c.JoinGroup(context.Background(), cl, jr); r.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("join with an unsupported protocol: %d", r.ErrorCode)
	}
	// Requests for a group whose partition this coordinator does not lead.
	e.c.SetPartitionCount(2)
	other := "g"
	for i := 0; coordinator.PartitionFor(other, 2) == 0; i++ {
		other = "g" + string(rune('a'+i))
	}
	if code := e.heartbeat(other, id, 1, nil); code != kerr.NotCoordinator.Code {
		t.Fatalf("heartbeat of a group of another partition: %d", code)
	}
}

func TestMemberIDRequiredOnlyV4Plus(t *testing.T) {
	e := newEnv(t, testSettings())
	r := wait(t, e.joinAsync(joinReq(3, "g", "", nil)))
	if r.ErrorCode != 0 || r.MemberID == "" || r.Generation != 1 {
		t.Fatalf("v3 join: %+v", r)
	}
	r = e.c.JoinGroup(context.Background(), cl, joinReq(4, "g2", "", nil))
	if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
		t.Fatalf("v4 first join: %+v", r)
	}
	// Pending members expire after the session timeout.
	e.clock.Advance(11 * time.Second)
	r = wait(t, e.joinAsync(joinReq(4, "g2", r.MemberID, nil)))
	if r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("join with an expired pending member id: %d", r.ErrorCode)
	}
}

func TestRebalanceOnJoinAndLeave(t *testing.T) {
	e := newEnv(t, testSettings())
	a := e.stableOne("g")
	chB, b := e.joinNew("g")
	parked(t, chB)
	if d := e.describe("g"); d.State != "PreparingRebalance" {
		t.Fatalf("state after a new join: %s", d.State)
	}
	if code := e.heartbeat("g", a, 1, nil); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %d", code)
	}
	// Commits of the old generation are still accepted while preparing.
	if code := e.commit(9, "g", a, 1, "t", 0, 5, ""); code != 0 {
		t.Fatalf("commit while preparing: %d", code)
	}
	ra := wait(t, e.joinAsync(joinReq(9, "g", a, nil)))
	rb := wait(t, chB)
	if ra.Generation != 2 || rb.Generation != 2 || ra.LeaderID != a || len(ra.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("rejoin: %+v / %+v", ra, rb)
	}
	// The follower's sync parks until the leader's.
	sb := e.syncAsync(syncReq("g", b, 2, nil))
	parked(t, sb)
	if code := e.commit(9, "g", a, 2, "t", 0, 6, ""); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("commit while completing: %d", code)
	}
	sa := wait(t, e.syncAsync(syncReq("g", a, 2, map[string]string{a: "pa", b: "pb"})))
	if got := wait(t, sb); string(got.MemberAssignment) != "pb" || string(sa.MemberAssignment) != "pa" {
		t.Fatalf("assignments: %q %q", sa.MemberAssignment, got.MemberAssignment)
	}
	// b leaves: a must rejoin, the group has one member at generation 3.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{MemberID: b}, {MemberID: "ghost"}}
	resp := e.c.LeaveGroup(context.Background(), lr)
	if resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave: %+v", resp)
	}
	if code := e.heartbeat("g", a, 2, nil); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat after a leave: %d", code)
	}
	ra = wait(t, e.joinAsync(joinReq(9, "g", a, nil)))
	if ra.Generation != 3 || len(ra.Members) != 1 {
		t.Fatalf("rejoin after leave: %+v", ra)
	}
	// The last member leaving (v0 form) empties the group.
	lr = kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 0
	lr.Group, lr.MemberID = "g", a
	if resp := e.c.LeaveGroup(context.Background(), lr); resp.ErrorCode != 0 {
		t.Fatalf("v0 leave: %d", resp.ErrorCode)
	}
	if d := e.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after the last leave: %+v", d)
	}
}

func TestSessionExpiryRebalances(t *testing.T) {
	e := newEnv(t, testSettings())
	a := e.stableOne("g")
	chB, b := e.joinNew("g")
	ra := wait(t, e.joinAsync(joinReq(9, "g", a, nil)))
	wait(t, chB)
	sb := e.syncAsync(syncReq("g", b, 2, nil))
	wait(t, e.syncAsync(syncReq("g", a, 2, map[string]string{a: "x", b: "y"})))
	wait(t, sb)
	_ = ra
	// a heartbeats, b goes silent.
	for i := 0; i < 3; i++ {
		e.clock.Advance(4 * time.Second)
		if code := e.heartbeat("g", a, 2, nil); code != 0 && i < 2 {
			t.Fatalf("heartbeat %d: %d", i, code)
		}
	}
	if code := e.heartbeat("g", b, 2, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("the expired member's heartbeat: %d", code)
	}
	if d := e.describe("g"); d.State != "PreparingRebalance" || len(d.Members) != 1 {
		t.Fatalf("after expiry: %+v", d)
	}
	r := wait(t, e.joinAsync(joinReq(9, "g", a, nil)))
	if r.Generation != 3 || len(r.Members) != 1 {
		t.Fatalf("rejoin after expiry: %+v", r)
	}
}

func TestRebalanceTimeoutRemovesLaggards(t *testing.T) {
	e := newEnv(t, testSettings())
	a := e.stableOne("g")
	chB, _ := e.joinNew("g")
	// a never rejoins: after the rebalance timeout (30 s) the join phase
	// ends without it.
	parked(t, chB)
	for i := 0; i < 8; i++ { // keep a's session alive meanwhile
		e.clock.Advance(4 * time.Second)
		e.heartbeat("g", a, 1, nil)
	}
	rb := wait(t, chB)
	if rb.ErrorCode != 0 || rb.Generation != 2 || len(rb.Members) != 1 {
		t.Fatalf("join after the rebalance timeout: %+v", rb)
	}
	if code := e.heartbeat("g", a, 1, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("the laggard's heartbeat: %d", code)
	}
	// b joined but never syncs: the pending-sync timeout removes it.
	e.clock.Advance(31 * time.Second)
	if d := e.describe("g"); d.State != "Empty" {
		t.Fatalf("after the pending-sync timeout: %+v", d)
	}
}

func TestStaticMembership(t *testing.T) {
	e := newEnv(t, testSettings())
	inst := kmsg.StringPtr("instance-1")
	// Static members skip MEMBER_ID_REQUIRED.
	r := wait(t, e.joinAsync(joinReq(9, "g", "", inst)))
	if r.ErrorCode != 0 || r.Generation != 1 {
		t.Fatalf("static join: %+v", r)
	}
	old := r.MemberID
	wait(t, e.syncAsync(func() *kmsg.SyncGroupRequest {
		s := syncReq("g", old, 1, map[string]string{old: "P"})
		s.InstanceID = inst
		return s
	}()))
	// The instance restarts: it rejoins with no member id and the same
	// protocols. No rebalance: same generation, new member id.
	r = wait(t, e.joinAsync(joinReq(9, "g", "", inst)))
	if r.ErrorCode != 0 || r.Generation != 1 || r.MemberID == old || !r.SkipAssignment || r.LeaderID != r.MemberID {
		t.Fatalf("static rejoin: %+v", r)
	}
	if d := e.describe("g"); d.State != "Stable" || len(d.Members) != 1 || d.Members[0].MemberID != r.MemberID || string(d.Members[0].MemberAssignment) != "P" {
		t.Fatalf("after static rejoin: %+v", d)
	}
	// The old incarnation is fenced.
	if code := e.heartbeat("g", old, 1, inst); code != kerr.FencedInstanceID.Code {
		t.Fatalf("old static member heartbeat: %d", code)
	}
	if code := e.heartbeat("g", r.MemberID, 1, inst); code != 0 {
		t.Fatalf("new static member heartbeat: %d", code)
	}
	// A static member leaving by instance id.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 4
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: inst}}
	if resp := e.c.LeaveGroup(context.Background(), lr); resp.Members[0].ErrorCode != 0 {
		t.Fatalf("static leave: %+v", resp)
	}
	if d := e.describe("g"); d.State != "Empty" {
		t.Fatalf("after static leave: %s", d.State)
	}
}

func TestStaticMemberChangedProtocolsRebalances(t *testing.T) {
	e := newEnv(t, testSettings())
	inst := kmsg.StringPtr("i")
	r := wait(t, e.joinAsync(joinReq(9, "g", "", inst)))
	wait(t, e.syncAsync(syncReq("g", r.MemberID, 1, nil)))
	r2 := wait(t, e.joinAsync(joinReq(9, "g", "", inst, "cooperative-sticky", "range")))
	if r2.ErrorCode != 0 || r2.Generation != 2 || r2.Protocol == nil || *r2.Protocol != "cooperative-sticky" {
		t.Fatalf("rejoin with new protocols: %+v", r2)
	}
}

func TestInitialRebalanceDelay(t *testing.T) {
	set := testSettings()
	set.InitialRebalanceDelay = 3 * time.Second
	e := newEnv(t, set)
	chA := e.joinAsync(joinReq(3, "g", "", nil))
	parked(t, chA)
	e.clock.Advance(2 * time.Second)
	chB := e.joinAsync(joinReq(3, "g", "", nil))
	parked(t, chB)
	e.clock.Advance(1 * time.Second) // the first delay ends; b extended it
	parked(t, chA)
	e.clock.Advance(3 * time.Second)
	ra, rb := wait(t, chA), wait(t, chB)
	if ra.Generation != 1 || rb.Generation != 1 || ra.LeaderID != rb.LeaderID {
		t.Fatalf("after the initial delay: %+v / %+v", ra, rb)
	}
}

func TestGroupMaxSize(t *testing.T) {
	set := testSettings()
	set.MaxSize = 2
	e := newEnv(t, set)
	e.joinNew("g")
	e.joinNew("g")
	r := e.c.JoinGroup(context.Background(), cl, joinReq(9, "g", "", nil))
	if r.ErrorCode != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("third member: %d", r.ErrorCode)
	}
}

func TestNonConsumerProtocolType(t *testing.T) {
	e := newEnv(t, testSettings())
	req := joinReq(3, "connect-cluster", "", nil)
	req.ProtocolType = "connect"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "sessioned", Metadata: []byte{0xff, 0x00, 0x01}}}
	r := wait(t, e.joinAsync(req))
	if r.ErrorCode != 0 || len(r.Members) != 1 || string(r.Members[0].ProtocolMetadata) != "\xff\x00\x01" {
		t.Fatalf("connect join: %+v", r)
	}
	wait(t, e.syncAsync(syncReq("connect-cluster", r.MemberID, 1, map[string]string{r.MemberID: "opaque"})))
	lg := e.listGroups()
	if len(lg) != 1 || lg[0].ProtocolType != "connect" || lg[0].GroupState != "Stable" || lg[0].GroupType != "classic" {
		t.Fatalf("list: %+v", lg)
	}
	// OffsetDelete on a non-empty group of another protocol type.
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "connect-cluster"
	if resp := e.c.OffsetDelete(context.Background(), od); resp.ErrorCode != kerr.NonEmptyGroup.Code {
		t.Fatalf("offset delete: %d", resp.ErrorCode)
	}
}

// The group keeps JoinGroup metadata and SyncGroup assignments beyond the
// request, whose bytes may be the connection's reused read buffer.
func TestJoinSyncCopyRequestBytes(t *testing.T) {
	e := newEnv(t, testSettings())
	r := e.c.JoinGroup(context.Background(), cl, joinReq(9, "g", "", nil))
	jr := joinReq(9, "g", r.MemberID, nil)
	want := string(jr.Protocols[0].Metadata)
	resp := wait(t, e.joinAsync(jr))
	if resp.ErrorCode != 0 {
		t.Fatalf("join: %d", resp.ErrorCode)
	}
	sr := syncReq("g", r.MemberID, 1, map[string]string{r.MemberID: "assignment"})
	if got := wait(t, e.syncAsync(sr)); got.ErrorCode != 0 {
		t.Fatalf("sync: %d", got.ErrorCode)
	}
	clear(jr.Protocols[0].Metadata) // the buffer is reused
	clear(sr.GroupAssignment[0].MemberAssignment)
	d := e.describe("g")
	if string(d.Members[0].ProtocolMetadata) != want || string(d.Members[0].MemberAssignment) != "assignment" {
		t.Fatalf("kept %q / %q", d.Members[0].ProtocolMetadata, d.Members[0].MemberAssignment)
	}
}
