package group

import (
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the classic group state machine, after Kafka's ClassicGroup
// and the classic paths of GroupMetadataManager. Request handlers are in
// classic_requests.go. Every function here runs with the shard lock held.

type classicState int8

const (
	stateEmpty classicState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

func (s classicState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Dead"
}

type classicMember struct {
	id           string
	instanceID   *string
	clientID     string
	clientHost   string
	protocolType string
	protocols    []kmsg.JoinGroupRequestProtocol
	session      time.Duration
	rebalance    time.Duration
	assignment   []byte

	// joinCh holds a parked JoinGroup (capacity 1); nil if none.
	joinCh      chan *kmsg.JoinGroupResponse
	joinVersion int16
	// syncCh holds a parked SyncGroup (capacity 1); nil if none.
	syncCh      chan *kmsg.SyncGroupResponse
	syncVersion int16

	hb    *timer
	isNew bool
}

func (m *classicMember) static() bool { return m.instanceID != nil }

func (m *classicMember) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether a rejoin changes nothing the assignor sees.
func (m *classicMember) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	if len(ps) != len(m.protocols) {
		return false
	}
	for i := range ps {
		if ps[i].Name != m.protocols[i].Name || string(ps[i].Metadata) != string(m.protocols[i].Metadata) {
			return false
		}
	}
	return true
}

type classicGroup struct {
	g            *group
	state        classicState
	stateTime    time.Time
	generation   int32
	protocolType string
	protocol     string
	leader       string
	members      map[string]*classicMember
	// pending are member ids handed out with MEMBER_ID_REQUIRED whose
	// second join has not arrived; each expires after a session timeout.
	pending     map[string]*timer
	static      map[string]string // instance id -> member id
	pendingSync map[string]bool

	joinTimer *timer
	syncTimer *timer
	// initialDelay is set while the first rebalance of an empty group
	// waits group.initial.rebalance.delay.ms for more members.
	initialDelay   bool
	newMemberAdded bool
}

func newClassicGroup(now time.Time) *classicGroup {
	return &classicGroup{
		state: stateEmpty, stateTime: now,
		members: make(map[string]*classicMember),
		pending: make(map[string]*timer),
		static:  make(map[string]string),
	}
}

func (cg *classicGroup) setState(s classicState, now time.Time) {
	cg.state = s
	cg.stateTime = now
}

func (cg *classicGroup) shard() *shard { return cg.g.s }

func (cg *classicGroup) settings() *Settings { return &cg.g.s.c.cfg.Settings }

func (cg *classicGroup) sortedMembers() []*classicMember {
	out := make([]*classicMember, 0, len(cg.members))
	for _, m := range cg.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// restore rebuilds the group from its metadata record, as Kafka does on
// load: Stable with its members if it has any, else Empty. Members must
// heartbeat within their session timeout.
func (cg *classicGroup) restore(g *group, v *kmsg.GroupMetadataValue) {
	cg.g = g
	cg.generation = v.Generation
	cg.protocolType = v.ProtocolType
	if v.Protocol != nil {
		cg.protocol = *v.Protocol
	}
	if v.Leader != nil {
		cg.leader = *v.Leader
	}
	if v.CurrentStateTimestamp > 0 {
		cg.stateTime = time.UnixMilli(v.CurrentStateTimestamp)
	}
	for _, mv := range v.Members {
		m := &classicMember{
			id: mv.MemberID, instanceID: mv.InstanceID, clientID: mv.ClientID, clientHost: mv.ClientHost,
			protocolType: v.ProtocolType,
			protocols:    []kmsg.JoinGroupRequestProtocol{{Name: cg.protocol, Metadata: mv.Subscription}},
			session:      time.Duration(mv.SessionTimeoutMillis) * time.Millisecond,
			rebalance:    time.Duration(mv.RebalanceTimeoutMillis) * time.Millisecond,
			assignment:   mv.Assignment,
		}
		if m.rebalance <= 0 {
			m.rebalance = m.session
		}
		cg.members[m.id] = m
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
	}
	if len(cg.members) == 0 {
		cg.state = stateEmpty
		cg.protocol, cg.leader = "", ""
		return
	}
	cg.state = stateStable
	for _, m := range cg.members {
		cg.scheduleHeartbeat(m)
	}
}

// shutdown answers parked requests with NOT_COORDINATOR and stops timers.
func (cg *classicGroup) shutdown() {
	for _, m := range cg.members {
		m.hb.cancel()
		cg.answerJoin(m, kerr.NotCoordinator.Code)
		cg.answerSync(m, kerr.NotCoordinator.Code)
	}
	for _, t := range cg.pending {
		t.cancel()
	}
	cg.joinTimer.cancel()
	cg.syncTimer.cancel()
}

// answerJoin completes a parked JoinGroup with an error.
func (cg *classicGroup) answerJoin(m *classicMember, code int16) {
	if m.joinCh == nil {
		return
	}
	r := kmsg.NewPtrJoinGroupResponse()
	r.Version = m.joinVersion
	r.ErrorCode = code
	r.MemberID = m.id
	m.joinCh <- r
	m.joinCh = nil
}

// answerSync completes a parked SyncGroup with an error.
func (cg *classicGroup) answerSync(m *classicMember, code int16) {
	if m.syncCh == nil {
		return
	}
	r := kmsg.NewPtrSyncGroupResponse()
	r.Version = m.syncVersion
	r.ErrorCode = code
	m.syncCh <- r
	m.syncCh = nil
}

// joinResponse is the successful JoinGroup answer for m; the leader also
// gets every member's metadata for the chosen protocol.
func (cg *classicGroup) joinResponse(m *classicMember, version int16) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.Version = version
	r.Generation = cg.generation
	r.ProtocolType = kmsg.StringPtr(cg.protocolType)
	r.Protocol = kmsg.StringPtr(cg.protocol)
	r.LeaderID = cg.leader
	r.MemberID = m.id
	if m.id == cg.leader {
		for _, o := range cg.sortedMembers() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID = o.id
			rm.InstanceID = o.instanceID
			rm.ProtocolMetadata = nonNil(o.metadataFor(cg.protocol))
			r.Members = append(r.Members, rm)
		}
	}
	return r
}

// scheduleHeartbeat (re)arms m's session timer. A member with a parked
// JoinGroup or SyncGroup is kept alive: the rebalance and pending-sync
// timers bound those waits.
func (cg *classicGroup) scheduleHeartbeat(m *classicMember) {
	m.hb.cancel()
	m.hb = cg.shard().after(m.session, func() {
		if cg.members[m.id] != m {
			return
		}
		if m.joinCh != nil || m.syncCh != nil {
			cg.scheduleHeartbeat(m)
			return
		}
		cg.shard().c.lg.Info("group member session expired", "group", cg.g.id, "member", m.id)
		cg.removeMemberAndRebalance(m)
	})
}

// supportsProtocols is Kafka's ClassicGroup.supportsProtocols: an empty
// group takes any non-empty type and list; otherwise the type must match
// and one of the protocols must be supported by every member.
func (cg *classicGroup) supportsProtocols(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if protocolType == "" || len(ps) == 0 {
		return false
	}
	if len(cg.members) == 0 {
		return true
	}
	if protocolType != cg.protocolType {
		return false
	}
	for _, p := range ps {
		all := true
		for _, m := range cg.members {
			if !hasProtocol(m.protocols, p.Name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func hasProtocol(ps []kmsg.JoinGroupRequestProtocol, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol every member supports that most
// members prefer; ties go to the leader's preference.
func (cg *classicGroup) selectProtocol() string {
	members := cg.sortedMembers()
	if len(members) == 0 {
		return ""
	}
	var candidates []string
	first := members[0]
	if l, ok := cg.members[cg.leader]; ok {
		first = l
	}
	for _, p := range first.protocols {
		all := true
		for _, m := range members {
			if !hasProtocol(m.protocols, p.Name) {
				all = false
				break
			}
		}
		if all {
			candidates = append(candidates, p.Name)
		}
	}
	if len(candidates) == 0 {
		return ""
	}
	votes := make(map[string]int)
	for _, m := range members {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := candidates[0]
	for _, c := range candidates[1:] {
		if votes[c] > votes[best] {
			best = c
		}
	}
	return best
}

func (cg *classicGroup) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range cg.members {
		d = max(d, m.rebalance)
	}
	return d
}

// addMemberAndRebalance adds a member whose JoinGroup is parked on ch.
func (cg *classicGroup) addMemberAndRebalance(m *classicMember, ch chan *kmsg.JoinGroupResponse, version int16) {
	if len(cg.members) == 0 {
		cg.protocolType = m.protocolType
	}
	cg.members[m.id] = m
	if m.instanceID != nil {
		cg.static[*m.instanceID] = m.id
	}
	if cg.leader == "" {
		cg.leader = m.id
	}
	m.isNew = true
	m.joinCh, m.joinVersion = ch, version
	if cg.state == statePreparingRebalance && cg.initialDelay {
		cg.newMemberAdded = true
	}
	cg.scheduleHeartbeat(m)
	cg.maybePrepareRebalance()
}

// updateMemberAndRebalance records a known member's rejoin, parked on ch.
func (cg *classicGroup) updateMemberAndRebalance(m *classicMember, req *kmsg.JoinGroupRequest, ch chan *kmsg.JoinGroupResponse) {
	cg.updateMember(m, req)
	if m.joinCh != nil {
		// A duplicate join (a retry on a new connection): the old one is
		// answered so that its connection is not stuck.
		cg.answerJoin(m, kerr.RebalanceInProgress.Code)
	}
	m.joinCh, m.joinVersion = ch, req.Version
	cg.maybePrepareRebalance()
}

func (cg *classicGroup) updateMember(m *classicMember, req *kmsg.JoinGroupRequest) {
	m.protocols = req.Protocols
	m.session = time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	m.rebalance = rebalanceTimeout(req)
}

func rebalanceTimeout(req *kmsg.JoinGroupRequest) time.Duration {
	if req.Version == 0 || req.RebalanceTimeoutMillis <= 0 {
		return time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	}
	return time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
}

func (cg *classicGroup) maybePrepareRebalance() {
	switch cg.state {
	case stateStable, stateCompletingRebalance, stateEmpty:
		cg.prepareRebalance()
	case statePreparingRebalance:
		cg.tryCompleteJoin()
	}
}

// prepareRebalance moves to PreparingRebalance: parked syncs are told to
// rejoin, and the join phase ends when every member has rejoined or the
// longest rebalance timeout passes. An empty group's first rebalance
// instead waits group.initial.rebalance.delay.ms, extended while members
// keep arriving, up to the rebalance timeout.
func (cg *classicGroup) prepareRebalance() {
	s := cg.shard()
	if cg.state == stateCompletingRebalance {
		for _, m := range cg.members {
			m.assignment = nil
			cg.answerSync(m, kerr.RebalanceInProgress.Code)
		}
	}
	cg.syncTimer.cancel()
	cg.pendingSync = nil
	cg.joinTimer.cancel()
	wasEmpty := cg.state == stateEmpty
	cg.setState(statePreparingRebalance, s.now())
	rt := cg.maxRebalanceTimeout()
	if delay := cg.settings().InitialRebalanceDelay; wasEmpty && delay > 0 {
		cg.initialDelay = true
		cg.newMemberAdded = false
		d := min(delay, rt)
		cg.armInitialDelay(d, rt-d)
		return
	}
	cg.initialDelay = false
	cg.joinTimer = s.after(rt, cg.completeJoin)
	cg.tryCompleteJoin()
}

func (cg *classicGroup) armInitialDelay(d, remaining time.Duration) {
	cg.joinTimer = cg.shard().after(d, func() {
		if cg.newMemberAdded && remaining > 0 {
			cg.newMemberAdded = false
			next := min(cg.settings().InitialRebalanceDelay, remaining)
			cg.armInitialDelay(next, remaining-next)
			return
		}
		cg.completeJoin()
	})
}

// tryCompleteJoin ends the join phase early once every member has rejoined
// and no MEMBER_ID_REQUIRED member is still expected.
func (cg *classicGroup) tryCompleteJoin() {
	if cg.state != statePreparingRebalance || cg.initialDelay {
		return
	}
	if len(cg.pending) > 0 {
		return
	}
	for _, m := range cg.members {
		if m.joinCh == nil {
			return
		}
	}
	cg.completeJoin()
}

// completeJoin ends the join phase: dynamic members that did not rejoin are
// removed, the next generation starts, and every parked join is answered.
func (cg *classicGroup) completeJoin() {
	s := cg.shard()
	cg.joinTimer.cancel()
	cg.joinTimer = nil
	cg.initialDelay = false
	if cg.state != statePreparingRebalance {
		return
	}
	for _, m := range cg.sortedMembers() {
		if m.joinCh == nil && !m.static() {
			cg.removeMember(m)
		}
	}
	if len(cg.members) > 0 {
		if l, ok := cg.members[cg.leader]; !ok || l.joinCh == nil {
			cg.leader = ""
			for _, m := range cg.sortedMembers() {
				if m.joinCh != nil {
					cg.leader = m.id
					break
				}
			}
		}
		if cg.leader == "" {
			// Only static members that have not rejoined are left:
			// wait another rebalance timeout for them or their session
			// expiry, as Kafka does.
			cg.joinTimer = s.after(cg.maxRebalanceTimeout(), cg.completeJoin)
			return
		}
	}
	cg.generation++
	if len(cg.members) == 0 {
		cg.protocol, cg.leader = "", ""
		cg.setState(stateEmpty, s.now())
		if err := s.write(s.c.ctx, []Record{cg.g.groupRecord()}); err != nil {
			s.c.lg.Warn("writing group metadata failed", "group", cg.g.id, "err", err)
		}
		return
	}
	cg.protocol = cg.selectProtocol()
	cg.setState(stateCompletingRebalance, s.now())
	cg.pendingSync = make(map[string]bool, len(cg.members))
	for _, m := range cg.sortedMembers() {
		cg.pendingSync[m.id] = true
		if m.joinCh != nil {
			m.joinCh <- cg.joinResponse(m, m.joinVersion)
			m.joinCh = nil
		}
		m.isNew = false
		cg.scheduleHeartbeat(m)
	}
	gen := cg.generation
	cg.syncTimer = s.after(cg.maxRebalanceTimeout(), func() { cg.expirePendingSync(gen) })
}

// expirePendingSync removes members that did not SyncGroup within the
// rebalance timeout after the join phase, and rebalances.
func (cg *classicGroup) expirePendingSync(gen int32) {
	if gen != cg.generation || (cg.state != stateCompletingRebalance && cg.state != stateStable) {
		return
	}
	removed := false
	for id := range cg.pendingSync {
		if m, ok := cg.members[id]; ok {
			cg.shard().c.lg.Info("group member did not sync in time", "group", cg.g.id, "member", id)
			cg.removeMember(m)
			removed = true
		}
	}
	cg.pendingSync = nil
	if removed {
		cg.maybePrepareRebalance()
	}
}

// removeMember forgets m; parked requests get UNKNOWN_MEMBER_ID.
func (cg *classicGroup) removeMember(m *classicMember) {
	m.hb.cancel()
	cg.answerJoin(m, kerr.UnknownMemberID.Code)
	cg.answerSync(m, kerr.UnknownMemberID.Code)
	delete(cg.members, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	delete(cg.pendingSync, m.id)
	if cg.leader == m.id {
		cg.leader = ""
		for _, o := range cg.sortedMembers() {
			if o.joinCh != nil {
				cg.leader = o.id
				break
			}
		}
		if cg.leader == "" {
			if ms := cg.sortedMembers(); len(ms) > 0 {
				cg.leader = ms[0].id
			}
		}
	}
}

// removeMemberAndRebalance is a leave or an expiry.
func (cg *classicGroup) removeMemberAndRebalance(m *classicMember) {
	cg.removeMember(m)
	switch cg.state {
	case stateStable, stateCompletingRebalance:
		cg.prepareRebalance()
	case statePreparingRebalance:
		cg.tryCompleteJoin()
	}
}

// addPending records a member id handed out with MEMBER_ID_REQUIRED.
func (cg *classicGroup) addPending(id string, session time.Duration) {
	cg.pending[id] = cg.shard().after(session, func() {
		delete(cg.pending, id)
		cg.tryCompleteJoin()
	})
}

func (cg *classicGroup) removePending(id string) bool {
	t, ok := cg.pending[id]
	if ok {
		t.cancel()
		delete(cg.pending, id)
	}
	return ok
}

// validateMember is Kafka's ClassicGroup.validateMember.
func (cg *classicGroup) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		id, ok := cg.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if id != memberID {
			return kerr.FencedInstanceID.Code
		}
		return 0
	}
	if _, ok := cg.members[memberID]; !ok {
		return kerr.UnknownMemberID.Code
	}
	return 0
}

// subscribedTopics parses the members' consumer subscriptions.
func (cg *classicGroup) subscribedTopics() (map[string]bool, bool) {
	if cg.state == stateEmpty || cg.state == stateDead {
		return nil, true
	}
	if cg.protocolType != "consumer" {
		return nil, false
	}
	topics := make(map[string]bool)
	for _, m := range cg.members {
		md := m.metadataFor(cg.protocol)
		if md == nil && len(m.protocols) > 0 {
			md = m.protocols[0].Metadata
		}
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(md); err != nil {
			return nil, false
		}
		for _, t := range meta.Topics {
			topics[t] = true
		}
	}
	return topics, true
}
