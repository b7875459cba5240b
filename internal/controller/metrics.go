package controller

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// RaftMetrics is the raft state as Kafka's raft-metrics report it, read
// without going through the raft loop (for metrics, at scrape time).
type RaftMetrics struct {
	LeaderID int32 // -1 when unknown
	Epoch    uint64
	Vote     int32 // the node voted for in Epoch; -1 for none
	// HighWatermark is the commit index, LogEnd the last index stored.
	HighWatermark, LogEnd uint64
	// Appended counts entries appended while leading, Fetched entries
	// received from the leader while following.
	Appended, Fetched uint64
	// Commits counts this node's proposals that committed, CommitTime
	// their total time from proposal to application.
	Commits    uint64
	CommitTime time.Duration
	// UncleanElections counts leaders this node, as active controller,
	// elected from outside the ISR and ELR (unclean.leader.election.enable).
	UncleanElections uint64
}

// raftStats is updated by the raft loop and proposers.
type raftStats struct {
	vote, commit, lastIndex atomic.Uint64
	appended, fetched       atomic.Uint64
	commits                 atomic.Uint64
	commitNanos             atomic.Int64
	unclean                 atomic.Uint64
}

// noteAppend runs on the raft loop after entries are stored.
func (s *raftStats) noteAppend(c *Controller, entries int) {
	if last, err := c.storage.LastIndex(); err == nil {
		s.lastIndex.Store(last)
	}
	if entries == 0 {
		return
	}
	if c.IsLeader() {
		s.appended.Add(uint64(entries))
	} else {
		s.fetched.Add(uint64(entries))
	}
}

func (s *raftStats) noteCommit(d time.Duration) {
	s.commits.Add(1)
	s.commitNanos.Add(int64(d))
}

// RaftMetrics reads the raft state for metrics.
func (c *Controller) RaftMetrics() RaftMetrics {
	vote := int32(-1)
	if v := c.stats.vote.Load(); v != 0 {
		vote = NodeID(v)
	}
	leader := int32(-1)
	if l := c.leader.Load(); l != 0 {
		leader = NodeID(l)
	}
	return RaftMetrics{
		LeaderID: leader, Epoch: c.term.Load(), Vote: vote,
		HighWatermark: c.stats.commit.Load(), LogEnd: c.stats.lastIndex.Load(),
		Appended: c.stats.appended.Load(), Fetched: c.stats.fetched.Load(),
		Commits: c.stats.commits.Load(), CommitTime: time.Duration(c.stats.commitNanos.Load()),
		UncleanElections: c.stats.unclean.Load(),
	}
}

// uncleanElection reports whether ch makes a leader of a replica that was
// in neither the ISR nor the ELR of the partition in img.
func uncleanElection(img *metadata.Image, ch metadata.ChangePartition) bool {
	if ch.Leader == metadata.NoLeader {
		return false
	}
	t := img.TopicsByID[ch.TopicID]
	if t == nil || ch.Partition < 0 || int(ch.Partition) >= len(t.Partitions) {
		return false
	}
	p := t.Partitions[ch.Partition]
	if p.Leader == ch.Leader {
		return false
	}
	return !slices.Contains(p.ISR, ch.Leader) && !slices.Contains(p.ELR, ch.Leader)
}

// ChannelMetrics is the raft transport's traffic (Kafka's
// raft-channel-metrics): bytes of raft frames in and out, and the raft
// messages sent and received (Samsa's raft is one-way messages, so a
// "request" is a message sent and a "response" one received).
type ChannelMetrics struct {
	IncomingBytes, OutgoingBytes uint64
	Requests, Responses          uint64
}

type channelStats struct{ in, out, sent, received atomic.Uint64 }

// ChannelMetrics reads the transport's counters.
func (t *TCPTransport) ChannelMetrics() ChannelMetrics {
	return ChannelMetrics{
		IncomingBytes: t.stats.in.Load(), OutgoingBytes: t.stats.out.Load(),
		Requests: t.stats.sent.Load(), Responses: t.stats.received.Load(),
	}
}
