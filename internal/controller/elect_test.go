package controller

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Broker states for hand-built images.
const (
	up       = "up"
	fenced   = "fenced"
	shutdown = "shutdown"
)

var testTopicID = metadata.Uuid{1}

// testImage builds an image whose brokers are in the given states and
// whose topic "t" has the given partitions (Index is set from the
// position; Topic and TopicID are filled in).
func testImage(brokers map[int32]string, parts ...metadata.Partition) *metadata.Image {
	img := metadata.NewImage()
	img.ClusterID = "c"
	img.Offset = 10
	for id, st := range brokers {
		img.Brokers[id] = &metadata.Broker{ID: id, Host: "h", Port: 9000 + id, IncarnationID: metadata.Uuid{byte(id)},
			Fenced: st != up, ShuttingDown: st == shutdown}
	}
	if len(parts) > 0 {
		t := &metadata.Topic{Name: "t", ID: testTopicID, Configs: map[string]string{}}
		for i := range parts {
			p := parts[i]
			p.Topic, p.TopicID, p.Index = "t", testTopicID, int32(i)
			t.Partitions = append(t.Partitions, &p)
		}
		img.Topics["t"] = t
		img.TopicsByID[t.ID] = t
	}
	return img
}

func withBroker(img *metadata.Image, id int32, st string) *metadata.Image {
	n := *img
	n.Brokers = map[int32]*metadata.Broker{}
	for k, v := range img.Brokers {
		n.Brokers[k] = v
	}
	if st == "" {
		delete(n.Brokers, id)
	} else {
		n.Brokers[id] = &metadata.Broker{ID: id, Host: "h", Port: 9000 + id, IncarnationID: metadata.Uuid{byte(id)},
			Fenced: st != up, ShuttingDown: st == shutdown}
	}
	return &n
}

// apply applies changes to img through Image.Apply (so the metadata
// package validates them), failing the test on any error.
func apply(t *testing.T, img *metadata.Image, changes []metadata.ChangePartition) *metadata.Image {
	t.Helper()
	for _, ch := range changes {
		next, err := img.Apply(img.Offset+1, ch)
		if err != nil {
			t.Fatalf("apply %+v: %v", ch, err)
		}
		img = next
	}
	return img
}

func policy(minISR int, unclean bool) func(*metadata.Topic) ElectionPolicy {
	return func(*metadata.Topic) ElectionPolicy { return ElectionPolicy{MinISR: minISR, Unclean: unclean} }
}

// state is the part of a partition the tests compare.
type state struct {
	Leader, LeaderEpoch int32
	Replicas, ISR, ELR  []int32
	Adding, Removing    []int32
}

func stateOf(p *metadata.Partition) state {
	return state{p.Leader, p.LeaderEpoch, p.Replicas, p.ISR, p.ELR, p.AddingReplicas, p.RemovingReplicas}
}

func (s state) String() string {
	return fmt.Sprintf("leader %d epoch %d replicas %v isr %v elr %v adding %v removing %v",
		s.Leader, s.LeaderEpoch, s.Replicas, s.ISR, s.ELR, s.Adding, s.Removing)
}

func sameState(a, b state) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && slices.Equal(a.Replicas, b.Replicas) &&
		slices.Equal(a.ISR, b.ISR) && slices.Equal(a.ELR, b.ELR) && slices.Equal(a.Adding, b.Adding) &&
		slices.Equal(a.Removing, b.Removing)
}

func TestElections(t *testing.T) {
	three := map[int32]string{1: up, 2: up, 3: up}
	cases := []struct {
		name    string
		brokers map[int32]string
		part    metadata.Partition
		minISR  int
		unclean bool
		want    *state // nil: no change
	}{
		{
			name:    "all live: nothing to do",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1},
		},
		{
			name:    "fenced leader: next ISR member in replica order",
			brokers: map[int32]string{1: fenced, 2: up, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 3, 2}, ISR: []int32{2, 1, 3}, Leader: 1, LeaderEpoch: 4},
			want:    &state{Leader: 3, LeaderEpoch: 5, Replicas: []int32{1, 3, 2}, ISR: []int32{2, 3}},
		},
		{
			name:    "fenced follower leaves the ISR, leader and epoch stay",
			brokers: map[int32]string{1: up, 2: fenced, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 2},
			want:    &state{Leader: 1, LeaderEpoch: 2, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 3}},
		},
		{
			name:    "shutting-down leader loses leadership",
			brokers: map[int32]string{1: shutdown, 2: up, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1},
			want:    &state{Leader: 2, LeaderEpoch: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}},
		},
		{
			name:    "unregistered ISR member counts as dead",
			brokers: map[int32]string{1: up, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1},
			want:    &state{Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 3}},
		},
		{
			name:    "ISR below min.insync.replicas: removed member goes to the ELR",
			brokers: map[int32]string{1: up, 2: fenced, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Leader: 1},
			minISR:  2,
			want:    &state{Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1}, ELR: []int32{2}},
		},
		{
			name:    "ISR at min.insync.replicas: ELR cleared",
			brokers: map[int32]string{1: up, 2: up, 3: fenced},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1, ELR: nil},
			minISR:  2,
			want:    &state{Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}},
		},
		{
			name:    "last ISR member fenced: ELR, no leader",
			brokers: map[int32]string{1: fenced, 2: up},
			part:    metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 7},
			want:    &state{Leader: metadata.NoLeader, LeaderEpoch: 8, Replicas: []int32{1, 2}, ISR: []int32{}, ELR: []int32{1}},
		},
		{
			name:    "no leader, ELR member back: elected from the ELR",
			brokers: map[int32]string{1: up, 2: up},
			part:    metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{}, ELR: []int32{1}, Leader: metadata.NoLeader, LeaderEpoch: 8},
			want:    &state{Leader: 1, LeaderEpoch: 9, Replicas: []int32{1, 2}, ISR: []int32{1}},
		},
		{
			name:    "ELR election keeps the rest of the ELR while below min ISR",
			brokers: map[int32]string{1: fenced, 2: up, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{}, ELR: []int32{1, 3, 2}, Leader: metadata.NoLeader, LeaderEpoch: 3},
			minISR:  2,
			want:    &state{Leader: 3, LeaderEpoch: 4, Replicas: []int32{1, 2, 3}, ISR: []int32{3}, ELR: []int32{1, 2}},
		},
		{
			name:    "ELR all down, clean only: stays leaderless",
			brokers: map[int32]string{1: fenced, 2: up},
			part:    metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{}, ELR: []int32{1}, Leader: metadata.NoLeader, LeaderEpoch: 8},
		},
		{
			name:    "ELR all down, unclean: first live replica",
			brokers: map[int32]string{1: fenced, 2: up, 3: up},
			part:    metadata.Partition{Replicas: []int32{1, 3, 2}, ISR: []int32{}, ELR: []int32{1}, Leader: metadata.NoLeader, LeaderEpoch: 8},
			unclean: true,
			want:    &state{Leader: 3, LeaderEpoch: 9, Replicas: []int32{1, 3, 2}, ISR: []int32{3}},
		},
		{
			name:    "unclean in one step when the whole ISR is fenced",
			brokers: map[int32]string{1: fenced, 2: up},
			part:    metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1},
			unclean: true,
			want:    &state{Leader: 2, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{2}},
		},
		{
			name:    "no live replica at all, unclean: leaderless",
			brokers: map[int32]string{1: fenced, 2: fenced},
			part:    metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1},
			unclean: true,
			want:    &state{Leader: metadata.NoLeader, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{}, ELR: []int32{1, 2}},
		},
		{
			name:    "leaderless with a live ISR member: elected",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3}, Leader: metadata.NoLeader, LeaderEpoch: 2},
			want:    &state{Leader: 3, LeaderEpoch: 3, Replicas: []int32{1, 2, 3}, ISR: []int32{3}},
		},
		{
			name:    "live replica outside the ISR is not added",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1}, Leader: 1},
		},
		{
			name:    "reassignment waits for every adding replica",
			brokers: map[int32]string{1: up, 2: up, 4: up, 5: up},
			part: metadata.Partition{Replicas: []int32{4, 5, 1, 2}, ISR: []int32{1, 2, 4}, Leader: 1,
				AddingReplicas: []int32{4, 5}, RemovingReplicas: []int32{1, 2}},
		},
		{
			name:    "reassignment completes: leader leaves, first target replica in the ISR leads",
			brokers: map[int32]string{1: up, 2: up, 4: up, 5: up},
			part: metadata.Partition{Replicas: []int32{4, 5, 1, 2}, ISR: []int32{1, 2, 5, 4}, Leader: 1, LeaderEpoch: 3,
				AddingReplicas: []int32{4, 5}, RemovingReplicas: []int32{1, 2}},
			want: &state{Leader: 4, LeaderEpoch: 4, Replicas: []int32{4, 5}, ISR: []int32{5, 4}, Adding: nil, Removing: nil},
		},
		{
			name:    "reassignment completes keeping a leader that stays",
			brokers: map[int32]string{1: up, 2: up, 3: up},
			part: metadata.Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{1, 2, 3}, Leader: 2,
				AddingReplicas: []int32{3}, RemovingReplicas: []int32{1}},
			want: &state{Leader: 2, Replicas: []int32{2, 3}, ISR: []int32{2, 3}},
		},
		{
			name:    "removal-only reassignment completes at once",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 3, RemovingReplicas: []int32{3}},
			want:    &state{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}},
		},
		{
			name:    "adding-only reassignment completes with the same replica list",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 3, 2}, Leader: 1, AddingReplicas: []int32{3}},
			want:    &state{Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 3, 2}},
		},
		{
			name:    "removal waits while no target replica is in the ISR",
			brokers: three,
			part:    metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3}, Leader: 3, RemovingReplicas: []int32{3}},
		},
		{
			name:    "completion after a fenced removing leader",
			brokers: map[int32]string{1: fenced, 2: up, 3: up},
			part: metadata.Partition{Replicas: []int32{3, 2, 1}, ISR: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 1,
				AddingReplicas: []int32{3}, RemovingReplicas: []int32{1}},
			want: &state{Leader: 3, LeaderEpoch: 2, Replicas: []int32{3, 2}, ISR: []int32{2, 3}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.part.PartitionEpoch = 11
			img := testImage(tc.brokers, tc.part)
			changes := Elections(img, policy(tc.minISR, tc.unclean))
			if tc.want == nil {
				if len(changes) != 0 {
					t.Fatalf("changes %+v, want none", changes)
				}
				return
			}
			if len(changes) != 1 {
				t.Fatalf("%d changes %+v, want 1", len(changes), changes)
			}
			if e := changes[0].ExpectedPartitionEpoch; e == nil || *e != 11 {
				t.Fatalf("ExpectedPartitionEpoch %v, want 11", e)
			}
			got := stateOf(apply(t, img, changes).Topics["t"].Partitions[0])
			if !sameState(got, *tc.want) {
				t.Fatalf("after election:\n got  %v\n want %v", got, *tc.want)
			}
			// A second pass over the result changes nothing.
			if again := Elections(apply(t, img, changes), policy(tc.minISR, tc.unclean)); len(again) != 0 {
				t.Fatalf("not stable: second pass %+v", again)
			}
		})
	}
}

// TestElectionsLastReplicaRoundTrip follows KIP-966's scenario: the last
// ISR member is fenced (leaderless, kept in the ELR), then comes back and
// is elected again; an unclean election is never needed.
func TestElectionsLastReplicaRoundTrip(t *testing.T) {
	img := testImage(map[int32]string{1: up, 2: up},
		metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1})
	pol := policy(1, false)

	img = withBroker(img, 1, fenced)
	img = apply(t, img, Elections(img, pol))
	p := img.Topics["t"].Partitions[0]
	if p.Leader != metadata.NoLeader || len(p.ISR) != 0 || !slices.Equal(p.ELR, []int32{1}) {
		t.Fatalf("after fencing the last ISR member: %v", stateOf(p))
	}
	// Replica 2 is live but was never in sync: not elected.
	if ch := Elections(img, pol); len(ch) != 0 {
		t.Fatalf("elected without a clean candidate: %+v", ch)
	}
	img = withBroker(img, 1, up)
	img = apply(t, img, Elections(img, pol))
	p = img.Topics["t"].Partitions[0]
	if p.Leader != 1 || p.LeaderEpoch != 2 || !slices.Equal(p.ISR, []int32{1}) || len(p.ELR) != 0 {
		t.Fatalf("after the ELR member came back: %v", stateOf(p))
	}
}

func TestElectionsOrderAndPolicyPerTopic(t *testing.T) {
	img := testImage(map[int32]string{1: fenced, 2: up})
	for i, name := range []string{"b", "a", "c"} {
		tp := &metadata.Topic{Name: name, ID: metadata.Uuid{byte(10 + i)}}
		for j := range 2 {
			tp.Partitions = append(tp.Partitions, &metadata.Partition{Topic: name, TopicID: tp.ID, Index: int32(j),
				Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1})
		}
		img.Topics[name] = tp
		img.TopicsByID[tp.ID] = tp
	}
	changes := Elections(img, func(t *metadata.Topic) ElectionPolicy {
		return ElectionPolicy{MinISR: 1, Unclean: t.Name == "c"}
	})
	var got []string
	for _, ch := range changes {
		got = append(got, fmt.Sprintf("%s-%d:%d", img.TopicsByID[ch.TopicID].Name, ch.Partition, ch.Leader))
	}
	want := []string{"a-0:-1", "a-1:-1", "b-0:-1", "b-1:-1", "c-0:2", "c-1:2"}
	if !slices.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

func TestTopicElectionPolicy(t *testing.T) {
	img := metadata.NewImage()
	def := ElectionPolicy{MinISR: 1}
	tp := &metadata.Topic{Name: "t", Configs: map[string]string{}}
	if p := TopicElectionPolicy(img, tp, def); p != def {
		t.Fatalf("static defaults: %+v", p)
	}
	img.BrokerConfigs[metadata.ClusterDefault] = map[string]string{minISRKey: "2", uncleanKey: "true"}
	if p := TopicElectionPolicy(img, tp, def); p != (ElectionPolicy{MinISR: 2, Unclean: true}) {
		t.Fatalf("cluster default: %+v", p)
	}
	tp.Configs = map[string]string{minISRKey: "3", uncleanKey: "False"}
	if p := TopicElectionPolicy(img, tp, def); p != (ElectionPolicy{MinISR: 3}) {
		t.Fatalf("topic config: %+v", p)
	}
	tp.Configs = map[string]string{minISRKey: "zero", uncleanKey: "maybe"}
	if p := TopicElectionPolicy(img, tp, def); p != (ElectionPolicy{MinISR: 2, Unclean: true}) {
		t.Fatalf("unparsable topic config falls through: %+v", p)
	}
}

func TestPreferredElections(t *testing.T) {
	img := testImage(map[int32]string{1: up, 2: up, 3: fenced},
		metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 2, LeaderEpoch: 5, PartitionEpoch: 9}, // elect 1
		metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{2}, Leader: 2},                                       // 1 not in ISR
		metadata.Partition{Replicas: []int32{3, 2}, ISR: []int32{3, 2}, Leader: 2},                                    // 3 fenced
		metadata.Partition{Replicas: []int32{2, 1}, ISR: []int32{1, 2}, Leader: 2},                                    // already
		metadata.Partition{Replicas: []int32{2, 1}, ISR: []int32{1, 2}, Leader: 1},                                    // elect 2
	)
	changes := PreferredElections(img, nil)
	if len(changes) != 2 || changes[0].Partition != 0 || changes[1].Partition != 4 {
		t.Fatalf("changes %+v", changes)
	}
	if ch := changes[0]; ch.Leader != 1 || ch.LeaderEpoch != 6 || *ch.ExpectedPartitionEpoch != 9 || !slices.Equal(ch.ISR, []int32{1, 2}) {
		t.Fatalf("change %+v", ch)
	}
	after := apply(t, img, changes)
	if p := after.Topics["t"].Partitions[4]; p.Leader != 2 || p.LeaderEpoch != 1 {
		t.Fatalf("partition 4 after: %v", stateOf(p))
	}
	only4 := PreferredElections(img, func(p *metadata.Partition) bool { return p.Index == 4 })
	if len(only4) != 1 || only4[0].Partition != 4 {
		t.Fatalf("filtered: %+v", only4)
	}
}

func TestImbalancedBrokers(t *testing.T) {
	brokers := map[int32]string{1: up, 2: up}
	var parts []metadata.Partition
	// Ten partitions prefer broker 1, two of them led by 2 (20%); ten
	// prefer broker 2, one led by 1 (10%, not above the threshold).
	for i := range 10 {
		leader := int32(1)
		if i < 2 {
			leader = 2
		}
		parts = append(parts, metadata.Partition{Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: leader})
	}
	for i := range 10 {
		leader := int32(2)
		if i < 1 {
			leader = 1
		}
		parts = append(parts, metadata.Partition{Replicas: []int32{2, 1}, ISR: []int32{1, 2}, Leader: leader})
	}
	// A reassigning partition is not counted.
	parts = append(parts, metadata.Partition{Replicas: []int32{2, 1}, ISR: []int32{1, 2}, Leader: 1, AddingReplicas: []int32{2}})
	img := testImage(brokers, parts...)

	imb := ImbalancedBrokers(img, 10)
	if !imb[1] || imb[2] || len(imb) != 1 {
		t.Fatalf("imbalanced at 10%%: %v", imb)
	}
	if imb := ImbalancedBrokers(img, 0); !imb[1] || !imb[2] {
		t.Fatalf("imbalanced at 0%%: %v", imb)
	}
	if imb := ImbalancedBrokers(img, 20); len(imb) != 0 {
		t.Fatalf("imbalanced at 20%%: %v", imb)
	}
	changes := RebalanceElections(img, 10)
	if len(changes) != 2 || changes[0].Leader != 1 || changes[1].Leader != 1 {
		t.Fatalf("rebalance: %+v", changes)
	}
	if got := RebalanceElections(img, 50); len(got) != 0 {
		t.Fatalf("rebalance at 50%%: %+v", got)
	}
}

// TestChangePartitionClearsListsThroughEncoding: elections and
// reassignments clear the ELR and the adding/removing replicas with
// empty, non-nil lists. Proposals are encoded, so an empty list must
// survive EncodeRecord/DecodeRecord as empty (not as nil, which keeps the
// current list).
func TestChangePartitionClearsListsThroughEncoding(t *testing.T) {
	in := metadata.ChangePartition{Leader: 1, ISR: []int32{1}, ELR: []int32{}, AddingReplicas: []int32{}, RemovingReplicas: []int32{}}
	b, err := metadata.EncodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := metadata.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	out := r.(metadata.ChangePartition)
	if out.ELR == nil || out.AddingReplicas == nil || out.RemovingReplicas == nil {
		t.Fatalf("empty lists decode as nil (\"keep\"): %s\n"+
			"metadata.ChangePartition's elr, adding_replicas and removing_replicas JSON tags must not be omitempty, "+
			"or an election can never clear the ELR nor complete a reassignment", b)
	}
}

// TestElectionLoop runs the loop on a real single-voter controller:
// fencing the leader moves leadership, fencing the last ISR member leaves
// the partition leaderless with its ELR, unfencing it elects it again,
// and a reassignment completes once its new replica joins the ISR.
func TestElectionLoop(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	inc := map[int32]metadata.Uuid{}
	for _, id := range []int32{1, 2, 3, 4} {
		inc[id] = metadata.RandomUuid()
		propose(t, c, metadata.RegisterBroker{ID: id, Host: "localhost", Port: 9090 + id, IncarnationID: inc[id]})
	}
	propose(t, c, metadata.CreateTopic{Name: "t", ID: metadata.RandomUuid(), Assignments: [][]int32{{2, 3, 1}}})
	id := metadata.RandomUuid()
	propose(t, c, metadata.CreateTopic{Name: "u", ID: id, Assignments: [][]int32{{3}}})

	waitPartition := func(what string, topic string, ok func(p *metadata.Partition) bool) *metadata.Partition {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			p := c.Image().Topics[topic].Partitions[0]
			if ok(p) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s-0 is %v", what, topic, stateOf(p))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	propose(t, c, metadata.FenceBroker{ID: 2, IncarnationID: inc[2]})
	waitPartition("leader fenced", "t", func(p *metadata.Partition) bool {
		return p.Leader == 3 && p.LeaderEpoch == 1 && slices.Equal(p.ISR, []int32{3, 1})
	})

	propose(t, c, metadata.FenceBroker{ID: 3, IncarnationID: inc[3]})
	waitPartition("last ISR member fenced", "u", func(p *metadata.Partition) bool {
		return p.Leader == metadata.NoLeader && len(p.ISR) == 0 && slices.Equal(p.ELR, []int32{3})
	})
	waitPartition("second leader fenced", "t", func(p *metadata.Partition) bool {
		return p.Leader == 1 && slices.Equal(p.ISR, []int32{1})
	})

	propose(t, c, metadata.UnfenceBroker{ID: 3, IncarnationID: inc[3]})
	waitPartition("ELR member back", "u", func(p *metadata.Partition) bool {
		return p.Leader == 3 && slices.Equal(p.ISR, []int32{3}) && len(p.ELR) == 0
	})

	// Reassign u-0 from [3] to [4]; the "leader" then reports 4 in sync
	// (as AlterPartition will), and the loop completes it.
	ch, needed, err := Reassign(c.Image(), "u", 0, []int32{4})
	if err != nil || !needed {
		t.Fatalf("Reassign: %v %v", needed, err)
	}
	img := propose(t, c, ch)
	p := img.Topics["u"].Partitions[0]
	if !slices.Equal(p.Replicas, []int32{4, 3}) || !slices.Equal(p.AddingReplicas, []int32{4}) || !slices.Equal(p.RemovingReplicas, []int32{3}) {
		t.Fatalf("reassigning: %v", stateOf(p))
	}
	for {
		p = c.Image().Topics["u"].Partitions[0]
		_, err := c.Propose(testCtx(t), metadata.ChangePartition{TopicID: id, Partition: 0, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			ISR: []int32{3, 4}, ExpectedPartitionEpoch: &p.PartitionEpoch})
		if err == nil {
			break
		}
		if !errors.Is(err, metadata.ErrStalePartitionEpoch) {
			t.Fatalf("ISR expansion: %v", err)
		}
	}
	waitPartition("reassignment complete", "u", func(p *metadata.Partition) bool {
		return p.Leader == 4 && slices.Equal(p.Replicas, []int32{4}) && slices.Equal(p.ISR, []int32{4}) && !p.Reassigning()
	})
}
