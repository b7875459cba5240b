package group

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup handles JoinGroup v0-v9. It may park until the rebalance's
// join phase ends, bounded by ctx (NOT_COORDINATOR if ctx ends first).
func (c *Coordinator) JoinGroup(ctx context.Context, cl Client, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	// The request's byte slices may alias the connection's read buffer,
	// reused for its next request (kmsg copies strings, not bytes); the
	// group keeps them.
	cp := *req
	req = &cp
	req.Protocols = slices.Clone(req.Protocols)
	for i := range req.Protocols {
		req.Protocols[i].Metadata = slices.Clone(req.Protocols[i].Metadata)
	}
	ch, r := s.join(cl, req)
	s.mu.Unlock()
	if r != nil {
		return r
	}
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		resp.ErrorCode = kerr.NotCoordinator.Code
		return resp
	}
}

// join returns an immediate answer, or a channel the answer will come on.
func (s *shard) join(cl Client, req *kmsg.JoinGroupRequest) (chan *kmsg.JoinGroupResponse, *kmsg.JoinGroupResponse) {
	set := &s.c.cfg.Settings
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	fail := func(code int16) (chan *kmsg.JoinGroupResponse, *kmsg.JoinGroupResponse) {
		resp.ErrorCode = code
		return nil, resp
	}
	st := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if st < set.MinSessionTimeout || st > set.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout.Code)
	}
	unknown := req.MemberID == ""
	g, code := s.maybeDowngrade(s.groups[req.Group]) // consumer_coordinator.go
	if code != 0 {
		return fail(code)
	}
	if g == nil {
		if !unknown {
			return fail(kerr.UnknownMemberID.Code)
		}
		// Created below, once the request is known to be acceptable.
	} else if g.typ == TypeConsumer && !g.empty() {
		// A classic member of a consumer group (consumer_classic.go).
		return nil, s.consumerJoin(g, cl, req)
	} else if g.typ != TypeClassic {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	var cg *classicGroup
	if g != nil {
		cg = g.classic
		if cg.state == stateDead {
			return fail(kerr.CoordinatorNotAvailable.Code)
		}
		if !cg.supportsProtocols(req.ProtocolType, req.Protocols) {
			return fail(kerr.InconsistentGroupProtocol.Code)
		}
	} else if req.ProtocolType == "" || len(req.Protocols) == 0 {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}

	newMember := func(id string) *classicMember {
		return &classicMember{
			id: id, instanceID: req.InstanceID, clientID: cl.ID, clientHost: cl.Host,
			protocolType: req.ProtocolType, protocols: req.Protocols,
			session: st, rebalance: rebalanceTimeout(req),
		}
	}
	ensure := func() *classicGroup {
		if g == nil {
			g = newGroup(s, req.Group, TypeClassic)
			s.groups[req.Group] = g
			cg = g.classic
		}
		return cg
	}
	ch := make(chan *kmsg.JoinGroupResponse, 1)

	if unknown {
		if req.InstanceID != nil && cg != nil {
			if old, ok := cg.static[*req.InstanceID]; ok {
				if m, ok := cg.members[old]; ok {
					return cg.replaceStaticMember(m, req, cl, ch)
				}
			}
		}
		if cg != nil && len(cg.members)+len(cg.pending) >= set.MaxSize {
			return fail(kerr.GroupMaxSizeReached.Code)
		}
		prefix := cl.ID
		if req.InstanceID != nil {
			prefix = *req.InstanceID
		}
		id := newMemberID(prefix)
		cg = ensure()
		if req.InstanceID == nil && req.Version >= 4 {
			cg.addPending(id, st)
			resp.MemberID = id
			return fail(kerr.MemberIDRequired.Code)
		}
		cg.addMemberAndRebalance(newMember(id), ch, req.Version)
		return ch, nil
	}

	if cg.removePending(req.MemberID) {
		if req.InstanceID != nil {
			return fail(kerr.UnknownMemberID.Code)
		}
		cg.addMemberAndRebalance(newMember(req.MemberID), ch, req.Version)
		return ch, nil
	}
	if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return fail(code)
	}
	m := cg.members[req.MemberID]
	m.clientID, m.clientHost = cl.ID, cl.Host
	switch cg.state {
	case statePreparingRebalance:
		cg.updateMemberAndRebalance(m, req, ch)
		return ch, nil
	case stateCompletingRebalance:
		if m.sameProtocols(req.Protocols) {
			return nil, cg.joinResponse(m, req.Version)
		}
		cg.updateMemberAndRebalance(m, req, ch)
		return ch, nil
	case stateStable:
		if m.id != cg.leader && m.sameProtocols(req.Protocols) {
			r := cg.joinResponse(m, req.Version)
			return nil, r
		}
		cg.updateMemberAndRebalance(m, req, ch)
		return ch, nil
	}
	return fail(kerr.UnknownMemberID.Code)
}

// replaceStaticMember is KIP-345's rejoin of a known group.instance.id with
// an empty member id: the member gets a new id, the old id is fenced, and a
// stable group does not rebalance unless the chosen protocol would change.
func (cg *classicGroup) replaceStaticMember(old *classicMember, req *kmsg.JoinGroupRequest, cl Client, ch chan *kmsg.JoinGroupResponse) (chan *kmsg.JoinGroupResponse, *kmsg.JoinGroupResponse) {
	s := cg.shard()
	cg.answerJoin(old, kerr.FencedInstanceID.Code)
	cg.answerSync(old, kerr.FencedInstanceID.Code)
	old.hb.cancel()
	m := &classicMember{
		id: newMemberID(*req.InstanceID), instanceID: req.InstanceID,
		clientID: cl.ID, clientHost: cl.Host, protocolType: req.ProtocolType,
		protocols: old.protocols, session: old.session, rebalance: old.rebalance,
		assignment: old.assignment,
	}
	delete(cg.members, old.id)
	cg.members[m.id] = m
	cg.static[*req.InstanceID] = m.id
	if cg.leader == old.id {
		cg.leader = m.id
	}
	if cg.pendingSync[old.id] {
		delete(cg.pendingSync, old.id)
		cg.pendingSync[m.id] = true
	}
	oldProtocols := m.protocols
	cg.updateMember(m, req)
	cg.scheduleHeartbeat(m)

	switch cg.state {
	case stateStable:
		if cg.selectProtocol() == cg.protocol {
			if err := s.write(s.c.ctx, []Record{cg.g.groupRecord()}); err != nil {
				// Undo, as Kafka does when the write fails.
				m.hb.cancel()
				delete(cg.members, m.id)
				old.protocols = oldProtocols
				cg.members[old.id] = old
				cg.static[*req.InstanceID] = old.id
				if cg.leader == m.id {
					cg.leader = old.id
				}
				cg.scheduleHeartbeat(old)
				r := kmsg.NewPtrJoinGroupResponse()
				r.Version = req.Version
				r.ErrorCode = writeCode(err)
				return nil, r
			}
			r := cg.joinResponse(m, req.Version)
			r.SkipAssignment = m.id == cg.leader
			return nil, r
		}
		m.joinCh, m.joinVersion = ch, req.Version
		cg.prepareRebalance()
		return ch, nil
	case stateCompletingRebalance:
		m.joinCh, m.joinVersion = ch, req.Version
		cg.prepareRebalance()
		return ch, nil
	default: // PreparingRebalance
		m.joinCh, m.joinVersion = ch, req.Version
		cg.tryCompleteJoin()
		return ch, nil
	}
}

// SyncGroup handles SyncGroup v0-v5. Followers park until the leader's
// assignment is written, bounded by ctx.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	// As in JoinGroup: the assignments outlive the request's buffer.
	cp := *req
	req = &cp
	req.GroupAssignment = slices.Clone(req.GroupAssignment)
	for i := range req.GroupAssignment {
		req.GroupAssignment[i].MemberAssignment = slices.Clone(req.GroupAssignment[i].MemberAssignment)
	}
	ch, r := s.sync(ctx, req)
	s.mu.Unlock()
	if r != nil {
		return r
	}
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		resp.ErrorCode = kerr.NotCoordinator.Code
		return resp
	}
}

func (s *shard) sync(ctx context.Context, req *kmsg.SyncGroupRequest) (chan *kmsg.SyncGroupResponse, *kmsg.SyncGroupResponse) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	fail := func(code int16) (chan *kmsg.SyncGroupResponse, *kmsg.SyncGroupResponse) {
		resp.ErrorCode = code
		return nil, resp
	}
	g := s.groups[req.Group]
	if g != nil && g.typ == TypeConsumer {
		return nil, s.consumerSync(g, req)
	}
	if g == nil || g.typ != TypeClassic {
		return fail(kerr.UnknownMemberID.Code)
	}
	cg := g.classic
	if cg.state == stateDead {
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return fail(code)
	}
	if req.Generation != cg.generation {
		return fail(kerr.IllegalGeneration.Code)
	}
	if req.ProtocolType != nil && *req.ProtocolType != cg.protocolType ||
		req.Protocol != nil && *req.Protocol != cg.protocol {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	m := cg.members[req.MemberID]
	switch cg.state {
	case stateEmpty:
		return fail(kerr.UnknownMemberID.Code)
	case statePreparingRebalance:
		return fail(kerr.RebalanceInProgress.Code)
	case stateStable:
		delete(cg.pendingSync, m.id)
		cg.scheduleHeartbeat(m)
		return nil, cg.syncResponse(m, req.Version)
	}
	// CompletingRebalance.
	delete(cg.pendingSync, m.id)
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	if m.syncCh != nil {
		cg.answerSync(m, kerr.RebalanceInProgress.Code)
	}
	m.syncCh, m.syncVersion = ch, req.Version
	if m.id != cg.leader {
		return ch, nil
	}
	assign := make(map[string][]byte, len(req.GroupAssignment))
	for _, a := range req.GroupAssignment {
		assign[a.MemberID] = a.MemberAssignment
	}
	for _, o := range cg.members {
		o.assignment = nonNil(assign[o.id])
	}
	if err := s.write(ctx, []Record{g.groupRecord()}); err != nil {
		code := writeCode(err)
		for _, o := range cg.members {
			o.assignment = nil
			cg.answerSync(o, code)
		}
		cg.maybePrepareRebalance()
		return ch, nil
	}
	cg.setState(stateStable, s.now())
	for _, o := range cg.members {
		if o.syncCh != nil {
			o.syncCh <- cg.syncResponse(o, o.syncVersion)
			o.syncCh = nil
			cg.scheduleHeartbeat(o)
		}
	}
	return ch, nil
}

func (cg *classicGroup) syncResponse(m *classicMember, version int16) *kmsg.SyncGroupResponse {
	r := kmsg.NewPtrSyncGroupResponse()
	r.Version = version
	r.ProtocolType = kmsg.StringPtr(cg.protocolType)
	r.Protocol = kmsg.StringPtr(cg.protocol)
	r.MemberAssignment = nonNil(m.assignment)
	return r
}

// Heartbeat handles Heartbeat v0-v4.
func (c *Coordinator) Heartbeat(_ context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	defer s.mu.Unlock()
	resp.ErrorCode = s.heartbeat(req)
	return resp
}

func (s *shard) heartbeat(req *kmsg.HeartbeatRequest) int16 {
	g := s.groups[req.Group]
	if g != nil && g.typ == TypeConsumer {
		return s.consumerHeartbeat(g, req)
	}
	if g == nil || g.typ != TypeClassic {
		return kerr.UnknownMemberID.Code
	}
	cg := g.classic
	if cg.state == stateDead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	if req.Generation != cg.generation {
		return kerr.IllegalGeneration.Code
	}
	m := cg.members[req.MemberID]
	switch cg.state {
	case stateEmpty:
		return kerr.UnknownMemberID.Code
	case statePreparingRebalance:
		cg.scheduleHeartbeat(m)
		return kerr.RebalanceInProgress.Code
	}
	cg.scheduleHeartbeat(m)
	return 0
}

// LeaveGroup handles LeaveGroup v0-v5 (batched members from v3).
func (c *Coordinator) LeaveGroup(_ context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	members := req.Members
	if req.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	finish := func() *kmsg.LeaveGroupResponse {
		if req.Version < 3 {
			if resp.ErrorCode == 0 && len(resp.Members) > 0 {
				resp.ErrorCode = resp.Members[0].ErrorCode
			}
			resp.Members = nil
		}
		return resp
	}
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return finish()
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		resp.ErrorCode = code
		return finish()
	}
	defer s.mu.Unlock()
	g := s.groups[req.Group]
	if g != nil && g.typ == TypeConsumer {
		out, code := s.consumerLeave(g, members)
		resp.ErrorCode = code
		resp.Members = out
		return finish()
	}
	var cg *classicGroup
	if g != nil && g.typ == TypeClassic {
		cg = g.classic
		if cg.state == stateDead {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return finish()
		}
	}
	removed := false
	for _, rm := range members {
		r := kmsg.NewLeaveGroupResponseMember()
		r.MemberID, r.InstanceID = rm.MemberID, rm.InstanceID
		r.ErrorCode = func() int16 {
			if cg == nil {
				return kerr.UnknownMemberID.Code
			}
			id := rm.MemberID
			if rm.InstanceID != nil {
				known, ok := cg.static[*rm.InstanceID]
				switch {
				case !ok:
					return kerr.UnknownMemberID.Code
				case id != "" && id != known:
					return kerr.FencedInstanceID.Code
				}
				id = known
			}
			if cg.removePending(id) {
				return 0
			}
			m, ok := cg.members[id]
			if !ok {
				return kerr.UnknownMemberID.Code
			}
			cg.removeMember(m)
			removed = true
			return 0
		}()
		resp.Members = append(resp.Members, r)
	}
	if removed {
		switch cg.state {
		case stateStable, stateCompletingRebalance:
			cg.prepareRebalance()
		case statePreparingRebalance:
			cg.tryCompleteJoin()
		}
	} else if cg != nil && cg.state == statePreparingRebalance {
		cg.tryCompleteJoin() // a pending member may have left
	}
	return finish()
}
