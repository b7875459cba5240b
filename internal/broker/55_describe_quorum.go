package broker

import (
	"context"
	"maps"
	"net"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/controller"
)

// DescribeQuorum, versions 0-2.
//
// Version notes:
//   - v0: flexible versions (KIP-595)
//   - v1: LastFetchTimestamp and LastCaughtUpTimestamp per replica (KIP-836)
//   - v2: Nodes with their listeners, ErrorMessage and ReplicaDirectoryID
//     (KIP-853); Nodes is filled from v2
func init() { register(int16(kmsg.DescribeQuorum), 0, 2, (*Broker).handleDescribeQuorum) }

// metadataTopic is the name Kafka gives the metadata log.
const clusterMetadataTopic = "__cluster_metadata"

// handleDescribeQuorum answers with the active controller's view of the
// metadata quorum wherever it is asked, as a Kafka broker does by
// forwarding the request to the active controller: the leader and its
// epoch (the raft term), the high watermark (the commit index), every
// voter's and observer's (raft learner's) log end offset and last contact,
// and (v2) the voters' CONTROLLER endpoints. A node that is not the leader
// asks the leader over the controller listener (controller.LeaderStatus);
// when no leader is known or it cannot be reached the partition carries
// NOT_LEADER_OR_FOLLOWER, which clients retry.
func (b *Broker) handleDescribeQuorum(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeQuorumRequest)
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	if !c.canCluster(acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	var (
		st      controller.QuorumStatus
		stErr   error
		fetched bool
	)
	status := func() (controller.QuorumStatus, error) {
		if !fetched {
			st, stErr = b.ctl.LeaderStatus(ctx)
			fetched = true
		}
		return st, stErr
	}
	for _, rt := range req.Topics {
		t := kmsg.NewDescribeQuorumResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewDescribeQuorumResponseTopicPartition()
			p.Partition = rp.Partition
			if rt.Topic != clusterMetadataTopic || rp.Partition != 0 {
				p.ErrorCode = kerr.UnknownTopicOrPartition.Code
				t.Partitions = append(t.Partitions, p)
				continue
			}
			if st, err := status(); err != nil {
				p.ErrorCode = kerr.NotLeaderForPartition.Code
				p.ErrorMessage = errMessage(err)
				p.LeaderID, p.LeaderEpoch = b.ctl.LeaderID(), -1
			} else {
				fillQuorumPartition(&p, st)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if req.Version >= 2 {
		voters := b.ctl.Voters()
		ids := slices.Sorted(maps.Keys(voters))
		if len(ids) == 0 { // the single-node cluster: its one voter, no listener
			ids = []int32{b.cfg.NodeID}
		}
		for _, id := range ids {
			n := kmsg.NewDescribeQuorumResponseNode()
			n.NodeID = id
			if host, ps, err := net.SplitHostPort(voters[id]); err == nil {
				port, _ := strconv.Atoi(ps)
				l := kmsg.NewDescribeQuorumResponseNodeListener()
				l.Name, l.Host, l.Port = "CONTROLLER", host, uint16(port)
				n.Listeners = append(n.Listeners, l)
			}
			resp.Nodes = append(resp.Nodes, n)
		}
	}
	return resp, nil
}

func fillQuorumPartition(p *kmsg.DescribeQuorumResponseTopicPartition, st controller.QuorumStatus) {
	p.LeaderID = st.LeaderID
	p.LeaderEpoch = int32(st.Term)
	p.HighWatermark = int64(st.Commit)
	replica := func(rs controller.ReplicaStatus) kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
		s := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		s.ReplicaID = rs.NodeID
		s.LogEndOffset = rs.LogEndOffset
		if !rs.LastContact.IsZero() {
			s.LastFetchTimestamp = rs.LastContact.UnixMilli()
			if rs.LogEndOffset >= int64(st.Commit) {
				s.LastCaughtUpTimestamp = s.LastFetchTimestamp
			}
		}
		return s
	}
	for _, v := range st.Voters {
		p.CurrentVoters = append(p.CurrentVoters, replica(v))
	}
	p.Observers = []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{}
	for _, o := range st.Observers {
		p.Observers = append(p.Observers, replica(o))
	}
}
