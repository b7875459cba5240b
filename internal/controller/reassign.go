package controller

import (
	"errors"
	"fmt"
	"slices"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Partition reassignment (KIP-455), as Kafka's KRaft controller does it:
//
//  1. Reassign records the target: Replicas becomes the target followed by
//     the current replicas that are not in it, AddingReplicas the target
//     replicas that are new, RemovingReplicas the current ones that are
//     not in the target. The new replicas start as followers and fetch
//     from the leader, which adds them to the ISR once caught up.
//  2. When every adding replica is in the ISR, Elections (elect.go)
//     completes it: Replicas becomes the target, the ISR and ELR lose the
//     removed replicas, and a new leader is elected if the old one left.
//
// A reassignment that adds no replica (it only removes or reorders)
// completes at once. Reassigning a partition that is being reassigned
// replaces the target; the new one is computed from the original replicas
// (Replicas minus AddingReplicas), so replicas that the previous target was
// adding and the new one does not name are dropped. Cancelling reverts to
// the original replicas.

// ErrNoReassignmentInProgress: a cancellation names a partition that is
// not being reassigned (Kafka's NO_REASSIGNMENT_IN_PROGRESS).
var ErrNoReassignmentInProgress = errors.New("controller: no partition reassignment is in progress")

// ReassignError is a refused reassignment: Err is the sentinel to test
// with errors.Is (ErrNoReassignmentInProgress or one of metadata's:
// ErrUnknownTopic, ErrUnknownPartition, ErrInvalidReplicaAssignment), Msg
// the message Kafka sends for it.
type ReassignError struct {
	Err error
	Msg string
}

func (e *ReassignError) Error() string { return e.Msg }
func (e *ReassignError) Unwrap() error { return e.Err }

func reassignErr(err error, format string, args ...any) error {
	return &ReassignError{Err: err, Msg: fmt.Sprintf(format, args...)}
}

// Reassign returns the change that starts (target non-nil) or cancels
// (target nil) the reassignment of topic's partition in img. needed is
// false when the partition already has exactly the target replicas and
// nothing is in progress (nothing to propose). The change is conditional on
// the partition's current epoch. Errors are *ReassignError.
func Reassign(img *metadata.Image, topic string, partition int32, target []int32) (ch metadata.ChangePartition, needed bool, err error) {
	t, ok := img.Topics[topic]
	if !ok {
		return ch, false, reassignErr(metadata.ErrUnknownTopic, "Unable to find a topic named %s.", topic)
	}
	if partition < 0 || int(partition) >= len(t.Partitions) {
		return ch, false, reassignErr(metadata.ErrUnknownPartition, "Unable to find partition %s:%d.", topic, partition)
	}
	p := t.Partitions[partition]
	original := without(p.Replicas, p.AddingReplicas)

	if target == nil {
		if !p.Reassigning() {
			return ch, false, reassignErr(ErrNoReassignmentInProgress, "No partition reassignment is in progress.")
		}
		isr := intersect(p.ISR, original)
		if len(isr) == 0 {
			return ch, false, reassignErr(metadata.ErrInvalidReplicaAssignment,
				"Unable to revert partition assignment for %s:%d because it would require an unclean leader election.", topic, partition)
		}
		return change(p, original, isr, intersect(p.ELR, original), []int32{}, []int32{}), true, nil
	}

	if err := validateTarget(img, target); err != nil {
		return ch, false, err
	}
	adding := without(target, original)
	removing := without(original, target)
	if len(adding) == 0 {
		// Nothing to wait for: complete now, unless no target replica
		// is in the ISR (then Elections completes it once one joins).
		if isr := intersect(p.ISR, target); len(isr) > 0 {
			if !p.Reassigning() && slices.Equal(target, p.Replicas) {
				return ch, false, nil
			}
			return change(p, slices.Clone(target), isr, intersect(p.ELR, target), []int32{}, []int32{}), true, nil
		}
	}
	replicas := slices.Concat(target, removing)
	if slices.Equal(replicas, p.Replicas) && slices.Equal(adding, p.AddingReplicas) && slices.Equal(removing, p.RemovingReplicas) {
		return ch, false, nil // already reassigning to this target
	}
	return change(p, replicas, intersect(p.ISR, replicas), intersect(p.ELR, replicas), adding, removing), true, nil
}

// change builds p's ChangePartition to the given replica state, keeping
// the leader if it stays in the ISR and else electing the first replica
// (in replicas order) that is in it.
func change(p *metadata.Partition, replicas, isr, elr, adding, removing []int32) metadata.ChangePartition {
	leader := p.Leader
	if !slices.Contains(isr, leader) {
		leader = metadata.NoLeader
		for _, r := range replicas {
			if slices.Contains(isr, r) {
				leader = r
				break
			}
		}
	}
	epoch := p.LeaderEpoch
	if leader != p.Leader {
		epoch++
	}
	return metadata.ChangePartition{
		TopicID:                p.TopicID,
		Partition:              p.Index,
		Leader:                 leader,
		LeaderEpoch:            epoch,
		Replicas:               replicas,
		ISR:                    nonNil(isr),
		ELR:                    nonNil(elr),
		AddingReplicas:         nonNil(adding),
		RemovingReplicas:       nonNil(removing),
		ExpectedPartitionEpoch: ptr(p.PartitionEpoch),
	}
}

// validateTarget checks a target replica list as Kafka's
// validateManualPartitionAssignment does, with its messages.
func validateTarget(img *metadata.Image, target []int32) error {
	if len(target) == 0 {
		return reassignErr(metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
	}
	sorted := slices.Clone(target)
	slices.Sort(sorted)
	for i, id := range sorted {
		if _, ok := img.Brokers[id]; !ok {
			return reassignErr(metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", id)
		}
		if i > 0 && sorted[i-1] == id {
			return reassignErr(metadata.ErrInvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", id)
		}
	}
	return nil
}
