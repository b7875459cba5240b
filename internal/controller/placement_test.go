package controller

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// placementImage registers brokers: racks[id] is the broker's rack ("" for
// none); ids in fenced are fenced, in shutdown in controlled shutdown.
func placementImage(racks map[int32]string, fenced, shutdown []int32) *metadata.Image {
	img := metadata.NewImage()
	for id, rack := range racks {
		img.Brokers[id] = &metadata.Broker{ID: id, Host: "h", Port: 9000 + id, Rack: rack,
			Fenced:       slices.Contains(fenced, id) || slices.Contains(shutdown, id),
			ShuttingDown: slices.Contains(shutdown, id)}
	}
	return img
}

func TestAssignReplicasWithoutRacks(t *testing.T) {
	img := placementImage(map[int32]string{1: "", 2: "", 3: "", 4: ""}, []int32{2}, []int32{4})
	got, err := AssignReplicas(img, 0, 4, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Live brokers [1 3], round robin from partition+seed.
	want := [][]int32{{3, 1}, {1, 3}, {3, 1}, {1, 3}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("assignment %v, want %v", got, want)
	}
	if _, err := AssignReplicas(img, 0, 1, 3, 0); !errors.Is(err, ErrInvalidReplicationFactor) ||
		err.Error() != "replication factor: 3 larger than available brokers: 2" {
		t.Fatalf("rf 3 over 2 live brokers: %v", err)
	}
	if _, err := AssignReplicas(img, 0, 1, 0, 0); !errors.Is(err, ErrInvalidReplicationFactor) {
		t.Fatalf("rf 0: %v", err)
	}
}

// checkRackAware checks each partition's replicas: distinct, live, on
// min(rf, racks) distinct racks; and that leaders are spread evenly.
func checkRackAware(t *testing.T, img *metadata.Image, as [][]int32, rf, racks int) {
	t.Helper()
	leaders := map[int32]int{}
	for p, reps := range as {
		if len(reps) != rf {
			t.Fatalf("partition %d: %v, want %d replicas", p, reps, rf)
		}
		seen := map[string]bool{}
		for i, id := range reps {
			b := img.Brokers[id]
			if b == nil || b.Fenced || slices.Contains(reps[:i], id) {
				t.Fatalf("partition %d: %v: broker %d duplicate, unknown or fenced", p, reps, id)
			}
			seen[b.Rack] = true
		}
		if len(seen) != min(rf, racks) {
			t.Fatalf("partition %d: %v spans racks %v, want %d racks", p, reps, seen, min(rf, racks))
		}
		leaders[reps[0]]++
	}
	lo, hi := len(as), 0
	for _, n := range leaders {
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi-lo > 1 {
		t.Fatalf("leaders unevenly spread: %v", leaders)
	}
}

func TestAssignReplicasRackAware(t *testing.T) {
	six := map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}
	for _, tc := range []struct {
		name         string
		racks        map[int32]string
		fenced       []int32
		first, count int32
		rf           int16
		seed, nRacks int
	}{
		{name: "three racks rf 3", racks: six, count: 12, rf: 3, seed: 5, nRacks: 3},
		{name: "three racks rf 2", racks: six, count: 30, rf: 2, seed: 0, nRacks: 3},
		{name: "added partitions", racks: six, first: 7, count: 11, rf: 3, seed: 2, nRacks: 3},
		{name: "two racks rf 3", racks: map[int32]string{1: "x", 2: "y", 3: "x", 4: "y"}, count: 8, rf: 3, seed: 3, nRacks: 2},
		{name: "uneven racks", racks: map[int32]string{1: "a", 2: "a", 3: "a", 4: "b"}, count: 8, rf: 2, seed: 1, nRacks: 2},
		{name: "a broker without rack is its own rack", racks: map[int32]string{1: "a", 2: "", 3: "b"}, count: 6, rf: 3, seed: 4, nRacks: 3},
		{name: "fenced brokers are skipped", racks: six, fenced: []int32{3, 4}, count: 8, rf: 2, seed: 0, nRacks: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := placementImage(tc.racks, tc.fenced, nil)
			as, err := AssignReplicas(img, tc.first, tc.count, tc.rf, tc.seed)
			if err != nil {
				t.Fatal(err)
			}
			if len(as) != int(tc.count) {
				t.Fatalf("%d partitions, want %d", len(as), tc.count)
			}
			checkRackAware(t, img, as, int(tc.rf), tc.nRacks)
			again, _ := AssignReplicas(img, tc.first, tc.count, tc.rf, tc.seed)
			if fmt.Sprint(again) != fmt.Sprint(as) {
				t.Fatalf("not deterministic: %v then %v", as, again)
			}
		})
	}
}

func TestAssignReplicasRackAwareLayout(t *testing.T) {
	// Kafka's rack-alternated list for racks a=[1 2], b=[3 4], c=[5 6] is
	// [1 3 5 2 4 6]; with start 0 and shift 0 partition 0 is led by 1 and
	// takes the next brokers on new racks.
	img := placementImage(map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}, nil, nil)
	as, err := AssignReplicas(img, 0, 6, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{{1, 3, 5}, {3, 5, 2}, {5, 2, 4}, {2, 4, 6}, {4, 6, 1}, {6, 1, 3}}
	if fmt.Sprint(as) != fmt.Sprint(want) {
		t.Fatalf("assignment %v, want %v", as, want)
	}
}
