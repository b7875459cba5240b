package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"
)

// ErrMembershipMismatch: the metadata log's membership does not fit the
// configuration, e.g. a single-node data dir started as a quorum member.
var ErrMembershipMismatch = errors.New("controller: metadata log membership does not match controller.quorum.voters")

// ReplicaStatus is one quorum member as the leader sees it.
type ReplicaStatus struct {
	NodeID int32
	// LogEndOffset is the last log index known to be on the replica, or -1
	// when unknown (on a node that is not the leader, for other replicas).
	LogEndOffset int64
	// LastContact is when a message from the replica was last received;
	// zero when never (or for this node itself: now).
	LastContact time.Time
}

// QuorumStatus is the raft state DescribeQuorum reports.
type QuorumStatus struct {
	NodeID    int32
	LeaderID  int32  // -1 when unknown
	Term      uint64 // the leader epoch
	Commit    uint64 // the high watermark
	LastIndex uint64 // this node's log end
	Voters    []ReplicaStatus
	Observers []ReplicaStatus // raft learners
}

// Status returns the quorum state from the raft loop.
func (c *Controller) Status(ctx context.Context) (QuorumStatus, error) {
	reply := make(chan QuorumStatus, 1)
	select {
	case c.statusc <- reply:
	case <-c.donec:
		return QuorumStatus{}, ErrClosed
	case <-ctx.Done():
		return QuorumStatus{}, ctx.Err()
	}
	select {
	case st := <-reply:
		return st, nil
	case <-c.donec:
		return QuorumStatus{}, ErrClosed
	case <-ctx.Done():
		return QuorumStatus{}, ctx.Err()
	}
}

// quorumStatus runs on the loop goroutine.
func (c *Controller) quorumStatus() QuorumStatus {
	st := c.rn.Status()
	last, _ := c.storage.LastIndex()
	qs := QuorumStatus{
		NodeID:    c.cfg.NodeID,
		LeaderID:  NodeID(st.Lead),
		Term:      st.GetTerm(),
		Commit:    st.GetCommit(),
		LastIndex: last,
	}
	now := time.Now()
	c.mu.Lock()
	heard := make(map[uint64]time.Time, len(c.heard))
	for id, t := range c.heard {
		heard[id] = t
	}
	c.mu.Unlock()
	member := func(id uint64) ReplicaStatus {
		rs := ReplicaStatus{NodeID: NodeID(id), LogEndOffset: -1, LastContact: heard[id]}
		switch {
		case id == c.raftID:
			rs.LogEndOffset, rs.LastContact = int64(last), now
		case st.Progress != nil:
			if pr, ok := st.Progress[id]; ok {
				rs.LogEndOffset = int64(pr.Match)
			}
		}
		return rs
	}
	voters := c.confState.GetVoters()
	slices.Sort(voters)
	for _, id := range voters {
		qs.Voters = append(qs.Voters, member(id))
	}
	learners := c.confState.GetLearners()
	slices.Sort(learners)
	for _, id := range learners {
		qs.Observers = append(qs.Observers, member(id))
	}
	return qs
}

// noteHeard records that a message from raft id from arrived now.
func (c *Controller) noteHeard(from uint64) {
	if from == 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	c.heard[from] = now
	c.mu.Unlock()
}

// lastHeard returns when a message from node id last arrived (zero: never).
func (c *Controller) lastHeard(id int32) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heard[RaftID(id)]
}

// ReportUnreachable tells raft that a message to raftID could not be sent
// (Reporter, for the transport). It never blocks.
func (c *Controller) ReportUnreachable(raftID uint64) {
	select {
	case c.reportc <- report{id: raftID}:
	default:
	}
}

// ReportSnapshot tells raft how sending a snapshot to raftID went
// (Reporter, for the transport). It never blocks.
func (c *Controller) ReportSnapshot(raftID uint64, failed bool) {
	select {
	case c.reportc <- report{id: raftID, snapshot: true, failed: failed}:
	default:
	}
}

// checkMembership compares the voters recorded in an existing log (the
// snapshot's ConfState, then the configuration changes in the WAL) with
// the configured voters, and refuses the combinations that cannot work.
func (c *Controller) checkMembership(snap *raftpb.Snapshot, entries []*raftpb.Entry) error {
	voters := map[uint64]bool{}
	if snap != nil {
		for _, id := range snap.GetMetadata().GetConfState().GetVoters() {
			voters[id] = true
		}
	}
	for _, e := range entries {
		if e.GetType() != raftpb.EntryConfChange {
			continue
		}
		var cc raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return fmt.Errorf("%w: undecodable conf change at %d: %v", ErrCorrupt, e.GetIndex(), err)
		}
		switch cc.GetType() {
		case raftpb.ConfChangeType_ConfChangeAddNode:
			voters[cc.GetNodeId()] = true
		case raftpb.ConfChangeType_ConfChangeRemoveNode, raftpb.ConfChangeType_ConfChangeAddLearnerNode:
			delete(voters, cc.GetNodeId())
		}
	}
	if len(voters) == 0 {
		return nil // nothing recorded (a learner's log before its snapshot)
	}
	single := len(voters) == 1 && voters[c.raftID]
	configured := map[uint64]bool{}
	for id := range c.cfg.Voters {
		configured[RaftID(id)] = true
	}
	switch {
	case c.members.learner && voters[c.raftID]:
		return fmt.Errorf("%w: node %d is a voter in the metadata log in %s but is not among controller.quorum.voters; "+
			"start it with the voters the quorum was created with", ErrMembershipMismatch, c.cfg.NodeID, c.cfg.DataDir)
	case len(c.cfg.Voters) > 1 && len(voters) > 1 && !maps.Equal(voters, configured):
		return fmt.Errorf("%w: the metadata log in %s has voters %v but controller.quorum.voters names %v; changing the voters is not supported",
			ErrMembershipMismatch, c.cfg.DataDir, nodeIDs(voters), nodeIDs(configured))
	}
	switch {
	case len(c.cfg.Voters) > 1 && single:
		return fmt.Errorf("%w: the metadata log in %s was created by a single-node cluster (this node was its only voter); "+
			"it cannot be upgraded to a member of a multi-node quorum. Start this node with a fresh data dir to join the quorum, "+
			"or without --voters to keep the single-node cluster", ErrMembershipMismatch, c.cfg.DataDir)
	case len(c.cfg.Voters) <= 1 && !single:
		return fmt.Errorf("%w: the metadata log in %s belongs to a quorum of %d voters; start this node with the same --voters (controller.quorum.voters)",
			ErrMembershipMismatch, c.cfg.DataDir, len(voters))
	}
	return nil
}

func nodeIDs(set map[uint64]bool) []int32 {
	var out []int32
	for id := range set {
		out = append(out, NodeID(id))
	}
	slices.Sort(out)
	return out
}

// Voters returns the configured voters' controller listener addresses by
// node id (empty for the single-node cluster, which has no listener).
func (c *Controller) Voters() map[int32]string {
	out := make(map[int32]string, len(c.cfg.Voters))
	for id, addr := range c.cfg.Voters {
		out[id] = addr
	}
	return out
}
