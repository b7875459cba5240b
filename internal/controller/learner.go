package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Observers: brokers that are not voters (raft learners).
//
// A node whose id is not among Config.Voters is a learner: it follows the
// metadata log, applies it to its image and proposes records (forwarded
// to the leader like a follower's), but never votes or campaigns. The
// active controller hears from it through its answers to appends and
// heartbeats, which are its broker heartbeats (liveness.go).
//
// Joining. A learner that is not in the raft configuration (a fresh data
// dir) asks a voter to add it: every joinTicks ticks it sends one voter,
// in turn, a MsgProp holding one EntryConfChange, AddLearnerNode of its own
// raft id, whose Context is learnerContextVersion followed by its
// controller listener address (Config.AdvertisedAddr). A follower forwards
// the proposal to the leader, which appends it. When the entry applies,
// every node records the address and hands it to its transport (SetPeer),
// so the leader can send the learner appends and whoever leads later can
// too. Open returns once the leader has reached the learner and it has
// caught up with the entries it had.
//
// Addresses survive restarts: a restarted node re-applies the conf
// changes after its snapshot, and snapshots carry the learners' addresses
// next to the image (snapDataEnvelope). A learner restarted with its data
// dir is already a member and does not ask again, unless the address the
// log has for it differs from its current one, or it hears from no voter
// for rejoinTicks (a leader that could not reach it), when it sends the
// same proposal again: adding a learner twice changes nothing in raft and
// refreshes its address everywhere.
//
// Safety. Proposals received from other nodes are checked before raft
// sees them (checkRemote): a conf change may only add its sender as a
// learner, never touch a voter, and must carry a valid address; malformed
// proposals that would make raft panic are dropped. A committed
// AddLearnerNode naming a voter is cancelled on apply (NodeId zeroed), the
// same way on every node.
const (
	learnerContextVersion = 1
	joinTicks             = electionTicks     // between join requests
	rejoinTicks           = 5 * electionTicks // silence that triggers a rejoin

	// rpcQuorumStatus asks the receiving node for its QuorumStatus (JSON).
	rpcQuorumStatus byte = 1
)

// ErrNotLeader: the operation needs the active controller and it is not
// known or could not be reached.
var ErrNotLeader = errors.New("controller: not the leader")

// memberState is the controller's view of quorum membership beyond the
// configured voters.
type memberState struct {
	learner    bool   // this node is not a voter
	advertised string // this node's controller listener, announced when joining
	since      time.Time
	nextJoin   time.Time
	joinTurn   int
	// addrs holds the controller listener of each learner, from applied
	// conf changes and snapshots. Written by the loop under Controller.mu.
	addrs map[int32]string
	// joins counts join requests sent while not a member.
	joins atomic.Int64
}

// initMembers decides whether this node is a learner and what address it
// announces. It runs in Open before recovery.
func (c *Controller) initMembers() error {
	m := &c.members
	m.addrs = map[int32]string{}
	if len(c.cfg.Voters) == 0 {
		return nil
	}
	if _, ok := c.cfg.Voters[c.cfg.NodeID]; ok {
		return nil
	}
	m.learner = true
	m.advertised = c.cfg.AdvertisedAddr
	if m.advertised == "" {
		if a, ok := c.transport.(advertiser); ok {
			m.advertised = a.AdvertisedAddr()
		}
	}
	if _, _, err := net.SplitHostPort(m.advertised); err != nil {
		return fmt.Errorf("controller: node %d is not a voter, so it joins the quorum as an observer and needs a controller listener address the voters can dial (got %q): %w",
			c.cfg.NodeID, m.advertised, err)
	}
	return nil
}

// IsLearner reports whether this node follows the quorum without voting
// (its node id is not among the configured voters).
func (c *Controller) IsLearner() bool { return c.members.learner }

// Learners returns the controller listener address of every learner
// known to this node, by node id.
func (c *Controller) Learners() map[int32]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.members.addrs)
}

// attachTransport installs the controller's callbacks on transports that
// take them and tells the transport the learners known so far.
func (c *Controller) attachTransport() {
	if rt, ok := c.transport.(interface{ SetReporter(Reporter) }); ok {
		rt.SetReporter(c)
	}
	if rq, ok := c.transport.(requester); ok {
		rq.SetRequestHandler(c.handleRequest)
	}
	if ps, ok := c.transport.(peerSetter); ok {
		for id, addr := range c.Learners() {
			ps.SetPeer(id, addr)
		}
	}
}

// setLearnerAddrs replaces the known learner addresses (a snapshot was
// loaded), keeping those of the learners in cs.
func (c *Controller) setLearnerAddrs(addrs map[int32]string, cs *raftpb.ConfState) {
	keep := map[int32]string{}
	for _, id := range cs.GetLearners() {
		if a, ok := addrs[NodeID(id)]; ok {
			keep[NodeID(id)] = a
		}
	}
	c.mu.Lock()
	c.members.addrs = keep
	c.mu.Unlock()
	if ps, ok := c.transport.(peerSetter); ok {
		for id, a := range keep {
			ps.SetPeer(id, a)
		}
	}
}

// applyConfChange applies one committed conf change (loop goroutine): it
// cancels one that would demote a voter, applies it to raft, and records a
// new learner's address.
func (c *Controller) applyConfChange(idx uint64, cc *raftpb.ConfChange) {
	id := cc.GetNodeId()
	if cc.GetType() == raftpb.ConfChangeType_ConfChangeAddLearnerNode && id != 0 &&
		slices.Contains(c.confState.GetVoters(), id) {
		c.log.Warn("cancelling a conf change that would make a voter a learner", "index", idx, "node", NodeID(id))
		cc = &raftpb.ConfChange{Type: cc.GetType().Enum(), NodeId: new(uint64(0))}
	}
	c.confState = c.rn.ApplyConfChange(cc)
	if cc.GetNodeId() == 0 {
		return
	}
	switch cc.GetType() {
	case raftpb.ConfChangeType_ConfChangeAddLearnerNode:
		addr, err := decodeLearnerContext(cc.GetContext())
		if err != nil {
			c.log.Warn("learner conf change without a usable address", "index", idx, "node", NodeID(id), "err", err)
			return
		}
		c.mu.Lock()
		old, had := c.members.addrs[NodeID(id)]
		c.members.addrs[NodeID(id)] = addr
		c.mu.Unlock()
		if !had || old != addr {
			c.log.Info("observer joined the metadata quorum", "node", NodeID(id), "controller.listener", addr, "index", idx)
		}
		if ps, ok := c.transport.(peerSetter); ok {
			ps.SetPeer(NodeID(id), addr)
		}
	case raftpb.ConfChangeType_ConfChangeRemoveNode:
		c.mu.Lock()
		delete(c.members.addrs, NodeID(id))
		c.mu.Unlock()
	}
}

func encodeLearnerContext(addr string) []byte {
	return append([]byte{learnerContextVersion}, addr...)
}

func decodeLearnerContext(b []byte) (string, error) {
	if len(b) < 2 || b[0] != learnerContextVersion {
		return "", errors.New("unknown learner context")
	}
	addr := string(b[1:])
	if _, _, err := net.SplitHostPort(addr); err != nil || len(addr) > 1024 {
		return "", fmt.Errorf("bad address %q", addr)
	}
	return addr, nil
}

// isVoter reports whether raft id is a voter, configured or in the log.
func (c *Controller) isVoter(id uint64) bool {
	if _, ok := c.cfg.Voters[NodeID(id)]; ok && id != 0 {
		return true
	}
	return slices.Contains(c.confState.GetVoters(), id)
}

// checkRemote vets a message received from another node before raft
// steps it (loop goroutine). Proposals are the messages a node that is
// not yet a member can send, and ones raft would panic on are refused.
func (c *Controller) checkRemote(m *raftpb.Message) error {
	if m.GetType() != raftpb.MessageType_MsgProp {
		return nil
	}
	if m.GetTerm() != 0 {
		return errors.New("proposal carries a term")
	}
	if len(m.GetEntries()) == 0 {
		return errors.New("empty proposal")
	}
	for _, e := range m.GetEntries() {
		switch e.GetType() {
		case raftpb.EntryType_EntryNormal:
		case raftpb.EntryType_EntryConfChange:
			var cc raftpb.ConfChange
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				return fmt.Errorf("undecodable conf change: %w", err)
			}
			switch {
			case cc.GetType() != raftpb.ConfChangeType_ConfChangeAddLearnerNode:
				return fmt.Errorf("conf change %s is not accepted from other nodes", cc.GetType())
			case cc.GetNodeId() != m.GetFrom():
				return fmt.Errorf("node %d asks to add node %d", NodeID(m.GetFrom()), NodeID(cc.GetNodeId()))
			case c.isVoter(cc.GetNodeId()):
				return fmt.Errorf("node %d is a voter and cannot join as an observer (is its controller.quorum.voters different?)", NodeID(cc.GetNodeId()))
			}
			if _, err := decodeLearnerContext(cc.GetContext()); err != nil {
				return fmt.Errorf("learner conf change: %w", err)
			}
		default:
			return fmt.Errorf("entry type %s is not accepted from other nodes", e.GetType())
		}
	}
	return nil
}

// maybeJoin sends a join request when this learner is not (or may no
// longer be reachable as) a member (loop goroutine; see the comment at
// the top of this file).
func (c *Controller) maybeJoin(now time.Time) {
	m := &c.members
	if !m.learner || now.Before(m.nextJoin) {
		return
	}
	if m.since.IsZero() {
		m.since = now
	}
	tick := c.cfg.TickInterval
	member := slices.Contains(c.confState.GetLearners(), c.raftID)
	c.mu.Lock()
	known := m.addrs[c.cfg.NodeID]
	c.mu.Unlock()
	var reason string
	switch {
	case !member:
		reason = "not a member yet"
	case known != m.advertised:
		reason = "its address changed"
	case now.Sub(c.lastHeardVoter(m.since)) > rejoinTicks*tick:
		reason = "no word from the leader"
	default:
		return
	}
	voters := slices.Sorted(maps.Keys(c.cfg.Voters))
	target := voters[m.joinTurn%len(voters)]
	m.joinTurn++
	interval := joinTicks * tick
	if member {
		interval = rejoinTicks * tick
	}
	m.nextJoin = now.Add(interval)
	cc := &raftpb.ConfChange{
		Type:    raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(),
		NodeId:  new(c.raftID),
		Context: encodeLearnerContext(m.advertised),
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		c.log.Error("encode join request", "err", err)
		return
	}
	msg := &raftpb.Message{
		Type:    raftpb.MessageType_MsgProp.Enum(),
		From:    new(c.raftID),
		To:      new(RaftID(target)),
		Entries: []*raftpb.Entry{{Type: raftpb.EntryType_EntryConfChange.Enum(), Data: data}},
	}
	n := m.joins.Load()
	if !member {
		m.joins.Add(1)
	}
	switch {
	case n == 0 || member:
		c.log.Info("asking to join the metadata quorum as an observer", "reason", reason, "via", target, "controller.listener", m.advertised)
	case n%30 == 9:
		c.log.Warn("still not a member of the metadata quorum; the voters must be able to dial this node's controller listener",
			"attempts", n+1, "via", target, "controller.listener", m.advertised)
	default:
		c.log.Debug("asking to join the metadata quorum as an observer", "reason", reason, "via", target, "controller.listener", m.advertised)
	}
	c.transport.Send(c.ctx, []*raftpb.Message{msg})
}

// lastHeardVoter is when a message from any voter last arrived, or since
// if later.
func (c *Controller) lastHeardVoter(since time.Time) time.Time {
	last := since
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.cfg.Voters {
		if t := c.heard[RaftID(id)]; t.After(last) {
			last = t
		}
	}
	return last
}

// refreshSnapshots replaces the snapshot of each MsgSnap in msgs with one
// of the state applied now, as etcd does (loop goroutine). The stored
// snapshot may predate the conf change that added the recipient, and raft
// refuses to restore a snapshot whose ConfState lacks the node itself, so
// a learner added after the last snapshot could not catch up from it.
func (c *Controller) refreshSnapshots(msgs []*raftpb.Message) {
	var fresh *raftpb.Snapshot
	for _, m := range msgs {
		if m.GetType() != raftpb.MessageType_MsgSnap || m.GetSnapshot().GetMetadata().GetIndex() >= c.applied {
			continue
		}
		if fresh == nil {
			var err error
			if fresh, err = c.currentSnapshot(); err != nil {
				c.log.Warn("cannot send a current snapshot; sending the stored one", "err", err)
				return
			}
		}
		m.Snapshot = fresh
	}
}

// currentSnapshot is a snapshot of the applied image and configuration.
func (c *Controller) currentSnapshot() (*raftpb.Snapshot, error) {
	img := c.Image()
	if uint64(img.Offset) != c.applied {
		return nil, fmt.Errorf("image offset %d != applied %d", img.Offset, c.applied)
	}
	term, err := c.storage.Term(c.applied)
	if err != nil {
		return nil, fmt.Errorf("term of %d: %w", c.applied, err)
	}
	imgData, err := metadata.EncodeImage(img)
	if err != nil {
		return nil, err
	}
	data, err := encodeSnapshotData(imgData, c.Learners())
	if err != nil {
		return nil, err
	}
	return &raftpb.Snapshot{
		Data: data,
		Metadata: &raftpb.SnapshotMetadata{
			Index:     new(c.applied),
			Term:      new(term),
			ConfState: proto.Clone(c.confState).(*raftpb.ConfState),
		},
	}, nil
}

// LeaderStatus returns the quorum status as the active controller sees it
// (with every replica's log end offset): this node's own when it leads,
// else the leader's, asked over the transport. It fails with ErrNotLeader
// when no leader is known or the leader cannot be asked.
func (c *Controller) LeaderStatus(ctx context.Context) (QuorumStatus, error) {
	leader := c.LeaderID()
	if leader < 0 {
		return QuorumStatus{}, fmt.Errorf("%w: no metadata leader is known", ErrNotLeader)
	}
	rq, ok := c.transport.(requester)
	if leader == c.cfg.NodeID || !ok {
		st, err := c.Status(ctx)
		if err != nil {
			return st, err
		}
		if st.LeaderID != st.NodeID && ok {
			return st, fmt.Errorf("%w: leadership moved to node %d", ErrNotLeader, st.LeaderID)
		}
		return st, nil
	}
	b, err := rq.Request(ctx, leader, rpcQuorumStatus, nil)
	if err != nil {
		return QuorumStatus{}, fmt.Errorf("%w: asking node %d: %v", ErrNotLeader, leader, err)
	}
	var st QuorumStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return QuorumStatus{}, fmt.Errorf("%w: status from node %d: %v", ErrNotLeader, leader, err)
	}
	if st.LeaderID != st.NodeID || st.NodeID != leader {
		return QuorumStatus{}, fmt.Errorf("%w: node %d is no longer the leader (it names %d)", ErrNotLeader, leader, st.LeaderID)
	}
	return st, nil
}

// handleRequest answers a transport request from another node.
func (c *Controller) handleRequest(ctx context.Context, kind byte, _ []byte) ([]byte, error) {
	switch kind {
	case rpcQuorumStatus:
		st, err := c.Status(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(st)
	}
	return nil, fmt.Errorf("unknown request kind %d", kind)
}
