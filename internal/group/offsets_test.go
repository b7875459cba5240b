package group

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetCommitFetch(t *testing.T) {
	e := newEnv(t, testSettings())
	// Simple commit: no group yet, generation -1.
	if code := e.commit(9, "simple", "", -1, "t", 0, 42, "meta"); code != 0 {
		t.Fatalf("simple commit: %d", code)
	}
	if got := e.fetched("simple", "t", 0); got != 42 {
		t.Fatalf("fetched %d, want 42", got)
	}
	if got := e.fetched("simple", "t", 1); got != -1 {
		t.Fatalf("uncommitted partition: %d", got)
	}
	if got := e.fetched("nobody", "t", 0); got != -1 {
		t.Fatalf("unknown group: %d", got)
	}
	if lg := e.listGroups(); len(lg) != 1 || lg[0].GroupState != "Empty" || lg[0].ProtocolType != "" {
		t.Fatalf("simple group listing: %+v", lg)
	}
	// Generation-aware commits for groups that do not exist.
	if code := e.commit(9, "nogroup", "m", 1, "t", 0, 1, ""); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("v9 commit to a missing group: %d", code)
	}
	if code := e.commit(8, "nogroup", "m", 1, "t", 0, 1, ""); code != kerr.IllegalGeneration.Code {
		t.Fatalf("v8 commit to a missing group: %d", code)
	}
	// Per-partition errors.
	if code := e.commit(9, "simple", "", -1, "t", 0, 1, strings.Repeat("x", 4097)); code != kerr.OffsetMetadataTooLarge.Code {
		t.Fatalf("large metadata: %d", code)
	}
	if code := e.commit(9, "simple", "", -1, "missing", 0, 1, ""); code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %d", code)
	}
	// Member commits check membership and generation.
	id := e.stableOne("g")
	if code := e.commit(9, "g", id, 7, "t", 0, 1, ""); code != kerr.IllegalGeneration.Code {
		t.Fatalf("wrong generation: %d", code)
	}
	if code := e.commit(9, "g", "ghost", 1, "t", 0, 1, ""); code != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member: %d", code)
	}
	if code := e.commit(9, "g", "", -1, "t", 0, 1, ""); code != kerr.UnknownMemberID.Code {
		t.Fatalf("simple commit to a live group: %d", code)
	}
	if code := e.commit(9, "g", id, 1, "t", 3, 100, ""); code != 0 {
		t.Fatalf("member commit: %d", code)
	}
	// OffsetFetch of all topics (null topics), v7 form.
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 7
	r.Group = "g"
	resp := e.c.OffsetFetch(context.Background(), r)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].Offset != 100 || resp.Topics[0].Partitions[0].LeaderEpoch != 3 {
		t.Fatalf("fetch all: %+v", resp)
	}
	// A write failure answers COORDINATOR_NOT_AVAILABLE and changes nothing.
	e.log.mu.Lock()
	e.log.fail = errors.New("disk on fire")
	e.log.mu.Unlock()
	if code := e.commit(9, "g", id, 1, "t", 3, 200, ""); code != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("commit with a failing log: %d", code)
	}
	e.log.mu.Lock()
	e.log.fail = nil
	e.log.mu.Unlock()
	if got := e.fetched("g", "t", 3); got != 100 {
		t.Fatalf("offset after a failed commit: %d", got)
	}
}

func TestOffsetDeleteAndDeleteGroups(t *testing.T) {
	e := newEnv(t, testSettings())
	id := e.stableOne("g") // subscribes to "t"
	e.commit(9, "g", id, 1, "t", 0, 10, "")
	e.commit(9, "g", id, 1, "u", 0, 20, "")
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "g"
	od.Topics = []kmsg.OffsetDeleteRequestTopic{
		{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
		{Topic: "u", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
	}
	resp := e.c.OffsetDelete(context.Background(), od)
	if resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || resp.Topics[1].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", resp)
	}
	if e.fetched("g", "u", 0) != -1 || e.fetched("g", "t", 0) != 10 {
		t.Fatal("offset delete removed the wrong offsets")
	}
	od.Group = "missing"
	if resp := e.c.OffsetDelete(context.Background(), od); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("offset delete of a missing group: %d", resp.ErrorCode)
	}

	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Version = 2
	dg.Groups = []string{"g", "missing"}
	dr := e.c.DeleteGroups(context.Background(), dg)
	if dr.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code || dr.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete groups: %+v", dr)
	}
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = "g"
	lr.Members = []kmsg.LeaveGroupRequestMember{{MemberID: id}}
	e.c.LeaveGroup(context.Background(), lr)
	dg.Groups = []string{"g"}
	if dr := e.c.DeleteGroups(context.Background(), dg); dr.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete an empty group: %d", dr.Groups[0].ErrorCode)
	}
	if e.fetched("g", "t", 0) != -1 || len(e.listGroups()) != 0 {
		t.Fatal("the deleted group survived")
	}
	d := kmsg.NewPtrDescribeGroupsRequest()
	d.Version = 6
	d.Groups = []string{"g"}
	if g := e.c.DescribeGroups(context.Background(), d).Groups[0]; g.ErrorCode != kerr.GroupIDNotFound.Code || g.State != "Dead" {
		t.Fatalf("describe v6 of a deleted group: %+v", g)
	}
	// The log ends with tombstones for the offset and the group.
	recs := e.log.records(0)
	last := recs[len(recs)-1]
	kind, _, v, err := DecodeRecord(last.Key, last.Value)
	if kind != "group" || v != nil || err != nil {
		t.Fatalf("last record: %s %v %v", kind, v, err)
	}
}

func TestLoadReproducesState(t *testing.T) {
	e := newEnv(t, testSettings())
	id := e.stableOne("g")
	e.commit(9, "g", id, 1, "t", 0, 10, "m0")
	e.commit(9, "g", id, 1, "t", 0, 11, "m1") // later value wins
	e.commit(9, "g", id, 1, "t", 1, 5, "")
	e.commit(9, "simple", "", -1, "u", 2, 7, "")
	e.commit(9, "gone", "", -1, "u", 0, 1, "")
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"gone"}
	e.c.DeleteGroups(context.Background(), dg)
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "g"
	od.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "u", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 9}}}}
	e.c.OffsetDelete(context.Background(), od)

	// Every record decodes with Kafka's schemas.
	for i, r := range e.log.records(0) {
		if kind, _, _, err := DecodeRecord(r.Key, r.Value); err != nil || kind == "unknown" {
			t.Fatalf("record %d: %s %v", i, kind, err)
		}
	}
	before := e.describe("g")
	e.c.Close()
	e.start()
	after := e.describe("g")
	if after.State != "Stable" || after.Protocol != before.Protocol || len(after.Members) != 1 || after.Members[0].MemberID != id || string(after.Members[0].MemberAssignment) != "A" {
		t.Fatalf("reloaded group: %+v, before %+v", after, before)
	}
	if e.fetched("g", "t", 0) != 11 || e.fetched("g", "t", 1) != 5 || e.fetched("simple", "u", 2) != 7 || e.fetched("gone", "u", 0) != -1 {
		t.Fatal("reloaded offsets differ")
	}
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: []int32{0}}}}}
	if p := e.c.OffsetFetch(context.Background(), r).Groups[0].Topics[0].Partitions[0]; *p.Metadata != "m1" || p.LeaderEpoch != 3 {
		t.Fatalf("reloaded metadata: %+v", p)
	}
	// The member must heartbeat, and may continue at its generation.
	if code := e.heartbeat("g", id, 1, nil); code != 0 {
		t.Fatalf("heartbeat after reload: %d", code)
	}
	// Without heartbeats it expires and the group empties.
	e.clock.Advance(11 * time.Second)
	e.clock.Advance(31 * time.Second)
	if d := e.describe("g"); d.State != "Empty" {
		t.Fatalf("after the reloaded member expired: %+v", d)
	}
	if lg := e.listGroups(); len(lg) != 2 {
		t.Fatalf("groups after reload: %+v", lg)
	}
}

func TestLoadInProgressAndNotCoordinator(t *testing.T) {
	e := newEnv(t, testSettings())
	e.c.Unload(0)
	if code := e.heartbeat("g", "m", 1, nil); code != kerr.NotCoordinator.Code {
		t.Fatalf("after unload: %d", code)
	}
	// A shard registered but not yet loaded answers LOAD_IN_PROGRESS.
	load := e.c.BeginLoad(0, 1)
	if code := e.heartbeat("g", "m", 1, nil); code != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("while loading: %d", code)
	}
	r := kmsg.NewPtrListGroupsRequest()
	if resp := e.c.ListGroups(context.Background(), r); resp.ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("list while loading: %d", resp.ErrorCode)
	}
	if err := load(context.Background(), e.log.reader(0)); err != nil {
		t.Fatal(err)
	}
	if code := e.heartbeat("g", "m", 1, nil); code != kerr.UnknownMemberID.Code {
		t.Fatalf("after load: %d", code)
	}
	e.c.SetPartitionCount(0)
	if code := e.heartbeat("g", "m", 1, nil); code != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("without the offsets topic: %d", code)
	}
}

func TestParkedJoinReleasedOnUnload(t *testing.T) {
	e := newEnv(t, testSettings())
	e.stableOne("g")
	ch, _ := e.joinNew("g")
	parked(t, ch)
	e.c.Unload(0)
	if r := wait(t, ch); r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("parked join after unload: %d", r.ErrorCode)
	}
}

// A new leader epoch replaces the shard: parked requests are released and
// the groups are loaded again from the log.
func TestReloadAtNewEpoch(t *testing.T) {
	e := newEnv(t, testSettings())
	e.stableOne("g")
	ch, _ := e.joinNew("g")
	parked(t, ch)
	load := e.c.BeginLoad(0, 2)
	if r := wait(t, ch); r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("parked join after a new epoch: %d", r.ErrorCode)
	}
	if code := e.heartbeat("g", "m", 1, nil); code != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("while reloading: %d", code)
	}
	if err := load(context.Background(), e.log.reader(0)); err != nil {
		t.Fatal(err)
	}
	if d := e.describe("g"); d.ErrorCode != 0 || d.State == "Dead" {
		t.Fatalf("after reload: %+v", d)
	}
}

func TestRetentionExpiry(t *testing.T) {
	set := testSettings()
	set.OffsetsRetention = time.Hour
	set.RetentionCheckInterval = 10 * time.Minute
	e := newEnv(t, set)
	e.commit(9, "old", "", -1, "t", 0, 1, "")
	id := e.stableOne("live") // subscribes to "t"
	e.commit(9, "live", id, 1, "t", 0, 5, "")
	e.commit(9, "live", id, 1, "u", 0, 6, "") // not subscribed
	for i := 0; i < 70*60/5; i++ {            // 70 minutes, heartbeating
		e.clock.Advance(5 * time.Second)
		if code := e.heartbeat("live", id, 1, nil); code != 0 {
			t.Fatalf("heartbeat: %d", code)
		}
	}
	if e.fetched("old", "t", 0) != -1 {
		t.Fatal("the empty group's offset did not expire")
	}
	for _, g := range e.listGroups() {
		if g.Group == "old" {
			t.Fatal("the expired empty group was not deleted")
		}
	}
	if e.fetched("live", "t", 0) != 5 {
		t.Fatal("a subscribed topic's offset expired")
	}
	if e.fetched("live", "u", 0) != -1 {
		t.Fatal("an unsubscribed topic's offset did not expire")
	}
	// Restarting does not resurrect them.
	e.c.Close()
	e.start()
	if e.fetched("old", "t", 0) != -1 || e.fetched("live", "u", 0) != -1 {
		t.Fatal("expired offsets came back after a reload")
	}
}

func TestDeleteTopicOffsets(t *testing.T) {
	e := newEnv(t, testSettings())
	e.commit(9, "a", "", -1, "t", 0, 1, "")
	e.commit(9, "a", "", -1, "u", 0, 2, "")
	e.commit(9, "b", "", -1, "t", 4, 3, "")
	if err := e.c.DeleteTopicOffsets(context.Background(), []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if e.fetched("a", "t", 0) != -1 || e.fetched("b", "t", 4) != -1 || e.fetched("a", "u", 0) != 2 {
		t.Fatal("wrong offsets removed")
	}
	e.c.Close()
	e.start()
	if e.fetched("a", "t", 0) != -1 || e.fetched("a", "u", 0) != 2 {
		t.Fatal("deleted-topic offsets came back after a reload")
	}
}

func TestSettingsValidate(t *testing.T) {
	s := Settings{}.Defaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.MaxSize = 0
	if s.Validate() == nil {
		t.Fatal("group.max.size 0 accepted")
	}
}

// Records a load cannot decode (an unknown type, a truncated key or value)
// are skipped, counted and reported; the offsets around them load.
func TestLoadSkipsUndecodableRecords(t *testing.T) {
	e := newEnv(t, testSettings())
	if code := e.commit(9, "g", "", -1, "t", 0, 10, ""); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	bad := []Record{
		{Key: []byte{0}}, // shorter than a key version
		{Key: []byte{0, 99, 1, 2}, Value: []byte{1}},        // unknown record type
		{Key: []byte{0, 1, 0, 9, 'g'}, Value: []byte{0, 3}}, // truncated offset commit key
	}
	if _, err := e.log.Append(context.Background(), 0, bad); err != nil {
		t.Fatal(err)
	}
	if code := e.commit(9, "g", "", -1, "t", 1, 20, ""); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	e.c.Close()
	e.start()
	if got0, got1 := e.fetched("g", "t", 0), e.fetched("g", "t", 1); got0 != 10 || got1 != 20 {
		t.Fatalf("after reload: t-0 %d, t-1 %d, want 10 and 20", got0, got1)
	}
	if n := e.c.SkippedRecords(); n != 3 {
		t.Fatalf("SkippedRecords = %d, want 3", n)
	}
}
