package metadata

import (
	"cmp"
	"maps"
	"slices"
)

// Delta lists what changed between two images, for the broker to act on.
// Every slice is sorted (topics by name, partitions by topic then index,
// brokers by id) and holds objects of the new image, except DeletedTopics.
type Delta struct {
	// ClusterIDChanged is true when the cluster id was set.
	ClusterIDChanged bool
	// CreatedTopics are topics (by id) in new but not in old.
	CreatedTopics []*Topic
	// DeletedTopics are topics (by id) in old but not in new, as in old.
	DeletedTopics []*Topic
	// CreatedPartitions are partitions that did not exist in old: all
	// partitions of created topics plus those added by CreatePartitions.
	CreatedPartitions []*Partition
	// ChangedPartitions are partitions present in both whose replicas,
	// ISR, leader or epochs differ.
	ChangedPartitions []*Partition
	// ChangedTopicConfigs are topics present in both whose Configs differ.
	ChangedTopicConfigs []*Topic
	// ChangedBrokers are brokers registered or re-registered.
	ChangedBrokers []*Broker
	// RemovedBrokers are ids of brokers no longer registered.
	RemovedBrokers []int32
	// ChangedBrokerConfigs are the ids (ClusterDefault included) whose
	// dynamic config maps differ.
	ChangedBrokerConfigs []int32
	// ProducerIDsAllocated is true when NextProducerID moved.
	ProducerIDsAllocated bool
}

// Empty reports whether d lists no change.
func (d *Delta) Empty() bool {
	return !d.ClusterIDChanged && !d.ProducerIDsAllocated &&
		len(d.CreatedTopics)+len(d.DeletedTopics)+len(d.CreatedPartitions)+len(d.ChangedPartitions)+
			len(d.ChangedTopicConfigs)+len(d.ChangedBrokers)+len(d.RemovedBrokers)+len(d.ChangedBrokerConfigs) == 0
}

// Diff compares two images. A nil old is the empty image, so Diff(nil, im)
// lists everything in im as created (useful at startup). Unchanged topics
// are skipped by pointer identity, so Diff between an image and one derived
// from it by Apply costs O(topics) map lookups, not a deep compare.
func Diff(old, new *Image) Delta {
	if old == nil {
		old = NewImage()
	}
	if new == nil {
		new = NewImage()
	}
	var d Delta
	d.ClusterIDChanged = old.ClusterID != new.ClusterID
	d.ProducerIDsAllocated = old.NextProducerID != new.NextProducerID
	for id, nt := range new.TopicsByID {
		ot, ok := old.TopicsByID[id]
		switch {
		case !ok:
			d.CreatedTopics = append(d.CreatedTopics, nt)
			d.CreatedPartitions = append(d.CreatedPartitions, nt.Partitions...)
			continue
		case ot == nt:
			continue
		}
		for i, np := range nt.Partitions {
			if i >= len(ot.Partitions) {
				d.CreatedPartitions = append(d.CreatedPartitions, np)
			} else if op := ot.Partitions[i]; op != np && !partitionEqual(op, np) {
				d.ChangedPartitions = append(d.ChangedPartitions, np)
			}
		}
		if !maps.Equal(ot.Configs, nt.Configs) {
			d.ChangedTopicConfigs = append(d.ChangedTopicConfigs, nt)
		}
	}
	for id, ot := range old.TopicsByID {
		if _, ok := new.TopicsByID[id]; !ok {
			d.DeletedTopics = append(d.DeletedTopics, ot)
		}
	}
	for id, nb := range new.Brokers {
		if ob, ok := old.Brokers[id]; !ok || (ob != nb && !ob.equal(nb)) {
			d.ChangedBrokers = append(d.ChangedBrokers, nb)
		}
	}
	for id := range old.Brokers {
		if _, ok := new.Brokers[id]; !ok {
			d.RemovedBrokers = append(d.RemovedBrokers, id)
		}
	}
	for id, cfg := range new.BrokerConfigs {
		if !maps.Equal(old.BrokerConfigs[id], cfg) {
			d.ChangedBrokerConfigs = append(d.ChangedBrokerConfigs, id)
		}
	}
	for id := range old.BrokerConfigs {
		if _, ok := new.BrokerConfigs[id]; !ok {
			d.ChangedBrokerConfigs = append(d.ChangedBrokerConfigs, id)
		}
	}
	byName := func(a, b *Topic) int { return cmp.Compare(a.Name, b.Name) }
	byPartition := func(a, b *Partition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Index, b.Index))
	}
	slices.SortFunc(d.CreatedTopics, byName)
	slices.SortFunc(d.DeletedTopics, byName)
	slices.SortFunc(d.ChangedTopicConfigs, byName)
	slices.SortFunc(d.CreatedPartitions, byPartition)
	slices.SortFunc(d.ChangedPartitions, byPartition)
	slices.SortFunc(d.ChangedBrokers, func(a, b *Broker) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(d.RemovedBrokers)
	slices.Sort(d.ChangedBrokerConfigs)
	return d
}

func partitionEqual(a, b *Partition) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && a.PartitionEpoch == b.PartitionEpoch &&
		slices.Equal(a.Replicas, b.Replicas) && slices.Equal(a.ISR, b.ISR)
}
