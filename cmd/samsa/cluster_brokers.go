package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// `samsa cluster brokers` (DescribeCluster, falling back to Metadata) and
// `samsa cluster quorum` (DescribeQuorum, as kafka-metadata-quorum.sh
// describe --status --replication shows it).

// clusterBroker is one registered broker.
type clusterBroker struct {
	id     int32
	host   string
	port   int32
	rack   string
	fenced bool
}

func (b clusterBroker) addr() string {
	return net.JoinHostPort(b.host, strconv.Itoa(int(b.port)))
}

// clusterView is the cluster as DescribeCluster (or Metadata) shows it.
type clusterView struct {
	clusterID  string
	controller int32
	brokers    []clusterBroker // by id
	// withFenced is set when the answer includes fenced brokers
	// (DescribeCluster v2+ with IncludeFencedBrokers); Metadata and older
	// DescribeCluster versions list only unfenced brokers.
	withFenced bool
}

func (v clusterView) broker(id int32) (clusterBroker, bool) {
	i := slices.IndexFunc(v.brokers, func(b clusterBroker) bool { return b.id == id })
	if i < 0 {
		return clusterBroker{}, false
	}
	return v.brokers[i], true
}

func (v clusterView) has(id int32) bool {
	_, ok := v.broker(id)
	return ok
}

// idList is "1, 2, 3", for error messages.
func (v clusterView) idList() string {
	if len(v.brokers) == 0 {
		return "none"
	}
	s := make([]string, len(v.brokers))
	for i, b := range v.brokers {
		s[i] = strconv.Itoa(int(b.id))
	}
	return strings.Join(s, ", ")
}

// describeCluster lists the registered brokers, fenced ones included when
// the broker can say (DescribeCluster v2); without DescribeCluster it
// uses Metadata.
func describeCluster(ctx context.Context, cl *kgo.Client, adm *kadm.Client) (clusterView, error) {
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	resp, err := req.RequestWith(ctx, cl)
	if isUnsupported(err) {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return clusterView{}, err
		}
		v := clusterView{clusterID: md.Cluster, controller: md.Controller}
		for _, b := range md.Brokers {
			v.brokers = append(v.brokers, clusterBroker{id: b.NodeID, host: b.Host, port: b.Port, rack: derefString(b.Rack)})
		}
		slices.SortFunc(v.brokers, func(a, b clusterBroker) int { return cmp.Compare(a.id, b.id) })
		return v, nil
	}
	if err != nil {
		return clusterView{}, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return clusterView{}, &kadm.ErrAndMessage{Err: err, ErrMessage: derefString(resp.ErrorMessage)}
	}
	v := clusterView{clusterID: resp.ClusterID, controller: resp.ControllerID, withFenced: resp.Version >= 2}
	for _, b := range resp.Brokers {
		v.brokers = append(v.brokers, clusterBroker{id: b.NodeID, host: b.Host, port: b.Port, rack: derefString(b.Rack), fenced: b.IsFenced})
	}
	slices.SortFunc(v.brokers, func(a, b clusterBroker) int { return cmp.Compare(a.id, b.id) })
	return v, nil
}

func newClusterBrokersCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "brokers",
		Short: "List brokers: id, address, rack, fenced or not, controller role",
		Long: `List the registered brokers: id, host:port, rack, state (active, or fenced:
not heard from within broker.session.timeout.ms, or shut down) and controller
role (the active controller, or a voter of the metadata quorum).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			adm := cf.adminFor(cl)
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			view, err := describeCluster(ctx, cl, adm)
			if err != nil {
				return fmt.Errorf("cannot list brokers: %s", cf.explain(cmd, err))
			}
			// The quorum's voters and leader (the active controller:
			// Kafka 4 names a random broker as Metadata's controller)
			// are shown when the broker answers DescribeQuorum; the
			// listing does not depend on it.
			var voters []int32
			if q, _, err := describeQuorum(ctx, cl); err == nil {
				for _, v := range q.CurrentVoters {
					voters = append(voters, v.ReplicaID)
				}
				if q.LeaderID >= 0 {
					view.controller = q.LeaderID
				}
			}
			return writeBrokers(cmd.OutOrStdout(), view, voters)
		},
	}
}

func writeBrokers(w io.Writer, v clusterView, voters []int32) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tHOST:PORT\tRACK\tSTATE\tCONTROLLER")
	for _, b := range v.brokers {
		state := "active"
		if b.fenced {
			state = "fenced"
		}
		role := "-"
		switch {
		case b.id == v.controller:
			role = "active"
		case slices.Contains(voters, b.id):
			role = "voter"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", b.id, b.addr(), orDash(b.rack), state, role)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !v.has(v.controller) {
		fmt.Fprintf(w, "active controller: %s\n", brokerID(v.controller))
	}
	if !v.withFenced {
		fmt.Fprintln(w, "(the broker does not report fenced brokers: only active ones are listed)")
	}
	return nil
}

// metadataTopicName is the metadata log DescribeQuorum describes.
const metadataTopicName = "__cluster_metadata"

// describeQuorum asks the controller for the metadata quorum's state: the
// __cluster_metadata-0 partition and (v2) the voters' endpoints.
func describeQuorum(ctx context.Context, cl *kgo.Client) (kmsg.DescribeQuorumResponseTopicPartition, []kmsg.DescribeQuorumResponseNode, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = metadataTopicName
	rp := kmsg.NewDescribeQuorumRequestTopicPartition()
	rp.Partition = 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return kmsg.DescribeQuorumResponseTopicPartition{}, nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return kmsg.DescribeQuorumResponseTopicPartition{}, nil, &kadm.ErrAndMessage{Err: err, ErrMessage: derefString(resp.ErrorMessage)}
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if t.Topic != metadataTopicName || p.Partition != 0 {
				continue
			}
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return p, nil, &kadm.ErrAndMessage{Err: err, ErrMessage: derefString(p.ErrorMessage)}
			}
			return p, resp.Nodes, nil
		}
	}
	return kmsg.DescribeQuorumResponseTopicPartition{}, nil, errors.New("the broker did not describe the metadata partition")
}

// quorumEndpoints maps voter ids to their controller listeners
// (DescribeQuorum v2).
func quorumEndpoints(nodes []kmsg.DescribeQuorumResponseNode) map[int32]string {
	out := make(map[int32]string, len(nodes))
	for _, n := range nodes {
		var addrs []string
		for _, l := range n.Listeners {
			addrs = append(addrs, net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port))))
		}
		out[n.NodeID] = strings.Join(addrs, ",")
	}
	return out
}

func newClusterQuorumCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "quorum",
		Short: "Show the metadata quorum: leader, epoch, high watermark, voters, observers and their lag",
		Long: `Show the metadata quorum (DescribeQuorum), as kafka-metadata-quorum.sh
describe --status and --replication do: the leader and its epoch, the high
watermark, and for each voter and observer its log end offset, its lag
behind the leader in records and when it last fetched and was caught up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			p, nodes, err := describeQuorum(ctx, cl)
			if err != nil {
				return fmt.Errorf("cannot describe the quorum: %s", cf.explainAPI(cmd, err, "DescribeQuorum", kmsg.DescribeQuorum))
			}
			return writeQuorum(cmd.OutOrStdout(), p, quorumEndpoints(nodes), time.Now())
		},
	}
}

// writeQuorum prints the quorum's status and then one row per replica,
// as kafka-metadata-quorum.sh does: lag is the leader's log end offset
// minus the replica's; the max lag time is how far the most lagging voter's
// last caught-up time is behind the leader's.
func writeQuorum(w io.Writer, p kmsg.DescribeQuorumResponseTopicPartition, endpoints map[int32]string, now time.Time) error {
	var leader *kmsg.DescribeQuorumResponseTopicPartitionReplicaState
	for i := range p.CurrentVoters {
		if p.CurrentVoters[i].ReplicaID == p.LeaderID {
			leader = &p.CurrentVoters[i]
		}
	}
	lag := func(r kmsg.DescribeQuorumResponseTopicPartitionReplicaState) (int64, bool) {
		if leader == nil || leader.LogEndOffset < 0 || r.LogEndOffset < 0 {
			return 0, false
		}
		return max(leader.LogEndOffset-r.LogEndOffset, 0), true
	}
	maxLag, maxLagTime := "-", "-"
	if leader != nil {
		// The voter with the smallest log end offset.
		var slowest *kmsg.DescribeQuorumResponseTopicPartitionReplicaState
		known := true
		for i := range p.CurrentVoters {
			v := &p.CurrentVoters[i]
			if _, ok := lag(*v); !ok {
				known = false
				break
			}
			if slowest == nil || v.LogEndOffset < slowest.LogEndOffset {
				slowest = v
			}
		}
		if known && slowest != nil {
			l, _ := lag(*slowest)
			maxLag = strconv.FormatInt(l, 10)
			switch {
			case slowest.ReplicaID == leader.ReplicaID || l == 0:
				maxLagTime = "0ms"
			case leader.LastCaughtUpTimestamp >= 0 && slowest.LastCaughtUpTimestamp >= 0:
				maxLagTime = fmt.Sprintf("%dms", max(leader.LastCaughtUpTimestamp-slowest.LastCaughtUpTimestamp, 0))
			case slowest.LastCaughtUpTimestamp >= 0:
				// The leader does not report its own timestamps;
				// it is caught up now.
				maxLagTime = fmt.Sprintf("%dms", max(now.UnixMilli()-slowest.LastCaughtUpTimestamp, 0))
			}
		}
	}
	ids := func(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) string {
		s := make([]int32, len(rs))
		for i, r := range rs {
			s[i] = r.ReplicaID
		}
		slices.Sort(s)
		return int32List(s)
	}

	tw := newTable(w)
	fmt.Fprintf(tw, "LEADER\t%s\n", brokerID(p.LeaderID))
	fmt.Fprintf(tw, "EPOCH\t%d\n", p.LeaderEpoch)
	fmt.Fprintf(tw, "HIGH-WATERMARK\t%d\n", p.HighWatermark)
	fmt.Fprintf(tw, "MAX-FOLLOWER-LAG\t%s\n", maxLag)
	fmt.Fprintf(tw, "MAX-FOLLOWER-LAG-TIME\t%s\n", maxLagTime)
	fmt.Fprintf(tw, "VOTERS\t%s\n", ids(p.CurrentVoters))
	fmt.Fprintf(tw, "OBSERVERS\t%s\n", ids(p.Observers))
	if err := tw.Flush(); err != nil {
		return err
	}

	type row struct {
		r    kmsg.DescribeQuorumResponseTopicPartitionReplicaState
		role string
	}
	var rows []row
	for _, v := range p.CurrentVoters {
		role := "follower"
		if v.ReplicaID == p.LeaderID {
			role = "leader"
		}
		rows = append(rows, row{v, role})
	}
	for _, o := range p.Observers {
		rows = append(rows, row{o, "observer"})
	}
	// Leader first, then voters, then observers, each by id.
	rank := map[string]int{"leader": 0, "follower": 1, "observer": 2}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(rank[a.role], rank[b.role]), cmp.Compare(a.r.ReplicaID, b.r.ReplicaID))
	})
	withEndpoints := len(endpoints) > 0
	fmt.Fprintf(w, "\nREPLICAS\n")
	tw = newTable(w)
	header := "NODE\tROLE\tLOG-END-OFFSET\tLAG\tLAST-FETCH\tLAST-CAUGHT-UP"
	if withEndpoints {
		header += "\tENDPOINT"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		leo, lagText := "-", "-"
		if r.r.LogEndOffset >= 0 {
			leo = strconv.FormatInt(r.r.LogEndOffset, 10)
		}
		if l, ok := lag(r.r); ok {
			lagText = strconv.FormatInt(l, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s", r.r.ReplicaID, r.role, leo, lagText,
			msAgo(r.r.LastFetchTimestamp, now), msAgo(r.r.LastCaughtUpTimestamp, now))
		if withEndpoints {
			fmt.Fprintf(tw, "\t%s", orDash(endpoints[r.r.ReplicaID]))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// msAgo renders a timestamp in milliseconds as "123ms ago", or "-" when
// unknown (-1).
func msAgo(ms int64, now time.Time) string {
	if ms < 0 {
		return "-"
	}
	return fmt.Sprintf("%dms ago", max(now.UnixMilli()-ms, 0))
}
