package group

import (
	"cmp"
	"fmt"
	"slices"
)

// AssignUniform is Kafka's UniformAssignor ("uniform", the default): every
// member gets, within one partition, as many partitions as any other member
// subscribed to the same topics, and keeps as many of its current partitions
// as that balance allows. Balance comes before stickiness.
//
// When all members subscribe to the same topics it runs Kafka's
// homogeneous builder: a quota of P/M partitions per member (P%M members
// get one more), current partitions are kept up to the quota and the rest
// are handed to members below their quota. Samsa gives the extra partitions
// to the members that already hold the most, so that fewer partitions move.
//
// Otherwise it runs Kafka's heterogeneous builder: keep every current
// partition of a still-subscribed topic, assign the unowned partitions to the
// least-loaded subscriber topic by topic (topics with the most partitions per
// subscriber first), then move partitions from the most to the least loaded
// subscribers of each topic until no move improves the balance.
func AssignUniform(spec AssignmentSpec) (map[string]Assignment, error) {
	r, err := resolveSpec(spec)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Assignment, len(r.members))
	if len(r.members) == 0 {
		return out, nil
	}
	if r.homogeneous() {
		return uniformHomogeneous(r, out)
	}
	return newUniformHeterogeneous(r).build(out)
}

// uniformHomogeneous is the homogeneous case of AssignUniform.
func uniformHomogeneous(r *resolvedSpec, out map[string]Assignment) (map[string]Assignment, error) {
	subs := r.members[0].subs
	for _, m := range r.members {
		out[m.MemberID] = Assignment{}
	}
	if len(subs) == 0 {
		return out, nil
	}
	subscribed := make(map[[16]byte]bool, len(subs))
	total := 0
	for _, t := range subs {
		subscribed[t] = true
		total += int(r.topics[t].Partitions)
	}

	// The current partitions each member may keep: of a subscribed topic,
	// in range, and not claimed by a member earlier in id order.
	claimed := map[[16]byte]map[int32]bool{}
	valid := make([]Assignment, len(r.members))
	for i, m := range r.members {
		valid[i] = Assignment{}
		for _, t := range m.Current.topicIDs() {
			if !subscribed[t] {
				continue
			}
			if claimed[t] == nil {
				claimed[t] = map[int32]bool{}
			}
			for _, p := range m.Current[t] {
				if p >= 0 && p < r.topics[t].Partitions && !claimed[t][p] {
					claimed[t][p] = true
					valid[i][t] = append(valid[i][t], p)
				}
			}
		}
	}

	// Quotas: members holding the most get the extra partitions.
	order := make([]int, len(r.members))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(valid[b].Count(), valid[a].Count()) })
	minQuota := total / len(r.members)
	extra := total % len(r.members)

	type unfilled struct {
		member    int
		remaining int
	}
	var toFill []unfilled
	kept := map[[16]byte]map[int32]bool{}
	for _, i := range order {
		quota := minQuota
		if extra > 0 {
			quota++
			extra--
		}
		a := out[r.members[i].MemberID]
		for _, t := range valid[i].topicIDs() {
			for _, p := range valid[i][t] {
				if quota == 0 {
					break
				}
				a.add(t, p)
				if kept[t] == nil {
					kept[t] = map[int32]bool{}
				}
				kept[t][p] = true
				quota--
			}
		}
		if quota > 0 {
			toFill = append(toFill, unfilled{i, quota})
		}
	}

	// Hand out everything not kept, topic by topic in id order.
	var free []assignTP
	for _, t := range subs {
		for p := int32(0); p < r.topics[t].Partitions; p++ {
			if !kept[t][p] {
				free = append(free, assignTP{t, p})
			}
		}
	}
	// Fill the members in id order, as the sorted member list gives them.
	slices.SortFunc(toFill, func(a, b unfilled) int { return cmp.Compare(a.member, b.member) })
	next := 0
	for _, u := range toFill {
		a := out[r.members[u.member].MemberID]
		for k := 0; k < u.remaining && next < len(free); k++ {
			a.add(free[next].topic, free[next].partition)
			next++
		}
	}
	if next < len(free) {
		return nil, fmt.Errorf("uniform assignor: %d partitions were left unassigned", len(free)-next)
	}
	return out, nil
}

type assignTP struct {
	topic     [16]byte
	partition int32
}

// maxBalanceIterations bounds the heterogeneous balancing passes, as
// Kafka's MAX_ITERATION_COUNT does.
const maxBalanceIterations = 16

// uniformHeterogeneous is Kafka's UniformHeterogeneousAssignmentBuilder.
// Members are numbered in member-id order.
type uniformHeterogeneous struct {
	r           *resolvedSpec
	subscribers map[[16]byte][]int // topic → member indexes, ascending
	topicIDs    [][16]byte         // every subscribed topic
	target      []Assignment       // by member index
	sizes       []int              // target partition count by member index
	owners      map[[16]byte][]int // topic → owner member index per partition, -1 if none
}

func newUniformHeterogeneous(r *resolvedSpec) *uniformHeterogeneous {
	b := &uniformHeterogeneous{
		r:           r,
		subscribers: map[[16]byte][]int{},
		target:      make([]Assignment, len(r.members)),
		sizes:       make([]int, len(r.members)),
		owners:      map[[16]byte][]int{},
	}
	for i, m := range r.members {
		for _, t := range m.subs {
			if _, ok := b.subscribers[t]; !ok {
				b.topicIDs = append(b.topicIDs, t)
			}
			b.subscribers[t] = append(b.subscribers[t], i)
		}
	}
	slices.SortFunc(b.topicIDs, compareTopicIDs)
	for _, t := range b.topicIDs {
		owners := make([]int, b.r.topics[t].Partitions)
		for p := range owners {
			owners[p] = -1
		}
		b.owners[t] = owners
	}
	return b
}

func (b *uniformHeterogeneous) build(out map[string]Assignment) (map[string]Assignment, error) {
	b.keepCurrent()
	if len(b.topicIDs) > 0 {
		b.assignUnowned()
		b.balance()
	}
	for i, m := range b.r.members {
		out[m.MemberID] = b.target[i]
	}
	return out, nil
}

// keepCurrent starts every member from its current partitions of topics it
// still subscribes to (Kafka's maybeRevokePartitions).
func (b *uniformHeterogeneous) keepCurrent() {
	for i, m := range b.r.members {
		b.target[i] = Assignment{}
		subscribed := map[[16]byte]bool{}
		for _, t := range m.subs {
			subscribed[t] = true
		}
		for _, t := range m.Current.topicIDs() {
			if !subscribed[t] {
				continue
			}
			owners := b.owners[t]
			for _, p := range m.Current[t] {
				if p >= 0 && int(p) < len(owners) && owners[p] == -1 {
					b.addPartition(t, p, i)
				}
			}
		}
	}
}

// sortTopics orders topics by partitions per subscriber (descending), then
// subscriber count (ascending), then id.
func (b *uniformHeterogeneous) sortTopics(ids [][16]byte) [][16]byte {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(x, y [16]byte) int {
		px, py := int64(b.r.topics[x].Partitions), int64(b.r.topics[y].Partitions)
		sx, sy := int64(len(b.subscribers[x])), int64(len(b.subscribers[y]))
		// px/sx vs py/sy, descending, without floating point.
		if c := cmp.Compare(py*sx, px*sy); c != 0 {
			return c
		}
		if c := cmp.Compare(sx, sy); c != 0 {
			return c
		}
		return compareTopicIDs(x, y)
	})
	return ids
}

func (b *uniformHeterogeneous) assignUnowned() {
	bal := &memberBalancer{sizes: b.sizes}
	for _, t := range b.sortTopics(b.topicIDs) {
		var free []int32
		for p, o := range b.owners[t] {
			if o == -1 {
				free = append(free, int32(p))
			}
		}
		if len(free) == 0 {
			continue
		}
		bal.initialize(b.subscribers[t])
		for _, p := range free {
			b.assignPartition(t, p, bal.nextLeastLoaded())
		}
	}
}

func (b *uniformHeterogeneous) balance() {
	var ids [][16]byte
	for _, t := range b.topicIDs {
		if len(b.subscribers[t]) >= 2 {
			ids = append(ids, t)
		}
	}
	if len(ids) == 0 {
		return
	}
	ids = b.sortTopics(ids)
	last := -1
	bal := &memberBalancer{sizes: b.sizes}
	for range maxBalanceIterations {
		for i, t := range ids {
			if i == last {
				return // a full pass without moves
			}
			if b.balanceTopic(t, bal) > 0 || last == -1 {
				last = i
			}
		}
	}
}

// balanceTopic moves partitions of t from its most to its least loaded
// subscribers and returns how many moved.
func (b *uniformHeterogeneous) balanceTopic(t [16]byte, bal *memberBalancer) int {
	if bal.initialize(b.subscribers[t]) <= 1 {
		return 0
	}
	owners := b.owners[t]
	parts := make([]int32, len(owners))
	for p := range parts {
		parts[p] = int32(p)
	}
	slices.SortFunc(parts, func(x, y int32) int {
		if c := cmp.Compare(owners[x], owners[y]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	start, end := map[int]int{}, map[int]int{}
	for i, p := range parts {
		o := owners[p]
		if _, ok := start[o]; !ok {
			start[o] = i
		}
		end[o] = i + 1
	}
	moved := 0
	for !bal.isBalanced() {
		most := -1
		for {
			most = bal.nextMostLoaded()
			if most == -1 {
				break
			}
			if e, ok := end[most]; !ok || e-start[most] <= 0 {
				bal.excludeMostLoaded()
				continue
			}
			break
		}
		if most == -1 {
			break
		}
		p := parts[end[most]-1]
		end[most]--
		least := bal.nextLeastLoaded()
		if bal.isBalanced() {
			break
		}
		b.assignPartition(t, p, least)
		moved++
	}
	return moved
}

func (b *uniformHeterogeneous) assignPartition(t [16]byte, p int32, member int) {
	if old := b.owners[t][p]; old != -1 {
		b.target[old].remove(t, p)
		b.sizes[old]--
	}
	b.addPartition(t, p, member)
}

func (b *uniformHeterogeneous) addPartition(t [16]byte, p int32, member int) {
	b.target[member].add(t, p)
	b.owners[t][p] = member
	b.sizes[member]++
}

// memberBalancer is Kafka's MemberAssignmentBalancer: over the subscribers
// of one topic sorted by load, a least-loaded range grows rightwards and a
// most-loaded range grows leftwards until their loads differ by at most one.
type memberBalancer struct {
	sizes  []int
	sorted []int

	leastEnd   int // exclusive
	leastCount int
	nextLeast  int

	mostStart int // inclusive
	mostEnd   int // exclusive
	mostCount int
	nextMost  int
}

// initialize sorts members by load and returns the spread between the most
// and least loaded.
func (m *memberBalancer) initialize(members []int) int {
	m.sorted = append(m.sorted[:0], members...)
	slices.SortFunc(m.sorted, func(a, b int) int {
		if c := cmp.Compare(m.sizes[a], m.sizes[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	n := len(m.sorted)
	m.leastEnd = 0
	m.leastCount = m.sizes[m.sorted[0]] - 1
	m.nextLeast = 0
	m.mostStart = n
	m.mostEnd = n
	m.mostCount = m.sizes[m.sorted[n-1]] + 1
	m.nextMost = n - 1
	return m.sizes[m.sorted[n-1]] - m.sizes[m.sorted[0]]
}

func (m *memberBalancer) nextLeastLoaded() int {
	if m.nextLeast >= m.leastEnd {
		m.leastCount++
		for m.leastEnd < len(m.sorted) && m.sizes[m.sorted[m.leastEnd]] == m.leastCount {
			m.leastEnd++
		}
		m.nextLeast = 0
	}
	i := m.sorted[m.nextLeast]
	m.nextLeast++
	return i
}

func (m *memberBalancer) nextMostLoaded() int {
	if m.nextMost < m.mostStart {
		if m.mostEnd <= m.mostStart && m.mostStart > 0 {
			m.mostCount = m.sizes[m.sorted[m.mostStart-1]]
		} else {
			m.mostCount--
		}
		for m.mostStart > 0 && m.sizes[m.sorted[m.mostStart-1]] == m.mostCount {
			m.mostStart--
		}
		m.nextMost = m.mostEnd - 1
	}
	if m.nextMost < 0 {
		return -1
	}
	i := m.sorted[m.nextMost]
	m.nextMost--
	return i
}

func (m *memberBalancer) excludeMostLoaded() {
	i := m.sorted[m.nextMost+1]
	m.sorted[m.nextMost+1] = m.sorted[m.mostEnd-1]
	m.sorted[m.mostEnd-1] = i
	m.mostEnd--
}

func (m *memberBalancer) isBalanced() bool { return m.mostCount-m.leastCount <= 1 }
