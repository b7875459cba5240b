package controller

import (
	"errors"
	"slices"
	"testing"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

func TestReassign(t *testing.T) {
	brokers := map[int32]string{1: up, 2: up, 3: up, 4: up, 5: fenced}
	base := metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 2, PartitionEpoch: 6}
	moving := metadata.Partition{Replicas: []int32{3, 4, 1, 2}, ISR: []int32{1, 2, 3, 4}, Leader: 4, LeaderEpoch: 3, PartitionEpoch: 8,
		AddingReplicas: []int32{4}, RemovingReplicas: []int32{1, 2}}
	cases := []struct {
		name   string
		part   metadata.Partition
		target []int32
		want   *state // nil with wantErr nil: nothing to do
	}{
		{
			name:   "move: target first, then the replicas being removed",
			part:   base,
			target: []int32{3, 4},
			want:   &state{Leader: 1, LeaderEpoch: 2, Replicas: []int32{3, 4, 1, 2}, ISR: []int32{1, 2, 3}, Adding: []int32{4}, Removing: []int32{1, 2}},
		},
		{
			name:   "to a fenced broker is allowed (it catches up once back)",
			part:   base,
			target: []int32{1, 2, 5},
			want:   &state{Leader: 1, LeaderEpoch: 2, Replicas: []int32{1, 2, 5, 3}, ISR: []int32{1, 2, 3}, Adding: []int32{5}, Removing: []int32{3}},
		},
		{
			name:   "reorder completes at once",
			part:   base,
			target: []int32{3, 2, 1},
			want:   &state{Leader: 1, LeaderEpoch: 2, Replicas: []int32{3, 2, 1}, ISR: []int32{1, 2, 3}},
		},
		{
			name:   "shrink completes at once and moves the leader",
			part:   base,
			target: []int32{2, 3},
			want:   &state{Leader: 2, LeaderEpoch: 3, Replicas: []int32{2, 3}, ISR: []int32{2, 3}},
		},
		{
			name:   "same replicas: nothing to do",
			part:   base,
			target: []int32{1, 2, 3},
		},
		{
			name:   "same target again: nothing to do",
			part:   moving,
			target: []int32{3, 4},
		},
		{
			name:   "new target replaces the old, computed from the original replicas",
			part:   moving,
			target: []int32{2, 5},
			// original [3 1 2] (Replicas order); 4 (being added) is
			// dropped, with its ISR membership and leadership.
			want: &state{Leader: 2, LeaderEpoch: 4, Replicas: []int32{2, 5, 3, 1}, ISR: []int32{1, 2, 3}, Adding: []int32{5}, Removing: []int32{3, 1}},
		},
		{
			name:   "new target naming the original replicas ends the reassignment",
			part:   moving,
			target: []int32{1, 2, 3},
			want:   &state{Leader: 1, LeaderEpoch: 4, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}},
		},
		{
			name: "cancel reverts to the original replicas; the adding leader hands over",
			part: moving,
			want: &state{Leader: 3, LeaderEpoch: 4, Replicas: []int32{3, 1, 2}, ISR: []int32{1, 2, 3}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := testImage(brokers, tc.part)
			ch, needed, err := Reassign(img, "t", 0, tc.target)
			if err != nil {
				t.Fatalf("Reassign: %v", err)
			}
			if tc.want == nil {
				if needed {
					t.Fatalf("change %+v, want none", ch)
				}
				return
			}
			if !needed {
				t.Fatal("no change")
			}
			if e := ch.ExpectedPartitionEpoch; e == nil || *e != tc.part.PartitionEpoch {
				t.Fatalf("ExpectedPartitionEpoch %v, want %d", e, tc.part.PartitionEpoch)
			}
			got := stateOf(apply(t, img, []metadata.ChangePartition{ch}).Topics["t"].Partitions[0])
			if !sameState(got, *tc.want) {
				t.Fatalf("after reassign:\n got  %v\n want %v", got, *tc.want)
			}
		})
	}
}

func TestReassignErrors(t *testing.T) {
	img := testImage(map[int32]string{1: up, 2: up},
		metadata.Partition{Replicas: []int32{1}, ISR: []int32{1}, Leader: 1},
		metadata.Partition{Replicas: []int32{2, 1}, ISR: []int32{2}, Leader: 2, AddingReplicas: []int32{2}})
	cases := []struct {
		name      string
		topic     string
		partition int32
		target    []int32
		want      error
		msg       string
	}{
		{"unknown topic", "nope", 0, []int32{1}, metadata.ErrUnknownTopic, "Unable to find a topic named nope."},
		{"unknown partition", "t", 7, []int32{1}, metadata.ErrUnknownPartition, "Unable to find partition t:7."},
		{"negative partition", "t", -1, nil, metadata.ErrUnknownPartition, "Unable to find partition t:-1."},
		{"empty target", "t", 0, []int32{}, metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes an empty replica list."},
		{"duplicate", "t", 0, []int32{2, 1, 2}, metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes the broker 2 more than once."},
		{"unregistered broker", "t", 0, []int32{1, 9}, metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes broker 9, but no such broker is registered."},
		{"cancel without reassignment", "t", 0, nil, ErrNoReassignmentInProgress, "No partition reassignment is in progress."},
		// Partition 1's only ISR member is the replica being added:
		// reverting would need an unclean election.
		{"cancel needing an unclean election", "t", 1, nil, metadata.ErrInvalidReplicaAssignment,
			"Unable to revert partition assignment for t:1 because it would require an unclean leader election."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, needed, err := Reassign(img, tc.topic, tc.partition, tc.target)
			if !errors.Is(err, tc.want) || needed {
				t.Fatalf("err %v needed %v, want %v", err, needed, tc.want)
			}
			var re *ReassignError
			if !errors.As(err, &re) || re.Msg != tc.msg {
				t.Fatalf("message %q, want %q", err, tc.msg)
			}
		})
	}
}

// TestReassignmentLifecycle drives a move from [1 2 3] to [3 4 5] through
// Reassign, the ISR expansions the leader would propose, and Elections.
func TestReassignmentLifecycle(t *testing.T) {
	img := testImage(map[int32]string{1: up, 2: up, 3: up, 4: up, 5: up},
		metadata.Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1})
	pol := policy(2, false)
	ch, _, err := Reassign(img, "t", 0, []int32{3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	img = apply(t, img, []metadata.ChangePartition{ch})
	p := img.Topics["t"].Partitions[0]
	if !slices.Equal(p.Replicas, []int32{3, 4, 5, 1, 2}) || !p.Reassigning() {
		t.Fatalf("started: %v", stateOf(p))
	}
	if got := Elections(img, pol); len(got) != 0 {
		t.Fatalf("completed before the new replicas joined the ISR: %+v", got)
	}
	join := func(r int32) {
		p := img.Topics["t"].Partitions[0]
		img = apply(t, img, []metadata.ChangePartition{{TopicID: p.TopicID, Partition: 0, Leader: p.Leader,
			LeaderEpoch: p.LeaderEpoch, ISR: append(slices.Clone(p.ISR), r)}})
	}
	join(4)
	if got := Elections(img, pol); len(got) != 0 {
		t.Fatalf("completed with replica 5 missing: %+v", got)
	}
	join(5)
	img = apply(t, img, Elections(img, pol))
	p = img.Topics["t"].Partitions[0]
	want := state{Leader: 3, LeaderEpoch: 1, Replicas: []int32{3, 4, 5}, ISR: []int32{3, 4, 5}}
	if !sameState(stateOf(p), want) {
		t.Fatalf("completed:\n got  %v\n want %v", stateOf(p), want)
	}
	if _, _, err := Reassign(img, "t", 0, nil); !errors.Is(err, ErrNoReassignmentInProgress) {
		t.Fatalf("cancel after completion: %v", err)
	}
}
