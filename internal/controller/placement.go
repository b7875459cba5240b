package controller

import (
	"errors"
	"fmt"
	"slices"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// ErrInvalidReplicationFactor is what AssignReplicas returns (wrapped, with
// Kafka's message) when asked for no replicas or for more than there are
// live brokers.
var ErrInvalidReplicationFactor = errors.New("controller: invalid replication factor")

// replicationFactorError carries Kafka's message for the wire
// (INVALID_REPLICATION_FACTOR) and unwraps to ErrInvalidReplicationFactor.
type replicationFactorError struct {
	rf   int16
	live int
}

func (e *replicationFactorError) Error() string {
	return fmt.Sprintf("replication factor: %d larger than available brokers: %d", e.rf, e.live)
}

func (e *replicationFactorError) Unwrap() error { return ErrInvalidReplicationFactor }

// AssignReplicas places rf replicas for each of the count partitions
// first, first+1, … over img's live brokers (registered, unfenced, not in
// controlled shutdown). Without racks it goes round robin from partition
// p+seed, as Kafka's non-rack-aware placement does; when brokers have racks
// (broker.rack) it uses Kafka's rack-aware placement (rackAwareReplicas).
// The first replica of each partition is its preferred leader. Callers pass
// a seed that depends on the topic (the broker uses the name's length) so
// that topics do not all start on the same broker. The result depends only
// on its arguments.
func AssignReplicas(img *metadata.Image, first, count int32, rf int16, seed int) ([][]int32, error) {
	var ids []int32
	racks := false
	for id, br := range img.Brokers {
		if !br.Fenced && !br.ShuttingDown {
			ids = append(ids, id)
			racks = racks || br.Rack != ""
		}
	}
	slices.Sort(ids)
	if int(rf) > len(ids) || rf <= 0 {
		return nil, &replicationFactorError{rf: rf, live: len(ids)}
	}
	if racks {
		return rackAwareReplicas(img, ids, first, count, int(rf), seed), nil
	}
	out := make([][]int32, 0, count)
	for p := first; p < first+count; p++ {
		reps := make([]int32, rf)
		for r := range reps {
			reps[r] = ids[(int(p)+seed+r)%len(ids)]
		}
		out = append(out, reps)
	}
	return out, nil
}

// rackAwareReplicas is Kafka's rack-aware assignment
// (AdminUtils.assignReplicasToBrokersRackAware) over the sorted broker ids,
// with seed in place of its random start and shift. The brokers are listed
// alternating between racks (racks and the brokers of each rack sorted);
// partition p's first replica, its leader, is the ((p+start) mod n)-th of
// that list, which spreads leaders evenly; each further replica is the
// next broker, at a shift that grows every n partitions, that is on a rack
// without a replica of the partition yet, until every rack has one.
// Brokers without a rack count as one rack.
func rackAwareReplicas(img *metadata.Image, ids []int32, first, count int32, rf, seed int) [][]int32 {
	arranged, numRacks := rackAlternated(img, ids)
	n := len(arranged)
	start, shift := seed%n, seed%n
	out := make([][]int32, 0, count)
	for p := int(first); p < int(first+count); p++ {
		if p > 0 && p%n == 0 {
			shift++
		}
		firstIdx := (p + start) % n
		leader := arranged[firstIdx]
		reps := []int32{leader}
		racksUsed := map[string]bool{img.Brokers[leader].Rack: true}
		used := map[int32]bool{leader: true}
		for k := 0; len(reps) < rf; k++ {
			// n > 1 here: rf <= n.
			b := arranged[(firstIdx+1+(shift*numRacks+k)%(n-1))%n]
			rack := img.Brokers[b].Rack
			if (!racksUsed[rack] || len(racksUsed) == numRacks) && !used[b] {
				reps = append(reps, b)
				racksUsed[rack] = true
				used[b] = true
			}
		}
		out = append(out, reps)
	}
	return out
}

// rackAlternated lists ids alternating between racks (racks sorted, each
// rack's brokers in ids' order) and returns the number of racks.
func rackAlternated(img *metadata.Image, ids []int32) ([]int32, int) {
	byRack := map[string][]int32{}
	for _, id := range ids {
		rack := img.Brokers[id].Rack
		byRack[rack] = append(byRack[rack], id)
	}
	racks := make([]string, 0, len(byRack))
	for rack := range byRack {
		racks = append(racks, rack)
	}
	slices.Sort(racks)
	arranged := make([]int32, 0, len(ids))
	for i := 0; len(arranged) < len(ids); i++ {
		for _, rack := range racks {
			if i < len(byRack[rack]) {
				arranged = append(arranged, byRack[rack][i])
			}
		}
	}
	return arranged, len(racks)
}
