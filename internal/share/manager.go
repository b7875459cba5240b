package share

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// TP is a topic-partition by topic id.
type TP struct {
	Topic     [16]byte
	Partition int32
}

// PartKey names a share partition: a group's view of a topic-partition.
type PartKey struct {
	Group string
	TP
}

type partEntry struct {
	wmu        sync.Mutex // serialises Persist's writes; taken before mu
	mu         sync.Mutex
	p          *Partition
	persistent bool
}

type sessionKey struct{ group, member string }

type session struct {
	epoch int32
	parts map[TP]struct{}
	owner any // the connection that opened it
}

// Manager holds a broker's share groups (as their coordinator), share
// sessions and share partitions (as the partitions' leader). Safe for
// concurrent use: mu guards the maps, groups and sessions; each share
// partition has its own lock, taken after mu is released.
type Manager struct {
	cfg   Config
	clock Clock
	lg    *slog.Logger

	mu       sync.Mutex
	groups   map[string]*Group
	sessions map[sessionKey]*session
	parts    map[PartKey]*partEntry
	changed  chan struct{} // closed and replaced when records become available again
}

// NewManager returns an empty manager.
func NewManager(cfg Config, clock Clock, lg *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil || lg == nil {
		return nil, errors.New("share: a clock and a logger are required")
	}
	return &Manager{cfg: cfg, clock: clock, lg: lg, groups: map[string]*Group{}, sessions: map[sessionKey]*session{}, parts: map[PartKey]*partEntry{}, changed: make(chan struct{})}, nil
}

// Config returns the settings.
func (m *Manager) Config() Config { return m.cfg }

// HasGroup reports whether a share group named id exists.
func (m *Manager) HasGroup(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.groups[id]
	return ok
}

// Heartbeat handles ShareGroupHeartbeat. The caller has checked that no
// other kind of group has the id.
func (m *Manager) Heartbeat(req *kmsg.ShareGroupHeartbeatRequest, topics Topics, cl Client) *kmsg.ShareGroupHeartbeatResponse {
	fail := func(err error) *kmsg.ShareGroupHeartbeatResponse {
		resp := req.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
		var ke *kerr.Error
		if !errors.As(err, &ke) {
			ke = kerr.UnknownServerError
		}
		resp.ErrorCode, resp.ErrorMessage = ke.Code, kmsg.StringPtr(err.Error())
		return resp
	}
	if err := checkHeartbeat(req); err != nil {
		return fail(err)
	}
	now := m.clock.Now()
	m.mu.Lock()
	g, ok := m.groups[req.GroupID]
	if !ok {
		if req.MemberEpoch != 0 {
			m.mu.Unlock()
			return fail(fmt.Errorf("share: member %s of unknown group %s: %w", req.MemberID, req.GroupID, kerr.UnknownMemberID))
		}
		if len(m.groups) >= MaxGroups {
			m.mu.Unlock()
			return fail(fmt.Errorf("share: %d share groups on this coordinator: %w", len(m.groups), kerr.GroupMaxSizeReached))
		}
		g = newGroup(req.GroupID)
		m.groups[g.ID] = g
	}
	gone := g.expire(now)
	resp, left, err := g.heartbeat(req, m.cfg, topics, cl, now)
	if left {
		gone = append(gone, req.MemberID)
	}
	m.mu.Unlock()
	m.releaseMembers(g.ID, gone)
	if err != nil {
		return fail(err)
	}
	return resp
}

// expireAll removes timed-out members of every group.
func (m *Manager) expireAll() {
	now := m.clock.Now()
	m.mu.Lock()
	type gm struct {
		g    string
		gone []string
	}
	var all []gm
	for _, g := range m.groups {
		if gone := g.expire(now); len(gone) > 0 {
			all = append(all, gm{g.ID, gone})
		}
	}
	m.mu.Unlock()
	for _, x := range all {
		m.releaseMembers(x.g, x.gone)
	}
}

// releaseMembers releases what members that left still hold, and drops
// their sessions.
func (m *Manager) releaseMembers(group string, members []string) {
	if len(members) == 0 {
		return
	}
	m.mu.Lock()
	var entries []*partEntry
	for k, e := range m.parts {
		if k.Group == group {
			entries = append(entries, e)
		}
	}
	for _, id := range members {
		delete(m.sessions, sessionKey{group, id})
	}
	m.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		for _, id := range members {
			e.p.ReleaseMember(id)
		}
		e.mu.Unlock()
	}
	m.Notify()
}

// Notify wakes share fetches waiting for records to become available.
func (m *Manager) Notify() {
	m.mu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Changed is closed when records are released (acknowledged RELEASE, a
// member leaving).
func (m *Manager) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// ListedGroup is a share group as ListGroups reports it.
type ListedGroup struct{ ID, State string }

// List returns the share groups, sorted by id.
func (m *Manager) List() []ListedGroup {
	m.expireAll()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ListedGroup, 0, len(m.groups))
	for _, g := range m.groups {
		out = append(out, ListedGroup{g.ID, g.State()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Describe fills ShareGroupDescribe's answer for group id; ok is false
// when no share group has the id.
func (m *Manager) Describe(id string, topics Topics) (kmsg.ShareGroupDescribeResponseGroup, bool) {
	m.expireAll()
	m.mu.Lock()
	defer m.mu.Unlock()
	d := kmsg.NewShareGroupDescribeResponseGroup()
	d.GroupID = id
	g, ok := m.groups[id]
	if !ok {
		return d, false
	}
	d.GroupState, d.GroupEpoch, d.AssignmentEpoch, d.Assignor = g.State(), g.Epoch, g.AssignmentEpoch, "simple"
	for _, mem := range g.Members() {
		dm := kmsg.NewShareGroupDescribeResponseGroupMember()
		dm.MemberID, dm.RackID, dm.MemberEpoch, dm.ClientID, dm.ClientHost = mem.ID, mem.Rack, mem.Epoch, mem.ClientID, mem.Host
		dm.SubscribedTopicNames = append([]string{}, mem.Topics...)
		for _, tp := range assignmentOf(mem).TopicPartitions {
			at := kmsg.NewShareGroupDescribeResponseGroupMemberAssignmentTopicPartition()
			at.TopicID, at.Partitions = tp.TopicID, tp.Partitions
			if t, ok := topics.TopicByID(tp.TopicID); ok {
				at.Topic = t.Name
			}
			dm.Assignment.TopicPartitions = append(dm.Assignment.TopicPartitions, at)
		}
		d.Members = append(d.Members, dm)
	}
	return d, true
}

// Delete deletes an empty share group and its share partitions on this
// broker, returning the persistent ones (whose state is to be deleted):
// GROUP_ID_NOT_FOUND when there is none, NON_EMPTY_GROUP when it has
// members.
func (m *Manager) Delete(id string) ([]PartKey, error) {
	m.expireAll()
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[id]
	if !ok {
		return nil, fmt.Errorf("share: group %s: %w", id, kerr.GroupIDNotFound)
	}
	if len(g.members) > 0 {
		return nil, fmt.Errorf("share: group %s has members: %w", id, kerr.NonEmptyGroup)
	}
	delete(m.groups, id)
	var keys []PartKey
	for k, e := range m.parts {
		if k.Group == id {
			delete(m.parts, k)
			if e.persistent {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// SessionUpdate opens, advances or closes member's share session as a
// ShareFetch or ShareAcknowledge with epoch asks: 0 opens a new one (only
// a ShareFetch may), -1 closes it, any other must be the session's
// current epoch, which then moves on. add and forget change its partition
// set. It returns the session's partitions after the change (before it,
// for a close). owner is the connection the request came on: a session is
// tied to the connection that opened it (CloseOwned).
func (m *Manager) SessionUpdate(owner any, group, member string, epoch int32, fetch bool, add, forget []TP) ([]TP, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := sessionKey{group, member}
	s, ok := m.sessions[k]
	switch {
	case epoch == 0:
		if !fetch {
			return nil, fmt.Errorf("share: ShareAcknowledge cannot open a share session: %w", kerr.InvalidShareSessionEpoch)
		}
		if !ok && len(m.sessions) >= m.cfg.MaxSessions {
			return nil, fmt.Errorf("share: %d share sessions: %w", len(m.sessions), kerr.ShareSessionLimitReached)
		}
		s = &session{parts: map[TP]struct{}{}, owner: owner}
		m.sessions[k] = s
	case !ok:
		return nil, fmt.Errorf("share: no share session for member %s: %w", member, kerr.ShareSessionNotFound)
	case epoch != -1 && epoch != s.epoch:
		return nil, fmt.Errorf("share: share session epoch %d, expected %d: %w", epoch, s.epoch, kerr.InvalidShareSessionEpoch)
	}
	if epoch == -1 {
		delete(m.sessions, k)
		return sessionParts(s), nil
	}
	if s.epoch == math.MaxInt32 {
		s.epoch = 1
	} else {
		s.epoch++
	}
	for _, tp := range add {
		s.parts[tp] = struct{}{}
	}
	for _, tp := range forget {
		delete(s.parts, tp)
	}
	return sessionParts(s), nil
}

func sessionParts(s *session) []TP {
	out := make([]TP, 0, len(s.parts))
	for tp := range s.parts {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return string(out[i].Topic[:]) < string(out[j].Topic[:])
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Creator makes a share partition on its first use: from its persisted
// state, or at the offset share.auto.offset.reset gives. persistent says
// its changes are to be written (Persist).
type Creator func() (p *Partition, persistent bool, err error)

// With runs fn on the share partition k under its lock, creating it with
// create on first use (outside the manager's lock: creating may read
// __share_group_state).
//
// ShareFetch needs no membership (the group may be coordinated
// elsewhere), so share partitions are capped at MaxPartitions per broker;
// past it a new one is refused with SHARE_SESSION_LIMIT_REACHED.
func (m *Manager) With(k PartKey, create Creator, fn func(p *Partition, now time.Time)) error {
	e, err := m.entry(k, create)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e.p, m.clock.Now())
	return nil
}

func (m *Manager) entry(k PartKey, create Creator) (*partEntry, error) {
	m.mu.Lock()
	e, ok := m.parts[k]
	full := len(m.parts) >= MaxPartitions
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	if full {
		return nil, fmt.Errorf("share: %d share partitions on this broker: %w", MaxPartitions, kerr.ShareSessionLimitReached)
	}
	p, persistent, err := create()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.parts[k]; ok { // created meanwhile
		return e, nil
	}
	e = &partEntry{p: p, persistent: persistent}
	m.parts[k] = e
	return e, nil
}

// Persist hands the share partition's current state to write if it is
// persistent. Writes of one partition are serialised, each taking the
// state after the previous one, so the last write is the newest state.
func (m *Manager) Persist(k PartKey, write func(start int64, batches []StateBatch) error) error {
	m.mu.Lock()
	e, ok := m.parts[k]
	m.mu.Unlock()
	if !ok || !e.persistent {
		return nil
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.mu.Lock()
	start, batches := e.p.State()
	e.mu.Unlock()
	return write(start, batches)
}

// MaxGroups bounds the share groups a coordinator keeps in memory (empty
// ones stay until deleted, as in Kafka).
const MaxGroups = 1 << 16

// MaxPartitions bounds the share partitions (group x topic-partition) a
// broker keeps in memory.
const MaxPartitions = 1 << 20

// ReleaseSession releases what member holds in the given partitions of
// group (its share session closed).
func (m *Manager) ReleaseSession(group, member string, parts []TP) {
	for _, tp := range parts {
		m.mu.Lock()
		e, ok := m.parts[PartKey{group, tp}]
		m.mu.Unlock()
		if ok {
			e.mu.Lock()
			e.p.ReleaseMember(member)
			e.mu.Unlock()
		}
	}
	m.Notify()
}

// Offsets is a share partition's start offset, for
// DescribeShareGroupOffsets; ok is false before its first fetch.
func (m *Manager) Offsets(k PartKey) (start int64, ok bool) {
	m.mu.Lock()
	e, ok := m.parts[k]
	m.mu.Unlock()
	if !ok {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.p.Start(), true
}

// CloseOwned closes member's share session if owner opened it (the
// connection closed) and releases the records the member holds in its
// partitions, as Kafka does when a share session's connection goes.
func (m *Manager) CloseOwned(owner any, group, member string) {
	m.mu.Lock()
	k := sessionKey{group, member}
	s, ok := m.sessions[k]
	if !ok || s.owner != owner {
		m.mu.Unlock()
		return
	}
	delete(m.sessions, k)
	m.mu.Unlock()
	m.ReleaseSession(group, member, sessionParts(s))
}
