package controller

import (
	"context"

	"go.etcd.io/raft/v3/raftpb"
)

// Transport carries raft messages between voters. Message To/From fields
// are raft ids: RaftID(nodeID). The receiving side hands each message to
// its Controller.Step.
type Transport interface {
	// Start is called once by Open, before the raft loop runs. From then
	// on the transport hands every message it receives to step (which is
	// Controller.Step) until the controller closes; step returns ErrClosed
	// after that.
	Start(step func(ctx context.Context, m *raftpb.Message) error)
	// Send is called from the raft loop with the messages of one Ready,
	// after the entries they depend on are durable. It must not block on
	// the network: queue, or drop (raft retransmits). The messages and the
	// entries they carry must not be modified. ctx ends when the
	// controller closes.
	Send(ctx context.Context, msgs []*raftpb.Message)
}

// RaftID is the raft id of a node: NodeID+1, since raft reserves 0 and
// Kafka node ids start at 0.
func RaftID(nodeID int32) uint64 { return uint64(nodeID) + 1 }

// NodeID is the inverse of RaftID; raft id 0 (none) is -1.
func NodeID(raftID uint64) int32 { return int32(raftID) - 1 }

// noopTransport serves a single voter, which never sends messages.
type noopTransport struct{}

func (noopTransport) Start(func(context.Context, *raftpb.Message) error) {}
func (noopTransport) Send(context.Context, []*raftpb.Message)            {}
