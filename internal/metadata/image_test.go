package metadata

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// builder applies records at increasing offsets and fails the test on error.
type builder struct {
	t  *testing.T
	im *Image
}

func newBuilder(t *testing.T) *builder {
	t.Helper()
	b := &builder{t: t, im: NewImage()}
	b.ok(SetClusterID{ID: "cluster-1"})
	for id := int32(1); id <= 3; id++ {
		b.ok(RegisterBroker{ID: id, Host: "localhost", Port: 9091 + id, IncarnationID: RandomUuid()})
	}
	return b
}

func (b *builder) apply(r Record) error {
	next, err := b.im.Apply(b.im.Offset+1, r)
	if next == nil {
		b.t.Fatalf("Apply(%v) returned a nil image", r.Type())
	}
	if next.Offset != b.im.Offset+1 {
		b.t.Fatalf("Apply(%v): offset %d, want %d", r.Type(), next.Offset, b.im.Offset+1)
	}
	b.im = next
	return err
}

func (b *builder) ok(r Record) *Image {
	b.t.Helper()
	if err := b.apply(r); err != nil {
		b.t.Fatalf("Apply(%#v): %v", r, err)
	}
	return b.im
}

func (b *builder) fails(r Record, want error) {
	b.t.Helper()
	before := b.im
	if err := b.apply(r); !errors.Is(err, want) {
		b.t.Fatalf("Apply(%#v) = %v, want %v", r, err, want)
	}
	// Content unchanged, only the offset moved.
	if !imagesEqualIgnoringOffset(before, b.im) {
		b.t.Fatalf("failed Apply(%#v) changed the image", r)
	}
}

func imagesEqualIgnoringOffset(a, b *Image) bool {
	ac, bc := *a, *b
	ac.Offset, bc.Offset = 0, 0
	return reflect.DeepEqual(&ac, &bc)
}

func mustEncode(t *testing.T, im *Image) []byte {
	t.Helper()
	b, err := EncodeImage(im)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClusterIDFirst(t *testing.T) {
	im := NewImage()
	if _, err := im.Apply(1, RegisterBroker{ID: 1, Host: "h", Port: 1}); !errors.Is(err, ErrNoClusterID) {
		t.Fatalf("got %v", err)
	}
	if _, err := im.Apply(1, SetClusterID{}); !errors.Is(err, ErrInvalidClusterID) {
		t.Fatalf("got %v", err)
	}
	b := newBuilder(t)
	b.ok(SetClusterID{ID: "cluster-1"}) // idempotent
	b.fails(SetClusterID{ID: "other"}, ErrClusterIDMismatch)
	if b.im.ClusterID != "cluster-1" {
		t.Fatalf("cluster id %q", b.im.ClusterID)
	}
}

func TestOffsetMustAdvance(t *testing.T) {
	b := newBuilder(t)
	im := b.im
	got, err := im.Apply(im.Offset, AllocateProducerIDs{BrokerID: 1, Count: 1})
	if !errors.Is(err, ErrOffsetNotIncreasing) || got != im {
		t.Fatalf("got %v, %v", got, err)
	}
	if w := im.WithOffset(im.Offset + 5); w.Offset != im.Offset+5 || w.ClusterID != im.ClusterID {
		t.Fatalf("WithOffset: %+v", w)
	}
}

func TestRegisterBroker(t *testing.T) {
	b := newBuilder(t)
	inc := RandomUuid()
	b.ok(RegisterBroker{ID: 2, Host: "new-host", Port: 19092, Rack: "r1", IncarnationID: inc})
	want := &Broker{ID: 2, Host: "new-host", Port: 19092, Rack: "r1", IncarnationID: inc, Epoch: b.im.Offset}
	if got := b.im.Brokers[2]; !reflect.DeepEqual(got, want) {
		t.Fatalf("broker 2 = %+v", got)
	}
	b.ok(RegisterBroker{ID: 0, Host: "h", Port: 1})
	b.fails(RegisterBroker{ID: -1, Host: "h", Port: 1}, ErrInvalidBroker)
	b.fails(RegisterBroker{ID: 5, Port: 1}, ErrInvalidBroker)
	b.fails(RegisterBroker{ID: 5, Host: "h", Port: 70000}, ErrInvalidBroker)
}

func TestCreateTopic(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "orders", ID: id, Configs: map[string]string{"cleanup.policy": "compact"}, Assignments: [][]int32{{1, 2}, {2, 3}, {3, 1}}})
	tp := b.im.Topics["orders"]
	if tp == nil || b.im.TopicsByID[id] != tp || tp.ID != id || len(tp.Partitions) != 3 {
		t.Fatalf("topic = %+v", tp)
	}
	if tp.Configs["cleanup.policy"] != "compact" {
		t.Fatalf("configs %v", tp.Configs)
	}
	p := tp.Partitions[2]
	want := &Partition{Topic: "orders", TopicID: id, Index: 2, Replicas: []int32{3, 1}, ISR: []int32{3, 1}, Leader: 3}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("partition = %+v", p)
	}

	b.fails(CreateTopic{Name: "orders", ID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrTopicExists)
	b.fails(CreateTopic{Name: "other", ID: id, Assignments: [][]int32{{1}}}, ErrTopicIDExists)
	b.fails(CreateTopic{Name: "other", Assignments: [][]int32{{1}}}, ErrInvalidTopic)
	b.fails(CreateTopic{Name: "bad name", ID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrInvalidTopic)
	b.fails(CreateTopic{Name: "..", ID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrInvalidTopic)
	b.fails(CreateTopic{Name: string(bytes.Repeat([]byte("a"), 250)), ID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrInvalidTopic)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid()}, ErrInvalidPartitions)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid(), Assignments: [][]int32{{}}}, ErrInvalidReplicaAssignment)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid(), Assignments: [][]int32{{1, 1}}}, ErrInvalidReplicaAssignment)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid(), Assignments: [][]int32{{9}}}, ErrInvalidReplicaAssignment)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid(), Assignments: [][]int32{{1}, {1, 2}}}, ErrInvalidReplicaAssignment)
	b.fails(CreateTopic{Name: "other", ID: RandomUuid(), Configs: map[string]string{"": "x"}, Assignments: [][]int32{{1}}}, ErrInvalidConfig)

	b.ok(CreateTopic{Name: "a.b", ID: RandomUuid(), Assignments: [][]int32{{1}}})
	b.fails(CreateTopic{Name: "a_b", ID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrTopicNameCollision)
}

func TestRecordIsCopied(t *testing.T) {
	b := newBuilder(t)
	as := [][]int32{{1, 2}}
	cfg := map[string]string{"k": "v"}
	b.ok(CreateTopic{Name: "t", ID: RandomUuid(), Configs: cfg, Assignments: as})
	as[0][0] = 3
	cfg["k"] = "changed"
	p := b.im.Topics["t"].Partitions[0]
	if p.Replicas[0] != 1 || p.ISR[0] != 1 || b.im.Topics["t"].Configs["k"] != "v" {
		t.Fatal("image aliases the record's slices or maps")
	}
}

func TestDeleteTopic(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Assignments: [][]int32{{1}}})
	b.ok(DeleteTopic{ID: id})
	if len(b.im.Topics) != 0 || len(b.im.TopicsByID) != 0 {
		t.Fatalf("topics left: %v", b.im.Topics)
	}
	b.fails(DeleteTopic{ID: id}, ErrUnknownTopic)
	// The name is free again, with a new id.
	b.ok(CreateTopic{Name: "t", ID: RandomUuid(), Assignments: [][]int32{{1}}})
}

func TestCreatePartitions(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Assignments: [][]int32{{1, 2}}})
	before := b.im.Topics["t"]
	b.ok(CreatePartitions{TopicID: id, Assignments: [][]int32{{2, 3}, {3, 1}}})
	tp := b.im.Topics["t"]
	if len(tp.Partitions) != 3 || tp.Partitions[2].Index != 2 || tp.Partitions[2].Leader != 3 || tp.Partitions[1].Topic != "t" {
		t.Fatalf("partitions %+v", tp.Partitions)
	}
	if tp.Partitions[0] != before.Partitions[0] {
		t.Fatal("unchanged partition was copied instead of shared")
	}
	if len(before.Partitions) != 1 {
		t.Fatal("parent topic mutated")
	}
	b.fails(CreatePartitions{TopicID: id}, ErrInvalidPartitions)
	b.fails(CreatePartitions{TopicID: RandomUuid(), Assignments: [][]int32{{1}}}, ErrUnknownTopic)
	b.fails(CreatePartitions{TopicID: id, Assignments: [][]int32{{1}}}, ErrInvalidReplicaAssignment) // rf 1 != 2
	b.fails(CreatePartitions{TopicID: id, Assignments: [][]int32{{1, 7}}}, ErrInvalidReplicaAssignment)
}

func TestAlterTopicConfig(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Configs: map[string]string{"a": "1", "b": "2"}, Assignments: [][]int32{{1}}})
	old := b.im.Topics["t"]
	b.ok(AlterTopicConfig{TopicID: id, Set: map[string]string{"a": "10", "c": "3"}, Delete: []string{"b", "absent"}})
	if got := b.im.Topics["t"].Configs; !maps.Equal(got, map[string]string{"a": "10", "c": "3"}) {
		t.Fatalf("configs %v", got)
	}
	if !maps.Equal(old.Configs, map[string]string{"a": "1", "b": "2"}) {
		t.Fatal("parent configs mutated")
	}
	if b.im.TopicsByID[id] != b.im.Topics["t"] {
		t.Fatal("Topics and TopicsByID disagree")
	}
	b.fails(AlterTopicConfig{TopicID: RandomUuid(), Set: map[string]string{"a": "1"}}, ErrUnknownTopic)
	b.fails(AlterTopicConfig{TopicID: id, Set: map[string]string{"a": "1"}, Delete: []string{"a"}}, ErrInvalidConfig)
}

func TestAlterBrokerConfig(t *testing.T) {
	b := newBuilder(t)
	b.ok(AlterBrokerConfig{BrokerID: ClusterDefault, Set: map[string]string{"log.retention.ms": "1000"}})
	b.ok(AlterBrokerConfig{BrokerID: 2, Set: map[string]string{"x": "y"}})
	if b.im.BrokerConfigs[-1]["log.retention.ms"] != "1000" || b.im.BrokerConfigs[2]["x"] != "y" {
		t.Fatalf("configs %v", b.im.BrokerConfigs)
	}
	b.ok(AlterBrokerConfig{BrokerID: 2, Delete: []string{"x"}})
	if _, ok := b.im.BrokerConfigs[2]; ok {
		t.Fatal("empty config map kept")
	}
	b.fails(AlterBrokerConfig{BrokerID: -2, Set: map[string]string{"x": "y"}}, ErrInvalidConfig)
}

func TestAllocateProducerIDs(t *testing.T) {
	b := newBuilder(t)
	im := b.ok(AllocateProducerIDs{BrokerID: 1, Count: 1000})
	if start := im.NextProducerID - 1000; start != 0 {
		t.Fatalf("first block starts at %d", start)
	}
	im = b.ok(AllocateProducerIDs{BrokerID: 2, Count: 1000})
	if start := im.NextProducerID - 1000; start != 1000 {
		t.Fatalf("second block starts at %d", start)
	}
	b.fails(AllocateProducerIDs{BrokerID: 1, Count: 0}, ErrInvalidProducerIDCount)
	b.fails(AllocateProducerIDs{BrokerID: 1, Count: MaxProducerIDBlock + 1}, ErrInvalidProducerIDCount)
	near := *b.im
	near.NextProducerID = 1<<63 - 10
	if _, err := near.Apply(near.Offset+1, AllocateProducerIDs{BrokerID: 1, Count: 11}); !errors.Is(err, ErrProducerIDsExhausted) {
		t.Fatalf("got %v", err)
	}
}

func TestChangePartition(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Assignments: [][]int32{{1, 2, 3}, {2, 3, 1}}})
	parent := b.im
	b.ok(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 1, ISR: []int32{2, 3}})
	p := b.im.Topics["t"].Partitions[0]
	want := &Partition{Topic: "t", TopicID: id, Index: 0, Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("partition %+v", p)
	}
	if parent.Topics["t"].Partitions[0].Leader != 1 {
		t.Fatal("parent partition mutated")
	}
	if b.im.Topics["t"].Partitions[1] != parent.Topics["t"].Partitions[1] {
		t.Fatal("untouched partition not shared")
	}
	// ISR-only change keeps leader and epoch, bumps partition epoch.
	b.ok(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 1, ISR: []int32{2, 3, 1}})
	if p := b.im.Topics["t"].Partitions[0]; p.PartitionEpoch != 2 || p.LeaderEpoch != 1 {
		t.Fatalf("partition %+v", p)
	}
	// Reassignment.
	b.ok(ChangePartition{TopicID: id, Partition: 1, Leader: 2, LeaderEpoch: 0, Replicas: []int32{2, 3}, ISR: []int32{2, 3}})
	// Offline partition.
	b.ok(ChangePartition{TopicID: id, Partition: 1, Leader: NoLeader, LeaderEpoch: 1, ISR: []int32{}})

	b.fails(ChangePartition{TopicID: RandomUuid(), Partition: 0, Leader: 1, LeaderEpoch: 5}, ErrUnknownTopic)
	b.fails(ChangePartition{TopicID: id, Partition: 2, Leader: 1, LeaderEpoch: 5}, ErrUnknownPartition)
	b.fails(ChangePartition{TopicID: id, Partition: -1, Leader: 1, LeaderEpoch: 5}, ErrUnknownPartition)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 3, LeaderEpoch: 1}, ErrInvalidLeaderEpoch) // leader change without bump
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 0}, ErrInvalidLeaderEpoch) // backwards
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 1, LeaderEpoch: 2, ISR: []int32{2, 3}}, ErrInvalidPartitionState)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 2, ISR: []int32{2, 9}}, ErrInvalidPartitionState)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 2, ISR: []int32{2, 2}}, ErrInvalidPartitionState)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: -3, LeaderEpoch: 2}, ErrInvalidPartitionState)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 2, Replicas: []int32{}}, ErrInvalidReplicaAssignment)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 2, Replicas: []int32{2, 9}}, ErrInvalidReplicaAssignment)
	b.fails(ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 2, Replicas: []int32{3, 1}}, ErrInvalidPartitionState) // ISR {2,3,1} not within
}

func TestPointerRecordsApply(t *testing.T) {
	b := newBuilder(t)
	b.ok(&AllocateProducerIDs{BrokerID: 1, Count: 3})
	if b.im.NextProducerID != 3 {
		t.Fatalf("next producer id %d", b.im.NextProducerID)
	}
	var nilRec *DeleteTopic
	b.fails(nilRec, ErrUnknownRecordType)
}

// TestParentNeverMutated applies a long sequence and checks every
// intermediate image still encodes to the bytes it had when published.
func TestParentNeverMutated(t *testing.T) {
	b := newBuilder(t)
	var images []*Image
	var encs [][]byte
	snap := func() {
		images = append(images, b.im)
		encs = append(encs, mustEncode(t, b.im))
	}
	id1, id2 := RandomUuid(), RandomUuid()
	snap()
	for _, r := range []Record{
		CreateTopic{Name: "a", ID: id1, Configs: map[string]string{"x": "1"}, Assignments: [][]int32{{1, 2}, {2, 3}}},
		CreateTopic{Name: "b", ID: id2, Assignments: [][]int32{{3}}},
		ChangePartition{TopicID: id1, Partition: 1, Leader: 3, LeaderEpoch: 1, ISR: []int32{3}},
		CreatePartitions{TopicID: id1, Assignments: [][]int32{{3, 1}}},
		AlterTopicConfig{TopicID: id1, Set: map[string]string{"x": "2"}},
		AlterBrokerConfig{BrokerID: 1, Set: map[string]string{"k": "v"}},
		AlterBrokerConfig{BrokerID: 1, Set: map[string]string{"k": "w"}},
		AllocateProducerIDs{BrokerID: 1, Count: 10},
		RegisterBroker{ID: 4, Host: "h", Port: 4},
		DeleteTopic{ID: id2},
		CreateTopic{Name: "a", ID: RandomUuid(), Assignments: [][]int32{{1}}}, // fails
	} {
		_ = b.apply(r)
		snap()
	}
	for i, im := range images {
		if got := mustEncode(t, im); !bytes.Equal(got, encs[i]) {
			t.Fatalf("image %d (offset %d) changed after publication:\n%s\n%s", i, im.Offset, encs[i], got)
		}
	}
	if images[2].Topics["b"] == nil || images[3].Topics["b"] != images[2].Topics["b"] || images[9].Topics["b"] != images[2].Topics["b"] {
		t.Fatal("unchanged topic not shared between images")
	}
}

func TestImageCodecRoundTrip(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "a", ID: id, Configs: map[string]string{"x": "1"}, Assignments: [][]int32{{1, 2}, {2, 3}}})
	b.ok(CreateTopic{Name: "b", ID: RandomUuid(), Assignments: [][]int32{{3}}})
	b.ok(ChangePartition{TopicID: id, Partition: 1, Leader: NoLeader, LeaderEpoch: 1, ISR: []int32{}})
	b.ok(AlterBrokerConfig{BrokerID: ClusterDefault, Set: map[string]string{"k": "v"}})
	b.ok(AllocateProducerIDs{BrokerID: 1, Count: 7})
	enc := mustEncode(t, b.im)
	got, err := DecodeImage(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b.im) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got, b.im)
	}
	if got.TopicsByID[id] != got.Topics["a"] {
		t.Fatal("TopicsByID not rebuilt")
	}
	if !bytes.Equal(mustEncode(t, got), enc) {
		t.Fatal("encoding is not deterministic")
	}
	empty, err := DecodeImage(mustEncode(t, NewImage()))
	if err != nil || !reflect.DeepEqual(empty, NewImage()) {
		t.Fatalf("empty image round trip: %+v %v", empty, err)
	}
}

func TestDecodeImageErrors(t *testing.T) {
	b := newBuilder(t)
	b.ok(CreateTopic{Name: "a", ID: RandomUuid(), Assignments: [][]int32{{1}}})
	enc := mustEncode(t, b.im)
	cases := map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{9}, enc[1:]...),
		"truncated":   enc[:len(enc)-3],
		"trailing":    append(slices.Clone(enc), "{}"...),
		"not json":    []byte{1, 'x'},
		"dup topic":   bytes.Replace(enc, []byte(`"topics":[`), []byte(`"topics":[`+string(topicJSON(t, b.im.Topics["a"]))+`,`), 1),
		"bad index":   bytes.Replace(enc, []byte(`"index":0`), []byte(`"index":1`), 1),
		"unknown fld": bytes.Replace(enc, []byte(`"offset"`), []byte(`"bogus":1,"offset"`), 1),
	}
	for name, in := range cases {
		if _, err := DecodeImage(in); err == nil {
			t.Errorf("%s: decoded", name)
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("%s: error %v has no sentinel", name, err)
		}
	}
}

func topicJSON(t *testing.T, tp *Topic) []byte {
	im := NewImage()
	im.Topics[tp.Name] = tp
	enc := mustEncode(t, im)
	start := bytes.Index(enc, []byte(`"topics":[`)) + len(`"topics":[`)
	end := bytes.Index(enc, []byte(`],"brokers"`))
	return enc[start:end]
}

// A restarted broker (new incarnation): the partitions it leads get a new
// leader epoch; after an unclean stop it leaves ISRs and ELRs that have
// another candidate, and a partition it led that way becomes leaderless.
func TestRestartedBroker(t *testing.T) {
	b := newBuilder(t)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Assignments: [][]int32{{1, 2, 3}, {2, 1, 3}}})
	b.ok(CreateTopic{Name: "solo", ID: RandomUuid(), Assignments: [][]int32{{1}}})
	parts := func(im *Image) []*Partition {
		return append(slices.Clone(im.Topics["t"].Partitions), im.Topics["solo"].Partitions[0])
	}
	// Clean restart of broker 1: p0 and p2 get a new epoch, nothing else.
	im := b.ok(RegisterBroker{ID: 1, Host: "localhost", Port: 9092, IncarnationID: RandomUuid(), CleanShutdown: true})
	ps := parts(im)
	if ps[0].Leader != 1 || ps[0].LeaderEpoch != 1 || len(ps[0].ISR) != 3 || ps[1].LeaderEpoch != 0 || ps[2].LeaderEpoch != 1 {
		t.Fatalf("after a clean restart: %+v %+v %+v", ps[0], ps[1], ps[2])
	}
	// Unclean restart: broker 1 leaves p0's and p1's ISR (others remain)
	// and p0 becomes leaderless; p2's sole replica keeps it.
	im = b.ok(RegisterBroker{ID: 1, Host: "localhost", Port: 9092, IncarnationID: RandomUuid()})
	ps = parts(im)
	if ps[0].Leader != NoLeader || ps[0].LeaderEpoch != 2 || slices.Contains(ps[0].ISR, 1) {
		t.Fatalf("p0 after an unclean restart: %+v", ps[0])
	}
	if ps[1].Leader != 2 || slices.Contains(ps[1].ISR, 1) || ps[1].LeaderEpoch != 0 {
		t.Fatalf("p1 after an unclean restart: %+v", ps[1])
	}
	if ps[2].Leader != 1 || !slices.Equal(ps[2].ISR, []int32{1}) || ps[2].LeaderEpoch != 2 {
		t.Fatalf("p2 after an unclean restart: %+v", ps[2])
	}
}

// With StrictELR (KIP-966's strict rule) an unclean restart takes the
// broker out of every ISR and ELR, even as the last candidate: the
// partition it was alone in becomes leaderless with an empty ISR.
func TestRestartedBrokerStrict(t *testing.T) {
	b := newBuilder(t)
	b.ok(CreateTopic{Name: "t", ID: RandomUuid(), Assignments: [][]int32{{1, 2, 3}}})
	b.ok(CreateTopic{Name: "solo", ID: RandomUuid(), Assignments: [][]int32{{1}}})
	// A clean restart changes nothing but the leader epoch, strict or not.
	im := b.ok(RegisterBroker{ID: 1, Host: "localhost", Port: 9092, IncarnationID: RandomUuid(), CleanShutdown: true, StrictELR: true})
	if p := im.Topics["solo"].Partitions[0]; p.Leader != 1 || !slices.Equal(p.ISR, []int32{1}) || p.LeaderEpoch != 1 {
		t.Fatalf("solo after a clean strict restart: %+v", p)
	}
	im = b.ok(RegisterBroker{ID: 1, Host: "localhost", Port: 9092, IncarnationID: RandomUuid(), StrictELR: true})
	if p := im.Topics["solo"].Partitions[0]; p.Leader != NoLeader || len(p.ISR) != 0 || len(p.ELR) != 0 || p.LeaderEpoch != 2 {
		t.Fatalf("solo after an unclean strict restart: %+v", p)
	}
	if p := im.Topics["t"].Partitions[0]; p.Leader != NoLeader || !slices.Equal(p.ISR, []int32{2, 3}) {
		t.Fatalf("t-0 after an unclean strict restart: %+v", p)
	}
	// The last ELR member leaves the ELR too.
	pe := im.Topics["t"].Partitions[0].PartitionEpoch
	b.ok(ChangePartition{TopicID: im.Topics["t"].ID, Partition: 0, Leader: 2, LeaderEpoch: 3, ISR: []int32{2}, ELR: []int32{3}, ExpectedPartitionEpoch: &pe})
	im = b.ok(RegisterBroker{ID: 3, Host: "localhost", Port: 9092, IncarnationID: RandomUuid(), StrictELR: true})
	if p := im.Topics["t"].Partitions[0]; p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) || len(p.ELR) != 0 {
		t.Fatalf("t-0 after broker 3's unclean strict restart: %+v", p)
	}
	im = b.ok(RegisterBroker{ID: 2, Host: "localhost", Port: 9092, IncarnationID: RandomUuid(), StrictELR: true})
	if p := im.Topics["t"].Partitions[0]; p.Leader != NoLeader || len(p.ISR) != 0 || len(p.ELR) != 0 {
		t.Fatalf("t-0 after its last ISR member's unclean strict restart: %+v", p)
	}
}

// One operation creates at most MaxRecordsPerUserOp partitions (KRaft's
// MAX_RECORDS_PER_USER_OP), and a topic has at most MaxTopicPartitions,
// manual assignments included.
func TestPartitionCaps(t *testing.T) {
	b := newBuilder(t)
	b.ok(RegisterBroker{ID: 1, Host: "h", Port: 1, IncarnationID: RandomUuid()})
	many := func(n int) [][]int32 {
		as := make([][]int32, n)
		for i := range as {
			as[i] = []int32{1}
		}
		return as
	}
	b.fails(CreateTopic{Name: "big", ID: RandomUuid(), Assignments: many(MaxRecordsPerUserOp + 1)}, ErrTooManyPartitions)
	id := RandomUuid()
	b.ok(CreateTopic{Name: "t", ID: id, Assignments: many(MaxRecordsPerUserOp)})
	b.fails(CreatePartitions{TopicID: id, Assignments: many(MaxRecordsPerUserOp + 1)}, ErrTooManyPartitions)
	for range 5 {
		b.ok(CreatePartitions{TopicID: id, Assignments: many(MaxRecordsPerUserOp)})
	}
	b.fails(CreatePartitions{TopicID: id, Assignments: many(MaxTopicPartitions - 6*MaxRecordsPerUserOp + 1)}, ErrInvalidPartitions)
	b.ok(CreatePartitions{TopicID: id, Assignments: many(MaxTopicPartitions - 6*MaxRecordsPerUserOp)})
}
