package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mismatchBackoff is the pause before rejoining after CONFIG_MISMATCH.
const mismatchBackoff = 250 * time.Millisecond

// errRejoin means the round must start over at JoinGroup.
var errRejoin = errors.New("protocol: rejoin")

// joinAndSync runs one rebalance: JoinGroup (retried for
// MEMBER_ID_REQUIRED and REBALANCE_IN_PROGRESS), the leader's
// assignment, SyncGroup and the callbacks.
func (m *Member) joinAndSync(ctx context.Context) error {
	if m.version == VersionDefault && m.owned != nil && m.owned.Error == ErrNone && m.cb.Revoked != nil &&
		(len(m.owned.Connectors) > 0 || len(m.owned.Tasks) > 0) {
		// Eager: stop everything before rejoining.
		m.cb.Revoked(Assignment{Leader: m.owned.Leader, LeaderURL: m.owned.LeaderURL,
			RevokedConnectors: m.owned.Connectors, RevokedTasks: m.owned.Tasks})
		m.owned = nil
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := m.join(ctx)
		if errors.Is(err, errRejoin) && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		err = m.sync(ctx, resp)
		if errors.Is(err, errRejoin) && attempt < 10 {
			continue
		}
		return err
	}
}

func (m *Member) join(ctx context.Context) (*kmsg.JoinGroupResponse, error) {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group = m.cfg.GroupID
	req.SessionTimeoutMillis = int32(m.cfg.SessionTimeout.Milliseconds())
	req.RebalanceTimeoutMillis = int32(m.cfg.RebalanceTimeout.Milliseconds())
	req.MemberID = m.memberID
	req.ProtocolType = ProtocolType
	req.Protocols = m.protocols()
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return nil, fmt.Errorf("protocol: join group: %w", err)
	}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.MemberIDRequired):
		m.memberID = resp.MemberID
		return nil, errRejoin
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration):
		m.resetMember()
		return nil, errRejoin
	case errors.Is(err, kerr.RebalanceInProgress):
		return nil, errRejoin
	default:
		return nil, fmt.Errorf("protocol: join group: %w", err)
	}
	m.memberID = resp.MemberID
	m.mu.Lock()
	m.publicID = resp.MemberID
	m.mu.Unlock()
	return resp, nil
}

// sync sends SyncGroup (with the assignments if leader) and applies the
// assignment it returns.
func (m *Member) sync(ctx context.Context, jr *kmsg.JoinGroupResponse) error {
	proto := ""
	if jr.Protocol != nil {
		proto = *jr.Protocol
	}
	version, err := ProtocolVersion(proto)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group = m.cfg.GroupID
	req.Generation = jr.Generation
	req.MemberID = m.memberID
	req.ProtocolType = kmsg.StringPtr(ProtocolType)
	req.Protocol = kmsg.StringPtr(proto)
	leader := jr.LeaderID == m.memberID
	if leader {
		assignments, err := m.lead(jr, version)
		if err != nil {
			return err
		}
		for _, id := range sortedKeys(assignments) {
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID = id
			ga.MemberAssignment = EncodeAssignment(version, assignments[id])
			req.GroupAssignment = append(req.GroupAssignment, ga)
		}
	}
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return fmt.Errorf("protocol: sync group: %w", err)
	}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.RebalanceInProgress):
		return errRejoin
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration):
		m.resetMember()
		return errRejoin
	default:
		return fmt.Errorf("protocol: sync group: %w", err)
	}
	_, a, err := DecodeAssignment(resp.MemberAssignment)
	if err != nil {
		return fmt.Errorf("protocol: sync group: %w", err)
	}
	m.apply(jr.Generation, version, leader, a)
	return nil
}

// lead decodes the members' metadata and runs the assignor.
func (m *Member) lead(jr *kmsg.JoinGroupResponse, version int16) (map[string]Assignment, error) {
	members := make(map[string]Metadata, len(jr.Members))
	for _, jm := range jr.Members {
		_, md, err := DecodeMetadata(jm.ProtocolMetadata)
		if err != nil {
			return nil, fmt.Errorf("protocol: metadata of member %s: %w", jm.MemberID, err)
		}
		if version == VersionDefault {
			md.Owned = nil
		}
		members[jm.MemberID] = md
	}
	if _, ok := members[m.memberID]; !ok {
		return nil, fmt.Errorf("protocol: leader %s missing from its own group", m.memberID)
	}
	var snap Snapshot
	if m.cb.Snapshot != nil {
		snap = m.cb.Snapshot()
	}
	if version == VersionDefault {
		return m.assignor.AssignEager(m.memberID, members, snap), nil
	}
	return m.assignor.AssignGeneration(time.Now(), m.memberID, m.lastCompleted, jr.Generation, members, snap), nil
}

// apply records a completed rebalance and tells the worker.
func (m *Member) apply(gen int32, version int16, leader bool, a Assignment) {
	m.version = version
	m.rejoinAt = time.Time{}
	full := a
	revoked := len(a.RevokedConnectors) > 0 || len(a.RevokedTasks) > 0
	if version >= VersionCompatible {
		if revoked && m.cb.Revoked != nil {
			m.cb.Revoked(a)
		}
		if m.owned != nil {
			rv := newWork()
			rv.addLists(a.RevokedConnectors, a.RevokedTasks)
			kept := newWork()
			kept.addLists(m.owned.Connectors, m.owned.Tasks)
			kept = kept.minus(rv)
			kept.addLists(a.Connectors, a.Tasks)
			full.Connectors, full.Tasks = kept.sortedConns(), kept.sortedTasks()
		}
	}
	owned := full
	m.owned = &owned
	m.lastCompleted = gen
	m.mu.Lock()
	m.gen, m.leader, m.leaderURL = gen, leader, a.LeaderURL
	m.mu.Unlock()
	m.log.Info("connect group: joined", "group", m.cfg.GroupID, "generation", gen, "protocol", ProtocolName(version),
		"leader", leader, "connectors", len(full.Connectors), "tasks", len(full.Tasks), "revoked", revoked, "delay_ms", a.Delay)
	if m.cb.Assigned != nil {
		m.cb.Assigned(gen, full)
	}
	switch {
	case a.Error != ErrNone:
		// The worker reads the config topic in Assigned; rejoin soon,
		// without spinning while the leader catches up.
		m.rejoinAt = time.Now().Add(mismatchBackoff)
	case revoked && version >= VersionCompatible:
		m.Rejoin()
	case a.Delay > 0:
		m.rejoinAt = time.Now().Add(time.Duration(a.Delay) * time.Millisecond)
	}
}
