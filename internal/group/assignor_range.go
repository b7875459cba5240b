package group

import (
	"cmp"
	"slices"
)

// AssignRange is Kafka's RangeAssignor for KIP-848 groups ("range"): for
// each topic, its subscribers in order get contiguous ranges of partitions,
// P/N each and one more for the first P%N. Members are ordered static
// members first by instance id, then dynamic members by member id, so a
// static member keeps its ranges across restarts; when every member
// subscribes to the same topics and the topics have the same partition
// count, member i gets the same partition numbers of every topic
// (co-partitioning, for joins).
//
// Like Kafka's, the result depends only on the membership and the topics,
// never on the current assignment: it is sticky exactly as far as the
// member order is stable (static members, or dynamic members whose ids sort
// the same way).
func AssignRange(spec AssignmentSpec) (map[string]Assignment, error) {
	r, err := resolveSpec(spec)
	if err != nil {
		return nil, err
	}
	members := slices.Clone(r.members)
	slices.SortStableFunc(members, func(a, b resolvedMember) int {
		switch {
		case a.InstanceID != "" && b.InstanceID != "":
			return cmp.Compare(a.InstanceID, b.InstanceID)
		case a.InstanceID != "":
			return -1
		case b.InstanceID != "":
			return 1
		}
		return cmp.Compare(a.MemberID, b.MemberID)
	})

	type rangeTopic struct {
		partitions, members int32
		minQuota, extra     int32
		next                int32
	}
	topics := map[[16]byte]*rangeTopic{}
	for _, m := range members {
		for _, t := range m.subs {
			rt := topics[t]
			if rt == nil {
				rt = &rangeTopic{partitions: r.topics[t].Partitions}
				topics[t] = rt
			}
			rt.members++
		}
	}
	for _, rt := range topics {
		rt.minQuota = rt.partitions / rt.members
		rt.extra = rt.partitions % rt.members
	}
	out := make(map[string]Assignment, len(members))
	for _, m := range members {
		a := Assignment{}
		for _, t := range m.subs {
			rt := topics[t]
			quota := rt.minQuota
			if rt.extra > 0 {
				quota++
				rt.extra--
			}
			start := rt.next
			end := min(start+quota, rt.partitions)
			rt.next = end
			for p := start; p < end; p++ {
				a[t] = append(a[t], p)
			}
		}
		out[m.MemberID] = a
	}
	return out, nil
}
