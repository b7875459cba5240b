package node

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// An in-memory implementation of the views the per-partition and lag
// collectors read (metrics_source.go), to drive the real exposition code
// over more partitions than this machine can open (each open partition
// holds file descriptors), and over states a test wants exactly.

type memPartition struct {
	topic           string
	index           int32
	rs              partition.ReplicaStats
	st              partition.LeaderState
	offline         error
	size, hw, start int64
	sampled         bool  // RecordTime answers (else ReadRecordTime does)
	t0              int64 // ms: the record at offset o was appended at t0+o
}

func (p *memPartition) ID() (string, int32)                  { return p.topic, p.index }
func (p *memPartition) ReplicaStats() partition.ReplicaStats { return p.rs }
func (p *memPartition) State() partition.LeaderState         { return p.st }
func (p *memPartition) Offline() error                       { return p.offline }
func (p *memPartition) LogSize() int64                       { return p.size }
func (p *memPartition) HighWatermark() int64                 { return p.hw }
func (p *memPartition) LogStartOffset() int64                { return p.start }

func (p *memPartition) RecordTime(off int64) (int64, bool) {
	if !p.sampled {
		return 0, false
	}
	return p.t0 + off, true
}

func (p *memPartition) ReadRecordTime(off int64) (int64, error) {

	if off >= p.hw {
		return 0, errors.New("beyond the high watermark")
	}
	return p.t0 + off, nil
}

type memPartitions struct {
	list  []*memPartition
	byKey map[tpKey]*memPartition
}

func (m *memPartitions) Each(fn func(metricsPartition)) {
	for _, p := range m.list {
		fn(p)
	}
}

func (m *memPartitions) Get(topic string, index int32) (metricsPartition, bool) {
	p, ok := m.byKey[tpKey{topic, index}]
	if !ok {
		return nil, false
	}
	return p, true
}

type memCommit struct {
	topic     string
	partition int32
	offset    int64
}

type memGroup struct {
	name    string
	members int
	commits []memCommit
}

type memGroups []memGroup

func (g memGroups) EachGroup(fn func(string, int)) {
	for _, x := range g {
		fn(x.name, x.members)
	}
}

func (g memGroups) EachCommitted(fn func(group, topic string, partition int32, offset int64)) {
	for _, x := range g {
		for _, c := range x.commits {
			fn(x.name, c.topic, c.partition, c.offset)
		}
	}
}

// memState is a broker's partitions, groups and image.
type memState struct {
	parts  *memPartitions
	groups memGroups
	img    *metadata.Image
	now    time.Time
}

// newMemState builds a broker (id 1) hosting topics×perTopic partitions,
// in a shuffled order, of a 3-broker cluster: it leads about half,
// replicas and ISRs vary, one partition in 97 is offline, one in 5 has
// its record times only in its log. Each of groups groups commits on
// perGroup partitions (every 13th commit on a topic hosted elsewhere in
// the cluster, so without lag), at various lags; names are drawn from
// names in turn.
func newMemState(topics, perTopic, groups, perGroup int, names []string) *memState {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.UnixMilli(1_700_000_000_000)
	s := &memState{parts: &memPartitions{byKey: map[tpKey]*memPartition{}}, img: &metadata.Image{Topics: map[string]*metadata.Topic{}}, now: now}
	for t := range topics + 1 {
		name := fmt.Sprintf("topic-%03d", t)
		elsewhere := t == topics
		mt := &metadata.Topic{Name: name}
		s.img.Topics[name] = mt
		for i := range int32(perTopic) {
			n := int(i) + t
			replicas := []int32{int32(1 + n%3), int32(1 + (n+1)%3), int32(1 + (n+2)%3)}
			isr := replicas[:3-n%7%3]
			leader := replicas[n%2]
			mt.Partitions = append(mt.Partitions, &metadata.Partition{Topic: name, Index: i, Replicas: replicas, ISR: isr, Leader: leader})
			if elsewhere {
				continue
			}
			hw := int64(1000 + rng.IntN(100_000))
			p := &memPartition{
				topic: name, index: i,
				rs:   partition.ReplicaStats{Leader: leader == 1, Replicas: len(replicas), ISR: len(isr), MinISR: 1 + n%3},
				st:   partition.LeaderState{Leader: leader, Replicas: replicas, ISR: isr},
				size: hw * 1100, hw: hw, start: int64(rng.IntN(1000)),
				sampled: n%5 != 0, t0: now.UnixMilli() - hw - int64(rng.IntN(3_600_000)),
			}
			if n%97 == 50 {
				p.offline = errors.New("log directory failed")
			}
			s.parts.list = append(s.parts.list, p)
			s.parts.byKey[tpKey{name, i}] = p
		}
	}
	rng.Shuffle(len(s.parts.list), func(i, j int) { s.parts.list[i], s.parts.list[j] = s.parts.list[j], s.parts.list[i] })
	total := topics * perTopic
	for g := range groups {
		mg := memGroup{name: names[g%len(names)] + fmt.Sprint(g), members: g % 4}
		for i := range perGroup {
			k := (g*perGroup + i) % total
			if i%13 == 12 {
				k = topics*perTopic + k%perTopic
			}
			topic, part := fmt.Sprintf("topic-%03d", k/perTopic), int32(k%perTopic)
			off := int64(rng.IntN(2000))
			if p := s.parts.byKey[tpKey{topic, part}]; p != nil && i%3 == 0 {
				off = p.hw // caught up
			}
			mg.commits = append(mg.commits, memCommit{topic, part, off})
		}
		s.groups = append(s.groups, mg)
	}
	return s
}

// collectors are the per-partition and lag collectors over s.
func (s *memState) collectors() (*partitionCollector, *lagCollector) {
	return newPartitionCollector(s.parts), &lagCollector{
		self: 1, groups: s.groups, parts: s.parts,
		image: func() *metadata.Image { return s.img }, now: func() time.Time { return s.now },
	}
}
