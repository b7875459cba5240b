package share

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicMeta is what the assignor needs of a topic.
type TopicMeta struct {
	ID         [16]byte
	Name       string
	Partitions int32
}

// Topics looks topics up in the current cluster image.
type Topics interface {
	Topic(name string) (TopicMeta, bool)
	TopicByID(id [16]byte) (TopicMeta, bool)
}

// Client is where a request came from.
type Client struct{ ID, Host string }

// Member is one share-group member.
type Member struct {
	ID       string
	Epoch    int32
	Rack     *string
	ClientID string
	Host     string
	Topics   []string // subscribed topic names, sorted
	// Assignment is the member's partitions by topic id.
	Assignment map[[16]byte][]int32
	deadline   time.Time
}

// Group is one share group's membership: a deterministic core, not safe
// for concurrent use.
type Group struct {
	ID              string
	Epoch           int32 // group epoch: bumped by every membership or subscription change
	AssignmentEpoch int32
	members         map[string]*Member
	metaSig         string // the subscribed topics' metadata the assignment was computed from
}

func newGroup(id string) *Group { return &Group{ID: id, members: map[string]*Member{}} }

// Members returns the members sorted by id.
func (g *Group) Members() []*Member {
	out := make([]*Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// State is the group's state as ListGroups and ShareGroupDescribe name it.
func (g *Group) State() string {
	if len(g.members) == 0 {
		return "Empty"
	}
	return "Stable"
}

// expire removes the members whose session timed out, returning them.
func (g *Group) expire(now time.Time) []string {
	var gone []string
	for id, m := range g.members {
		if !now.Before(m.deadline) {
			gone = append(gone, id)
			delete(g.members, id)
		}
	}
	if len(gone) > 0 {
		g.Epoch++
	}
	return gone
}

func invalid(msg string) error { return fmt.Errorf("share: %s: %w", msg, kerr.InvalidRequest) }

// checkHeartbeat validates a ShareGroupHeartbeat as Kafka does.
func checkHeartbeat(req *kmsg.ShareGroupHeartbeatRequest) error {
	switch {
	case req.GroupID == "":
		return invalid("GroupId can't be empty")
	case req.MemberID == "":
		return invalid("MemberId can't be empty")
	case req.RackID != nil && *req.RackID == "":
		return invalid("RackId can't be empty")
	case req.MemberEpoch < -1:
		return invalid("MemberEpoch is invalid")
	case req.MemberEpoch == 0 && len(req.SubscribedTopicNames) == 0:
		return invalid("SubscribedTopicNames must be set in first request")
	}
	return nil
}

// heartbeat handles one ShareGroupHeartbeat for g. left is true when the
// member left (epoch -1).
func (g *Group) heartbeat(req *kmsg.ShareGroupHeartbeatRequest, cfg Config, topics Topics, cl Client, now time.Time) (resp *kmsg.ShareGroupHeartbeatResponse, left bool, err error) {
	resp = req.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	m, ok := g.members[req.MemberID]
	switch {
	case req.MemberEpoch == -1:
		if !ok {
			return nil, false, fmt.Errorf("share: member %s: %w", req.MemberID, kerr.UnknownMemberID)
		}
		delete(g.members, req.MemberID)
		g.Epoch++
		g.maybeAssign(topics, true)
		resp.MemberID, resp.MemberEpoch = &req.MemberID, -1
		return resp, true, nil
	case req.MemberEpoch == 0 && !ok:
		if len(g.members) >= cfg.MaxSize {
			return nil, false, fmt.Errorf("share: group %s has %d members: %w", g.ID, len(g.members), kerr.GroupMaxSizeReached)
		}
		m = &Member{ID: req.MemberID} // its subscription below bumps the group epoch
		g.members[m.ID] = m
	case !ok:
		return nil, false, fmt.Errorf("share: member %s: %w", req.MemberID, kerr.UnknownMemberID)
	case req.MemberEpoch != 0 && req.MemberEpoch != m.Epoch:
		return nil, false, fmt.Errorf("share: member %s epoch %d, current %d: %w", m.ID, req.MemberEpoch, m.Epoch, kerr.FencedMemberEpoch)
	}
	full := req.MemberEpoch == 0 || req.SubscribedTopicNames != nil
	if req.SubscribedTopicNames != nil {
		subs := slices.Clone(req.SubscribedTopicNames)
		sort.Strings(subs)
		subs = slices.Compact(subs)
		if !slices.Equal(subs, m.Topics) {
			m.Topics = subs
			g.Epoch++
		}
	}
	if req.RackID != nil {
		m.Rack = req.RackID
	}
	m.ClientID, m.Host = cl.ID, cl.Host
	m.deadline = now.Add(cfg.SessionTimeout)
	g.maybeAssign(topics, false)
	resp.MemberID = &m.ID
	resp.HeartbeatIntervalMillis = int32(cfg.HeartbeatInterval / time.Millisecond)
	if full || m.Epoch != g.AssignmentEpoch {
		m.Epoch = g.AssignmentEpoch
		resp.Assignment = assignmentOf(m)
	}
	resp.MemberEpoch = m.Epoch
	return resp, false, nil
}

// maybeAssign recomputes the target assignment when the group epoch moved
// past it, or the subscribed topics' metadata changed (partitions added, a
// topic created or deleted).
func (g *Group) maybeAssign(topics Topics, force bool) {
	sig := g.metadataSignature(topics)
	if !force && g.AssignmentEpoch == g.Epoch && sig == g.metaSig {
		return
	}
	if sig != g.metaSig && g.AssignmentEpoch == g.Epoch {
		g.Epoch++
	}
	g.metaSig = sig
	assignSimple(g.Members(), topics)
	g.AssignmentEpoch = g.Epoch
}

func (g *Group) metadataSignature(topics Topics) string {
	var names []string
	for _, m := range g.members {
		names = append(names, m.Topics...)
	}
	sort.Strings(names)
	names = slices.Compact(names)
	var sb strings.Builder
	for _, n := range names {
		if t, ok := topics.Topic(n); ok {
			fmt.Fprintf(&sb, "%s:%x:%d;", n, t.ID, t.Partitions)
		}
	}
	return sb.String()
}

func assignmentOf(m *Member) *kmsg.ShareGroupHeartbeatResponseAssignment {
	a := &kmsg.ShareGroupHeartbeatResponseAssignment{TopicPartitions: []kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{}}
	ids := make([][16]byte, 0, len(m.Assignment))
	for id := range m.Assignment {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return string(ids[i][:]) < string(ids[j][:]) })
	for _, id := range ids {
		a.TopicPartitions = append(a.TopicPartitions, kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{TopicID: id, Partitions: slices.Clone(m.Assignment[id])})
	}
	return a
}

// assignSimple is Kafka's simple share assignor: every subscribed
// partition goes to one of the members subscribed to its topic, the least
// loaded first, so members get about the same number; when there are more
// members than partitions, members left without one share the least shared
// partition of their topics. members is sorted by id, so the result is
// deterministic.
func assignSimple(members []*Member, topics Topics) {
	type tp struct {
		id   [16]byte
		name string
		p    int32
	}
	subs := map[string][]*Member{}
	for _, m := range members {
		m.Assignment = map[[16]byte][]int32{}
		for _, n := range m.Topics {
			subs[n] = append(subs[n], m)
		}
	}
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	load := map[*Member]int{}
	owners := map[tp]int{}
	var all []tp
	for _, n := range names {
		t, ok := topics.Topic(n)
		if !ok {
			continue
		}
		for p := int32(0); p < t.Partitions; p++ {
			k := tp{t.ID, n, p}
			all = append(all, k)
			best := subs[n][0]
			for _, m := range subs[n][1:] {
				if load[m] < load[best] {
					best = m
				}
			}
			best.Assignment[t.ID] = append(best.Assignment[t.ID], p)
			load[best]++
			owners[k]++
		}
	}
	for _, m := range members {
		if load[m] > 0 {
			continue
		}
		var pick *tp
		for i := range all {
			k := &all[i]
			if !slices.Contains(m.Topics, k.name) {
				continue
			}
			if pick == nil || owners[*k] < owners[*pick] {
				pick = k
			}
		}
		if pick != nil {
			m.Assignment[pick.id] = append(m.Assignment[pick.id], pick.p)
			owners[*pick]++
			load[m]++
		}
	}
	for _, m := range members {
		for id := range m.Assignment {
			slices.Sort(m.Assignment[id])
		}
	}
}
