package admin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestPartitionAdmin runs ElectLeaders, AlterPartitionReassignments,
// ListPartitionReassignments and UnregisterBroker against one node: their
// answers and error paths (a single node has nowhere to move data to; the
// multi-node paths are exercised with replication).
func TestPartitionAdmin(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{})
	cl := node.Client(t)
	e := &env{node: node, cl: cl, adm: kadm.NewClient(cl)}

	if missing := node.MissingAPIs(t, kmsg.ElectLeaders, kmsg.AlterPartitionAssignments,
		kmsg.ListPartitionReassignments, kmsg.UnregisterBroker); len(missing) > 0 {
		t.Fatalf("ApiVersions does not advertise %v", missing)
	}
	e.createTopic(t, "pa-topic", 2, nil)

	t.Run("ListEmpty", e.testListReassignmentsEmpty)
	t.Run("AlterReassignmentErrors", e.testAlterReassignmentErrors)
	t.Run("ElectLeaders", e.testElectLeaders)
	t.Run("UnregisterBroker", e.testUnregisterBroker)
}

func (e *env) testListReassignmentsEmpty(t *testing.T) {
	// Null topics: every reassignment in the cluster.
	all := request[*kmsg.ListPartitionReassignmentsResponse](t, e, kmsg.NewPtrListPartitionReassignmentsRequest())
	if all.ErrorCode != 0 || len(all.Topics) != 0 {
		t.Fatalf("list all: error %d topics %+v", all.ErrorCode, all.Topics)
	}
	got, err := e.adm.ListPartitionReassignments(testCtx(t), kadm.TopicsSet{"pa-topic": {0: {}, 1: {}, 7: {}}, "pa-nope": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("list named: %+v, want nothing in progress", got)
	}
}

func (e *env) testAlterReassignmentErrors(t *testing.T) {
	var req kadm.AlterPartitionAssignmentsReq
	req.Assign("pa-topic", 0, []int32{1, 99}) // unknown broker
	req.Assign("pa-topic", 1, []int32{1, 1})  // duplicate
	req.Assign("pa-nope", 0, []int32{1})      // unknown topic
	rs, err := e.adm.AlterPartitionAssignments(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	check := func(topic string, p int32, want error, msg string) {
		t.Helper()
		r, ok := rs[topic][p]
		if !ok {
			t.Fatalf("no answer for %s-%d in %+v", topic, p, rs)
		}
		if !errors.Is(r.Err, want) || !strings.Contains(r.ErrMessage, msg) {
			t.Errorf("%s-%d: %v %q, want %v containing %q", topic, p, r.Err, r.ErrMessage, want, msg)
		}
	}
	check("pa-topic", 0, kerr.InvalidReplicaAssignment, "broker 99, but no such broker is registered")
	check("pa-topic", 1, kerr.InvalidReplicaAssignment, "the broker 1 more than once")
	check("pa-nope", 0, kerr.UnknownTopicOrPartition, "Unable to find a topic named pa-nope")

	req = nil
	req.Assign("pa-topic", 0, []int32{})  // empty
	req.CancelAssign("pa-topic", 1)       // nothing in progress
	req.Assign("pa-topic", 5, []int32{1}) // unknown partition
	rs, err = e.adm.AlterPartitionAssignments(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	check("pa-topic", 0, kerr.InvalidReplicaAssignment, "empty replica list")
	check("pa-topic", 1, kerr.NoReassignmentInProgress, "No partition reassignment is in progress")
	check("pa-topic", 5, kerr.UnknownTopicOrPartition, "Unable to find partition pa-topic:5")

	// Reassigning to the current replicas is accepted and changes nothing.
	req = nil
	req.Assign("pa-topic", 0, []int32{1})
	rs, err = e.adm.AlterPartitionAssignments(testCtx(t), req)
	if err != nil || rs.Error() != nil {
		t.Fatalf("no-op reassignment: %v %v", err, rs.Error())
	}
	if d, ok := e.topicDetail(t, "pa-topic"); !ok || d.Partitions[0].Leader != 1 || d.Partitions[0].LeaderEpoch != 0 {
		t.Fatalf("after the no-op reassignment: %+v", d.Partitions)
	}

	// v1 echoes AllowReplicationFactorChange; the partition stays valid.
	v1 := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	v1.AllowReplicationFactorChange = false
	rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
	rt.Topic = "pa-topic"
	rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
	rp.Partition, rp.Replicas = 1, []int32{1}
	rt.Partitions = append(rt.Partitions, rp)
	v1.Topics = append(v1.Topics, rt)
	resp := request[*kmsg.AlterPartitionAssignmentsResponse](t, e, v1)
	if resp.Version >= 1 && resp.AllowReplicationFactorChange {
		t.Errorf("AllowReplicationFactorChange not echoed")
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Errorf("v1 answer %+v", resp.Topics)
	}
}

func (e *env) testElectLeaders(t *testing.T) {
	ctx := testCtx(t)
	// Named partitions: each gets an answer.
	rs, err := e.adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pa-topic": {0: {}, 1: {}, 9: {}}, "pa-nope": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]error{0: kerr.ElectionNotNeeded, 1: kerr.ElectionNotNeeded, 9: kerr.UnknownTopicOrPartition} {
		if r, ok := rs["pa-topic"][p]; !ok || !errors.Is(r.Err, want) {
			t.Errorf("preferred pa-topic-%d: %+v, want %v", p, r, want)
		}
	}
	if r := rs["pa-nope"][0]; !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("preferred pa-nope-0: %+v", r)
	}

	rs, err = e.adm.ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{"pa-topic": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rs["pa-topic"][0]; !errors.Is(r.Err, kerr.ElectionNotNeeded) {
		t.Errorf("unclean on a led partition: %+v", r)
	}

	// All partitions (null topics): those needing no election are left
	// out, so every topic comes back with no partition.
	all, err := e.adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all["pa-topic"]; !ok {
		t.Errorf("all partitions: pa-topic missing from %+v", all)
	}
	for topic, ps := range all {
		if len(ps) != 0 {
			t.Errorf("all partitions: %s answered %+v", topic, ps)
		}
	}

	// v0 has no election type: always preferred.
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.ElectLeaders), 0)
	cl0 := e.node.Client(t, kgo.MaxVersions(vs))
	v0 := kmsg.NewPtrElectLeadersRequest()
	v0.ElectionType = 1 // not sent in v0
	rt := kmsg.NewElectLeadersRequestTopic()
	rt.Topic, rt.Partitions = "pa-topic", []int32{1}
	v0.Topics = append(v0.Topics, rt)
	resp, err := cl0.Broker(1).RetriableRequest(ctx, v0)
	if err != nil {
		t.Fatal(err)
	}
	er := resp.(*kmsg.ElectLeadersResponse)
	if er.Version != 0 {
		t.Errorf("answered v%d, want v0", er.Version)
	}
	if len(er.Topics) != 1 || len(er.Topics[0].Partitions) != 1 || er.Topics[0].Partitions[0].ErrorCode != kerr.ElectionNotNeeded.Code {
		t.Errorf("v0 answer %+v", er.Topics)
	}

	bad := kmsg.NewPtrElectLeadersRequest()
	bad.ElectionType = 7
	if r := request[*kmsg.ElectLeadersResponse](t, e, bad); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("election type 7: error %d, want INVALID_REQUEST", r.ErrorCode)
	}
}

func (e *env) testUnregisterBroker(t *testing.T) {
	unregister := func(id int32) *kmsg.UnregisterBrokerResponse {
		req := kmsg.NewPtrUnregisterBrokerRequest()
		req.BrokerID = id
		return request[*kmsg.UnregisterBrokerResponse](t, e, req)
	}
	if r := unregister(42); r.ErrorCode != kerr.BrokerIDNotRegistered.Code {
		t.Errorf("unknown broker: error %d %v", r.ErrorCode, r.ErrorMessage)
	}
	r := unregister(1)
	if r.ErrorCode != kerr.InvalidRequest.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "pa-topic-0") {
		t.Errorf("broker hosting replicas: error %d %v", r.ErrorCode, r.ErrorMessage)
	}
	// The refusal changed nothing: the broker still answers metadata.
	if d, ok := e.topicDetail(t, "pa-topic"); !ok || d.Partitions[0].Leader != 1 {
		t.Fatalf("after the refused unregistration: %+v", d)
	}
}
