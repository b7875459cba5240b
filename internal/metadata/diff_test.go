package metadata

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	b := newBuilder(t)
	keepID, changeID, dropID := RandomUuid(), RandomUuid(), RandomUuid()
	b.ok(CreateTopic{Name: "keep", ID: keepID, Assignments: [][]int32{{1}}})
	b.ok(CreateTopic{Name: "change", ID: changeID, Configs: map[string]string{"a": "1"}, Assignments: [][]int32{{1, 2}, {2, 3}}})
	b.ok(CreateTopic{Name: "drop", ID: dropID, Assignments: [][]int32{{1}}})
	old := b.im

	newID := RandomUuid()
	b.ok(CreateTopic{Name: "new", ID: newID, Assignments: [][]int32{{2}, {3}}})
	b.ok(DeleteTopic{ID: dropID})
	b.ok(ChangePartition{TopicID: changeID, Partition: 1, Leader: 3, LeaderEpoch: 1, ISR: []int32{3}})
	b.ok(CreatePartitions{TopicID: changeID, Assignments: [][]int32{{3, 1}}})
	b.ok(AlterTopicConfig{TopicID: changeID, Set: map[string]string{"a": "2"}})
	b.ok(AlterBrokerConfig{BrokerID: ClusterDefault, Set: map[string]string{"k": "v"}})
	b.ok(RegisterBroker{ID: 4, Host: "h4", Port: 4})
	b.ok(AllocateProducerIDs{BrokerID: 1, Count: 5})
	cur := b.im

	d := Diff(old, cur)
	names := func(ts []*Topic) (out []string) {
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return out
	}
	parts := func(ps []*Partition) (out []string) {
		for _, p := range ps {
			out = append(out, p.Topic+"-"+string('0'+rune(p.Index)))
		}
		return out
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("created", names(d.CreatedTopics), []string{"new"})
	check("deleted", names(d.DeletedTopics), []string{"drop"})
	check("created partitions", parts(d.CreatedPartitions), []string{"change-2", "new-0", "new-1"})
	check("changed partitions", parts(d.ChangedPartitions), []string{"change-1"})
	check("changed configs", names(d.ChangedTopicConfigs), []string{"change"})
	check("broker configs", d.ChangedBrokerConfigs, []int32{ClusterDefault})
	check("brokers", len(d.ChangedBrokers), 1)
	check("producer ids", d.ProducerIDsAllocated, true)
	check("cluster id", d.ClusterIDChanged, false)
	if d.Empty() {
		t.Error("Empty() on a non-empty delta")
	}
	if d.ChangedPartitions[0] != cur.Topics["change"].Partitions[1] {
		t.Error("changed partition is not the new image's")
	}

	if e := Diff(cur, cur.WithOffset(cur.Offset+1)); !e.Empty() {
		t.Errorf("offset-only diff not empty: %+v", e)
	}
	// A decoded copy compares equal by content.
	copyIm, err := DecodeImage(mustEncode(t, cur))
	if err != nil {
		t.Fatal(err)
	}
	if e := Diff(cur, copyIm); !e.Empty() {
		t.Errorf("diff against decoded copy not empty: %+v", e)
	}
	// Reverse: config removal and recreated topics.
	r := Diff(cur, old)
	check("reverse broker configs", r.ChangedBrokerConfigs, []int32{ClusterDefault})
	check("reverse removed brokers", r.RemovedBrokers, []int32{4})
	check("reverse deleted", names(r.DeletedTopics), []string{"new"})

	full := Diff(nil, cur)
	check("from nil created", names(full.CreatedTopics), []string{"change", "keep", "new"})
	check("from nil cluster", full.ClusterIDChanged, true)
	check("from nil partitions", len(full.CreatedPartitions), 6)
}

func TestDiffRecreatedTopic(t *testing.T) {
	b := newBuilder(t)
	id1 := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id1, Assignments: [][]int32{{1}}})
	old := b.im
	b.ok(DeleteTopic{ID: id1})
	b.ok(CreateTopic{Name: "t", ID: RandomUuid(), Assignments: [][]int32{{1}}})
	d := Diff(old, b.im)
	if len(d.CreatedTopics) != 1 || len(d.DeletedTopics) != 1 || d.DeletedTopics[0].ID != id1 {
		t.Fatalf("delta %+v", d)
	}
}
