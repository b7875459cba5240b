package controller

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Partition leadership (Kafka's KRaft PartitionChangeBuilder with KIP-966
// eligible leader replicas), as pure functions of an image. The active
// controller runs them after every image and on a timer (elect_loop.go);
// the ElectLeaders and AlterPartitionReassignments handlers use them too.
//
// A replica is live when its broker is registered and unfenced (a broker in
// controlled shutdown is fenced). Elections never remove a live replica
// from the ISR: that is the partition leader's job (AlterPartition). They
// remove fenced replicas from the ISR, move them to the ELR while the ISR
// is below min.insync.replicas, elect a leader from the ISR, else from the
// ELR, else (unclean.leader.election.enable) from any live replica, and
// complete reassignments whose adding replicas have all joined the ISR.

// ElectionPolicy is the per-topic input of an election.
type ElectionPolicy struct {
	// MinISR is the topic's min.insync.replicas (values below 1 count
	// as 1).
	MinISR int
	// Unclean is the topic's unclean.leader.election.enable: a live
	// replica outside the ISR and ELR may be elected when no clean
	// candidate is live.
	Unclean bool
}

// Settings read by TopicElectionPolicy.
const (
	minISRKey  = "min.insync.replicas"
	uncleanKey = "unclean.leader.election.enable"
)

// TopicElectionPolicy resolves t's policy as Kafka does: the topic's
// dynamic config, then the cluster-wide dynamic broker default
// (img.BrokerConfigs[ClusterDefault]), then def (the static broker
// settings). Values that do not parse are skipped.
func TopicElectionPolicy(img *metadata.Image, t *metadata.Topic, def ElectionPolicy) ElectionPolicy {
	p := def
	var cluster map[string]string
	if img != nil {
		cluster = img.BrokerConfigs[metadata.ClusterDefault]
	}
	var topic map[string]string
	if t != nil {
		topic = t.Configs
	}
	for _, m := range []map[string]string{topic, cluster} {
		if v, ok := m[minISRKey]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 {
				p.MinISR = n
				break
			}
		}
	}
	for _, m := range []map[string]string{topic, cluster} {
		if v, ok := m[uncleanKey]; ok {
			if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v))); err == nil {
				p.Unclean = b
				break
			}
		}
	}
	return p
}

// Elections lists the ChangePartition records that bring every partition
// of img in line with the brokers' liveness: fenced replicas leave the ISR
// (into the ELR while the ISR is below min.insync.replicas), partitions
// whose leader is gone get a new one, and reassignments whose adding
// replicas are all in the ISR complete. policy gives each topic's policy.
// Each record is conditional on the partition's current epoch. The order
// is deterministic: topics by name, partitions by index. Partitions that
// need no change are skipped.
func Elections(img *metadata.Image, policy func(t *metadata.Topic) ElectionPolicy) []metadata.ChangePartition {
	var out []metadata.ChangePartition
	for _, t := range sortedTopics(img) {
		pol := policy(t)
		for _, p := range t.Partitions {
			if ch, ok := ElectPartition(img, p, pol); ok {
				out = append(out, ch)
			}
		}
	}
	return out
}

// sortedTopics returns img's topics by name.
func sortedTopics(img *metadata.Image) []*metadata.Topic {
	ts := make([]*metadata.Topic, 0, len(img.Topics))
	for _, t := range img.Topics {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts
}

// ElectPartition is Elections for one partition: the change p needs, if
// any (ok false: none).
func ElectPartition(img *metadata.Image, p *metadata.Partition, pol ElectionPolicy) (ch metadata.ChangePartition, ok bool) {
	minISR := max(pol.MinISR, 1)
	live := img.Live

	// Fast path, the common case on every pass: a led partition, not
	// being reassigned, whose ISR is all live and whose ELR has nothing
	// to lose.
	if !p.Reassigning() && p.Leader != metadata.NoLeader && (len(p.ELR) == 0 || len(p.ISR) < minISR) {
		allLive := true
		for _, r := range p.ISR {
			if !live(r) {
				allLive = false
				break
			}
		}
		if allLive && slices.Contains(p.ISR, p.Leader) {
			return metadata.ChangePartition{}, false
		}
	}

	isr := make([]int32, 0, len(p.ISR))
	var removed []int32
	for _, r := range p.ISR {
		if live(r) {
			isr = append(isr, r)
		} else {
			removed = append(removed, r)
		}
	}
	var elr []int32
	if len(isr) < minISR {
		for _, r := range slices.Concat(p.ELR, removed) {
			if !slices.Contains(isr, r) && !slices.Contains(elr, r) && slices.Contains(p.Replicas, r) {
				elr = append(elr, r)
			}
		}
	}

	leader := p.Leader
	if leader == metadata.NoLeader || !live(leader) || !slices.Contains(isr, leader) {
		leader = metadata.NoLeader
		for _, r := range p.Replicas {
			if slices.Contains(isr, r) {
				leader = r
				break
			}
		}
		if leader == metadata.NoLeader {
			for _, r := range elr {
				if live(r) {
					leader = r
					isr = []int32{r}
					elr = slices.DeleteFunc(slices.Clone(elr), func(x int32) bool { return x == r })
					break
				}
			}
		}
		if leader == metadata.NoLeader && pol.Unclean {
			for _, r := range p.Replicas {
				if live(r) {
					leader = r
					isr = []int32{r}
					elr = nil
					break
				}
			}
		}
	}

	replicas := p.Replicas
	completed := false
	if p.Reassigning() {
		if r, i, e, done := completeReassignment(p, isr, elr); done {
			replicas, isr, elr = r, i, e
			completed = true
			if !slices.Contains(replicas, leader) {
				leader = metadata.NoLeader
				for _, r := range replicas {
					if slices.Contains(isr, r) {
						leader = r
						break
					}
				}
			}
		}
	}
	if len(isr) >= minISR {
		elr = nil
	}

	epoch := p.LeaderEpoch
	if leader != p.Leader {
		epoch++
	}
	if !completed && leader == p.Leader && slices.Equal(isr, p.ISR) && slices.Equal(elr, p.ELR) {
		return metadata.ChangePartition{}, false
	}
	ch = metadata.ChangePartition{
		TopicID:                p.TopicID,
		Partition:              p.Index,
		Leader:                 leader,
		LeaderEpoch:            epoch,
		ISR:                    nonNil(isr),
		ELR:                    nonNil(elr),
		ExpectedPartitionEpoch: ptr(p.PartitionEpoch),
	}
	if completed {
		ch.Replicas = slices.Clone(replicas)
		ch.AddingReplicas = []int32{}
		ch.RemovingReplicas = []int32{}
	}
	return ch, true
}

// completeReassignment finishes p's reassignment if every adding replica is
// in isr and some target replica is: it returns the target replicas
// (Replicas minus RemovingReplicas, in order) and isr and elr restricted to
// them.
func completeReassignment(p *metadata.Partition, isr, elr []int32) (replicas, newISR, newELR []int32, done bool) {
	for _, r := range p.AddingReplicas {
		if !slices.Contains(isr, r) {
			return nil, nil, nil, false
		}
	}
	target := without(p.Replicas, p.RemovingReplicas)
	newISR = intersect(isr, target)
	if len(target) == 0 || len(newISR) == 0 {
		return nil, nil, nil, false
	}
	return target, newISR, intersect(elr, target), true
}

// PreferredElections lists the changes that make each partition's
// preferred replica (Replicas[0]) its leader, for the partitions accepted
// by filter (nil: all) whose preferred replica is live, in the ISR and not
// the leader. Order and conditions as in Elections.
func PreferredElections(img *metadata.Image, filter func(p *metadata.Partition) bool) []metadata.ChangePartition {
	var out []metadata.ChangePartition
	for _, t := range sortedTopics(img) {
		for _, p := range t.Partitions {
			if filter != nil && !filter(p) {
				continue
			}
			if ch, ok := PreferredElection(img, p); ok {
				out = append(out, ch)
			}
		}
	}
	return out
}

// PreferredElection is the change that makes p's preferred replica its
// leader, if that replica is live, in the ISR and not already the leader.
func PreferredElection(img *metadata.Image, p *metadata.Partition) (metadata.ChangePartition, bool) {
	if len(p.Replicas) == 0 {
		return metadata.ChangePartition{}, false
	}
	pref := p.Replicas[0]
	if p.Leader == pref || !img.Live(pref) || !slices.Contains(p.ISR, pref) {
		return metadata.ChangePartition{}, false
	}
	return metadata.ChangePartition{
		TopicID:                p.TopicID,
		Partition:              p.Index,
		Leader:                 pref,
		LeaderEpoch:            p.LeaderEpoch + 1,
		ISR:                    slices.Clone(p.ISR),
		ExpectedPartitionEpoch: ptr(p.PartitionEpoch),
	}, true
}

// ImbalancedBrokers applies Kafka's leader.imbalance.per.broker.percentage:
// for each broker, the share of the partitions whose preferred replica it
// is that another broker leads; brokers whose share exceeds percent/100 are
// returned. Partitions under reassignment are not counted.
func ImbalancedBrokers(img *metadata.Image, percent int) map[int32]bool {
	preferred := map[int32]int{}
	notLed := map[int32]int{}
	for _, t := range img.Topics {
		for _, p := range t.Partitions {
			if len(p.Replicas) == 0 || p.Reassigning() {
				continue
			}
			pref := p.Replicas[0]
			preferred[pref]++
			if p.Leader != pref {
				notLed[pref]++
			}
		}
	}
	out := map[int32]bool{}
	for b, n := range preferred {
		// notLed/n > percent/100, in integers.
		if notLed[b]*100 > percent*n {
			out[b] = true
		}
	}
	return out
}

// RebalanceElections is the auto.leader.rebalance.enable pass: preferred
// elections for the partitions (not under reassignment) whose preferred
// replica is a broker ImbalancedBrokers reports.
func RebalanceElections(img *metadata.Image, percent int) []metadata.ChangePartition {
	imb := ImbalancedBrokers(img, percent)
	if len(imb) == 0 {
		return nil
	}
	return PreferredElections(img, func(p *metadata.Partition) bool {
		return !p.Reassigning() && len(p.Replicas) > 0 && imb[p.Replicas[0]]
	})
}

func ptr[T any](v T) *T { return &v }

// nonNil returns s, or an empty non-nil slice for nil: in a ChangePartition
// an empty list replaces the current one, nil keeps it.
func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return slices.Clone(s)
}

// without returns the members of s not in drop, in s's order.
func without(s, drop []int32) []int32 {
	out := make([]int32, 0, len(s))
	for _, r := range s {
		if !slices.Contains(drop, r) {
			out = append(out, r)
		}
	}
	return out
}

// intersect returns the members of s also in keep, in s's order.
func intersect(s, keep []int32) []int32 {
	var out []int32
	for _, r := range s {
		if slices.Contains(keep, r) {
			out = append(out, r)
		}
	}
	return out
}
