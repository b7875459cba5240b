package broker

import (
	"context"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/controller"
)

func init() { register(int16(kmsg.DescribeQuorum), 0, 2, handleDescribeQuorum) }

// metadataTopic is the name Kafka gives the metadata log.
const clusterMetadataTopic = "__cluster_metadata"

// handleDescribeQuorum answers from this node's raft state: the leader and
// its epoch (the raft term), the high watermark (the commit index) and the
// voters and observers (raft learners). The raft leader knows every
// replica's log end offset; another node reports its own and -1 for the
// rest. Admin clients send it to the controller Metadata names, which is
// the raft leader.
func handleDescribeQuorum(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeQuorumRequest)
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	st, err := b.ctl.Status(ctx)
	for _, rt := range req.Topics {
		t := kmsg.NewDescribeQuorumResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewDescribeQuorumResponseTopicPartition()
			p.Partition = rp.Partition
			switch {
			case rt.Topic != clusterMetadataTopic || rp.Partition != 0:
				p.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case err != nil:
				p.ErrorCode = kerr.NotLeaderForPartition.Code
				p.ErrorMessage = errMessage(err)
			default:
				fillQuorumPartition(&p, st)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if req.Version >= 2 {
		for _, v := range st.Voters {
			n := kmsg.NewDescribeQuorumResponseNode()
			n.NodeID = v.NodeID
			if addr, ok := b.ctl.Voters()[v.NodeID]; ok {
				host, ps, _ := net.SplitHostPort(addr)
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
