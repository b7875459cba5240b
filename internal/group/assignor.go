package group

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
)

// Server-side assignors of the KIP-848 consumer group protocol. They are
// pure functions of an AssignmentSpec: the same spec always gives the same
// result, whatever the order of its members.

// Assignor names, as clients send them in ConsumerGroupHeartbeat's
// ServerAssignor and as ConsumerGroupDescribe reports them.
const (
	AssignorUniform = "uniform"
	AssignorRange   = "range"
)

// DefaultAssignor is the assignor of a group whose members name none:
// the first of Kafka's group.consumer.assignors.
const DefaultAssignor = AssignorUniform

// Assignment is a set of partitions by topic id. Partition lists are
// sorted and free of duplicates; topics with no partitions are absent.
type Assignment map[[16]byte][]int32

// AssignmentTopic describes one topic for an assignor.
type AssignmentTopic struct {
	ID         [16]byte
	Name       string
	Partitions int32
}

// AssignmentMember is one member as an assignor sees it.
type AssignmentMember struct {
	MemberID   string
	InstanceID string // "" for dynamic members
	RackID     string
	// Topics are the names the member subscribes to, regular expressions
	// already resolved. Names of topics absent from the spec are ignored.
	Topics []string
	// Current is the member's current target assignment; the uniform
	// assignor keeps as much of it as balance allows.
	Current Assignment
}

// AssignmentSpec is an assignor's whole input.
type AssignmentSpec struct {
	Members []AssignmentMember
	Topics  []AssignmentTopic
}

// AssignFunc computes a target assignment for every member of the spec.
type AssignFunc func(AssignmentSpec) (map[string]Assignment, error)

// LookupAssignor returns the server-side assignor of that name.
func LookupAssignor(name string) (AssignFunc, bool) {
	switch name {
	case AssignorUniform:
		return AssignUniform, true
	case AssignorRange:
		return AssignRange, true
	}
	return nil, false
}

// AssignorNames lists the supported assignors, default first.
func AssignorNames() []string { return []string{AssignorUniform, AssignorRange} }

// Count is the number of partitions in a.
func (a Assignment) Count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

// Has reports whether a holds topic's partition p.
func (a Assignment) Has(topic [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[topic], p)
	return ok
}

// Clone returns a deep copy of a (nil stays nil).
func (a Assignment) Clone() Assignment {
	if a == nil {
		return nil
	}
	out := make(Assignment, len(a))
	for t, ps := range a {
		out[t] = slices.Clone(ps)
	}
	return out
}

// Equal reports whether a and b hold the same partitions.
func (a Assignment) Equal(b Assignment) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]int32])
}

// add puts p into a, keeping the partition list sorted.
func (a Assignment) add(topic [16]byte, p int32) {
	ps := a[topic]
	i, ok := slices.BinarySearch(ps, p)
	if ok {
		return
	}
	a[topic] = slices.Insert(ps, i, p)
}

// remove takes p out of a.
func (a Assignment) remove(topic [16]byte, p int32) {
	ps := a[topic]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		return
	}
	ps = slices.Delete(slices.Clone(ps), i, i+1)
	if len(ps) == 0 {
		delete(a, topic)
	} else {
		a[topic] = ps
	}
}

// topicIDs returns a's topics in byte order.
func (a Assignment) topicIDs() [][16]byte {
	ids := slices.Collect(maps.Keys(a))
	slices.SortFunc(ids, compareTopicIDs)
	return ids
}

// String formats a for logs and test failures: topic-id prefix → partitions.
func (a Assignment) String() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, t := range a.topicIDs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%x:%v", t[:4], a[t])
	}
	b.WriteByte('}')
	return b.String()
}

// newAssignment builds a normalised Assignment from unsorted lists.
func normAssignment(m map[[16]byte][]int32) Assignment {
	out := make(Assignment, len(m))
	for t, ps := range m {
		if len(ps) == 0 {
			continue
		}
		ps = slices.Clone(ps)
		slices.Sort(ps)
		out[t] = slices.Compact(ps)
	}
	return out
}

// union is a ∪ b.
func assignUnion(a, b Assignment) Assignment {
	out := a.Clone()
	if out == nil {
		out = Assignment{}
	}
	for t, ps := range b {
		for _, p := range ps {
			out.add(t, p)
		}
	}
	return out
}

// minus is a − b.
func assignMinus(a, b Assignment) Assignment {
	out := Assignment{}
	for t, ps := range a {
		for _, p := range ps {
			if !b.Has(t, p) {
				out[t] = append(out[t], p)
			}
		}
	}
	return out
}

// intersect is a ∩ b.
func assignIntersect(a, b Assignment) Assignment {
	out := Assignment{}
	for t, ps := range a {
		for _, p := range ps {
			if b.Has(t, p) {
				out[t] = append(out[t], p)
			}
		}
	}
	return out
}

// resolvedSpec is an AssignmentSpec with member subscriptions resolved to
// topic ids and members in a deterministic order.
type resolvedSpec struct {
	members []resolvedMember
	topics  map[[16]byte]AssignmentTopic
	byName  map[string]AssignmentTopic
}

type resolvedMember struct {
	AssignmentMember
	subs [][16]byte // subscribed existing topics, in topic-id order
}

func resolveSpec(spec AssignmentSpec) (*resolvedSpec, error) {
	r := &resolvedSpec{
		topics: make(map[[16]byte]AssignmentTopic, len(spec.Topics)),
		byName: make(map[string]AssignmentTopic, len(spec.Topics)),
	}
	for _, t := range spec.Topics {
		if t.Partitions < 0 {
			return nil, fmt.Errorf("topic %s has %d partitions", t.Name, t.Partitions)
		}
		if _, dup := r.byName[t.Name]; dup {
			return nil, fmt.Errorf("topic %s is described twice", t.Name)
		}
		r.topics[t.ID] = t
		r.byName[t.Name] = t
	}
	seen := make(map[string]bool, len(spec.Members))
	for _, m := range spec.Members {
		if seen[m.MemberID] {
			return nil, fmt.Errorf("member %s is listed twice", m.MemberID)
		}
		seen[m.MemberID] = true
		rm := resolvedMember{AssignmentMember: m}
		set := map[[16]byte]bool{}
		for _, n := range m.Topics {
			if t, ok := r.byName[n]; ok && !set[t.ID] {
				set[t.ID] = true
				rm.subs = append(rm.subs, t.ID)
			}
		}
		slices.SortFunc(rm.subs, compareTopicIDs)
		r.members = append(r.members, rm)
	}
	sort.Slice(r.members, func(i, j int) bool { return r.members[i].MemberID < r.members[j].MemberID })
	return r, nil
}

// homogeneous reports whether every member subscribes to the same topics.
func (r *resolvedSpec) homogeneous() bool {
	for i := 1; i < len(r.members); i++ {
		if !slices.Equal(r.members[0].subs, r.members[i].subs) {
			return false
		}
	}
	return true
}

// compareTopicIDs orders topic ids bytewise.
func compareTopicIDs(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) }
