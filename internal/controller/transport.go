package controller

import (
	"context"

	"go.etcd.io/raft/v3/raftpb"
)

// Transport carries raft messages between quorum members (voters and
// learners, learner.go). Message To/From fields
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

// Optional Transport capabilities, found by type assertion (TCPTransport
// has them all).
type (
	// peerSetter is a transport that learns members at run time: the
	// controller tells it a learner's address when the learner's conf
	// change applies or a snapshot naming it is loaded.
	peerSetter interface {
		SetPeer(nodeID int32, addr string)
	}
	// requester is a transport that also carries request/response calls
	// between nodes: a non-leader asks the leader for its quorum status.
	requester interface {
		// Request sends one request of the given kind to nodeID and
		// returns its response.
		Request(ctx context.Context, nodeID int32, kind byte, req []byte) ([]byte, error)
		// SetRequestHandler installs the function that answers requests
		// received from other nodes.
		SetRequestHandler(h RequestHandler)
	}
	// advertiser is a transport that knows the address other nodes dial
	// to reach this one.
	advertiser interface {
		AdvertisedAddr() string
	}
)

// RequestHandler answers one request received by a transport. An error is
// returned to the caller as a message.
type RequestHandler func(ctx context.Context, kind byte, req []byte) ([]byte, error)
