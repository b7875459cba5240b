package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// quorumV2 sends DescribeQuorum v2 to node id and returns the response
// (with the voters' endpoints) and its one partition.
func quorumV2(ctx context.Context, cl *kgo.Client, id int32) (*kmsg.DescribeQuorumResponse, *kmsg.DescribeQuorumResponseTopicPartition, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{{Partition: 0}}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return nil, nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, nil, fmt.Errorf("malformed response %+v", resp)
	}
	p := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		msg := ""
		if p.ErrorMessage != nil {
			msg = *p.ErrorMessage
		}
		return nil, nil, fmt.Errorf("%w: %s", err, msg)
	}
	return resp, p, nil
}

func replicaIDs(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []int32 {
	var ids []int32
	for _, r := range rs {
		ids = append(ids, r.ReplicaID)
	}
	slices.Sort(ids)
	return ids
}

// checkQuorum checks one DescribeQuorum answer: the leader's view, with
// every voter's and observer's log end known, and the voters' endpoints.
func checkQuorum(c *clustertest.Cluster, resp *kmsg.DescribeQuorumResponse, p *kmsg.DescribeQuorumResponseTopicPartition, voters, observers []int32) error {
	if !slices.Contains(voters, p.LeaderID) || p.LeaderEpoch <= 0 || p.HighWatermark <= 0 {
		return fmt.Errorf("leader %d epoch %d high watermark %d", p.LeaderID, p.LeaderEpoch, p.HighWatermark)
	}
	if got := replicaIDs(p.CurrentVoters); !slices.Equal(got, voters) {
		return fmt.Errorf("voters %v, want %v", got, voters)
	}
	if got := replicaIDs(p.Observers); !slices.Equal(got, observers) {
		return fmt.Errorf("observers %v, want %v", got, observers)
	}
	for _, r := range append(slices.Clone(p.CurrentVoters), p.Observers...) {
		if r.LogEndOffset <= 0 || r.LastFetchTimestamp <= 0 {
			return fmt.Errorf("replica %d: log end %d, last fetch %d (not the leader's view)", r.ReplicaID, r.LogEndOffset, r.LastFetchTimestamp)
		}
	}
	if len(resp.Nodes) != len(voters) {
		return fmt.Errorf("%d nodes with endpoints, want %d", len(resp.Nodes), len(voters))
	}
	for _, n := range resp.Nodes {
		want := c.Node(n.NodeID)
		if want == nil || len(n.Listeners) != 1 {
			return fmt.Errorf("node %d endpoints %+v", n.NodeID, n.Listeners)
		}
		l := n.Listeners[0]
		if got := net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port))); l.Name != "CONTROLLER" || got != want.ControllerAddr {
			return fmt.Errorf("node %d endpoint %s://%s, want CONTROLLER://%s", n.NodeID, l.Name, got, want.ControllerAddr)
		}
	}
	return nil
}

// logCount counts the lines of the log at path that contain s.
func logCount(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// createAssigned creates a topic through broker via with partition i on
// replicas[i] (replication factor 1 each).
func createAssigned(ctx context.Context, cl *kgo.Client, via int32, name string, replicas ...int32) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	for i, r := range replicas {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(i), []int32{r}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(ctx, cl.Broker(int(via)))
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("%d topics in response", len(resp.Topics))
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

// produceConsume produces n records round-robin to topic's partitions and
// reads them all back, checking every partition got some.
func produceConsume(t *testing.T, ctx context.Context, c *clustertest.Cluster, topic, tag string, partitions, n int) {
	t.Helper()
	// Every partition led (after a restart, the leader is elected again).
	eventually(t, topic+" to have a leader for every partition", 30*time.Second, func() error {
		for _, b := range c.Brokers() {
			if !b.Running() {
				continue
			}
			md, err := metadataOf(ctx, c.Client(t), b.ID)
			if err != nil {
				return err
			}
			for _, mt := range md.Topics {
				if mt.Topic == nil || *mt.Topic != topic {
					continue
				}
				if len(mt.Partitions) != partitions {
					return fmt.Errorf("broker %d: %d partitions", b.ID, len(mt.Partitions))
				}
				for _, p := range mt.Partitions {
					if p.ErrorCode != 0 || p.Leader < 0 {
						return fmt.Errorf("broker %d: partition %d leader %d error %d", b.ID, p.Partition, p.Leader, p.ErrorCode)
					}
				}
			}
		}
		return nil
	})
	prod := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for i := range n {
		var err error
		eventually(t, "a produce", 20*time.Second, func() error {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err = prod.ProduceSync(pctx, kgo.StringRecord(fmt.Sprintf("%s-%s-%d", topic, tag, i))).FirstErr()
			return err
		})
	}
	cons := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	parts := map[int32]bool{}
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("%s: consumed %d of %d: %v", topic, len(seen), n, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if strings.HasPrefix(string(r.Value), topic+"-"+tag+"-") {
				seen[string(r.Value)] = true
				parts[r.Partition] = true
			}
		})
	}
	if len(parts) != partitions {
		t.Fatalf("%s: records came from partitions %v, want %d", topic, parts, partitions)
	}
}

// Three controller-only voters and two broker-only nodes (raft learners):
// the brokers register and are listed, a topic created through one of
// them with a partition on each is produced to and consumed, DescribeQuorum
// answers the leader's view (observers included) on both brokers, a broker
// restarted with its data dir rejoins, the controllers serve no Kafka
// clients, and losing the active controller leaves the brokers working.
func TestControllerOnlyVotersAndBrokerOnlyNodes(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{ControllerOnly: true, Brokers: 2, Config: fastLiveness})
	// Brokers stop first, while the quorum can still take their
	// controlled shutdown (cleanups run last-registered first).
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, b := range c.Brokers() {
			if b.Running() {
				wg.Go(b.Stop)
			}
		}
		wg.Wait()
	})
	ctx := ctxT(t, 4*time.Minute)
	cl := c.Client(t)
	brokers := []int32{4, 5}
	voters := []int32{1, 2, 3}

	// Controller-only nodes have no Kafka listener.
	for _, id := range voters {
		conn, err := net.DialTimeout("tcp", c.Node(id).Addr, time.Second)
		if err == nil {
			conn.Close()
			t.Fatalf("controller-only node %d accepts Kafka connections on %s", id, c.Node(id).Addr)
		}
	}

	listed := func(via int32, want []int32) error {
		md, err := metadataOf(ctx, cl, via)
		if err != nil {
			return err
		}
		if got := brokersOf(md); !slices.Equal(got, want) {
			return fmt.Errorf("metadata brokers %v", got)
		}
		dc := kmsg.NewPtrDescribeClusterRequest()
		resp, err := dc.RequestWith(ctx, cl.Broker(int(via)))
		if err != nil {
			return err
		}
		var ids []int32
		for _, b := range resp.Brokers {
			ids = append(ids, b.NodeID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			return fmt.Errorf("DescribeCluster brokers %v", ids)
		}
		return nil
	}
	for _, id := range brokers {
		eventually(t, fmt.Sprintf("broker %d to list both brokers", id), 20*time.Second, func() error { return listed(id, brokers) })
	}

	// A topic created through a broker-only node, one partition on each.
	if err := createAssigned(ctx, cl, 4, "learners", 4, 5); err != nil {
		t.Fatalf("create topic through broker 4: %v", err)
	}
	for _, id := range brokers {
		eventually(t, fmt.Sprintf("broker %d to see the topic", id), 10*time.Second, func() error {
			md, err := metadataOf(ctx, cl, id)
			if err != nil {
				return err
			}
			return hasTopics(md, "learners")
		})
	}
	produceConsume(t, ctx, c, "learners", "first", 2, 40)

	// DescribeQuorum is the leader's view on every broker.
	var leader int32
	for _, id := range brokers {
		eventually(t, fmt.Sprintf("DescribeQuorum through broker %d", id), 20*time.Second, func() error {
			resp, p, err := quorumV2(ctx, cl, id)
			if err != nil {
				return err
			}
			if err := checkQuorum(c, resp, p, voters, brokers); err != nil {
				return err
			}
			if leader != 0 && p.LeaderID != leader {
				return fmt.Errorf("leader %d, another broker said %d", p.LeaderID, leader)
			}
			leader = p.LeaderID
			return nil
		})
	}
	t.Logf("active controller: node %d", leader)

	// A broker-only node restarts with its data dir and rejoins.
	b5 := c.Node(5)
	b5.Restart(t)
	eventually(t, "the restarted broker to be listed", 20*time.Second, func() error { return listed(5, brokers) })
	eventually(t, "broker 4 to list the restarted broker", 20*time.Second, func() error { return listed(4, brokers) })
	if n := logCount(t, b5.LogPath, "asking to join the metadata quorum"); n != 1 {
		t.Errorf("broker 5 logged %d join requests across its two runs, want 1 (the first run's)", n)
	}
	produceConsume(t, ctx, c, "learners", "after-restart", 2, 20)

	// The active controller dies: the other voters elect a new one, and
	// the brokers keep serving, creating topics included.
	c.Node(leader).Kill()
	var newLeader int32
	eventually(t, "a new active controller", 30*time.Second, func() error {
		for _, id := range brokers {
			p, err := clustertest.DescribeQuorum(ctx, cl, id)
			if err != nil {
				return fmt.Errorf("broker %d: %w", id, err)
			}
			if p.LeaderID == leader || !slices.Contains(voters, p.LeaderID) {
				return fmt.Errorf("broker %d names leader %d", id, p.LeaderID)
			}
			newLeader = p.LeaderID
		}
		return nil
	})
	t.Logf("new active controller: node %d", newLeader)
	for _, id := range brokers {
		name := fmt.Sprintf("after-failover-%d", id)
		eventually(t, "topic creation after failover", 30*time.Second, func() error {
			err := createAssigned(ctx, cl, id, name, 4, 5)
			if errors.Is(err, kerr.TopicAlreadyExists) {
				return nil
			}
			return err
		})
		produceConsume(t, ctx, c, name, "x", 2, 10)
	}
	// Both brokers stay unfenced under the new controller.
	time.Sleep(3 * time.Second) // more than broker.session.timeout.ms
	for _, id := range brokers {
		if err := listed(id, brokers); err != nil {
			t.Fatalf("after failover, broker %d: %v", id, err)
		}
	}
	c.Node(leader).Restart(t)
}

// In combined mode every node answers DescribeQuorum with the active
// controller's view: one leader and epoch, every voter's log end, and the
// voters' CONTROLLER endpoints.
func TestDescribeQuorumFromEveryNode(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{})
	ctx := ctxT(t, time.Minute)
	cl := c.Client(t)
	voters := []int32{1, 2, 3}
	eventually(t, "consistent DescribeQuorum answers", 20*time.Second, func() error {
		var leader, epoch int32 = -1, -1
		for _, n := range c.Nodes {
			resp, p, err := quorumV2(ctx, cl, n.ID)
			if err != nil {
				return fmt.Errorf("node %d: %w", n.ID, err)
			}
			if err := checkQuorum(c, resp, p, voters, nil); err != nil {
				return fmt.Errorf("node %d: %w", n.ID, err)
			}
			if leader >= 0 && (p.LeaderID != leader || p.LeaderEpoch != epoch) {
				return fmt.Errorf("node %d: leader %d epoch %d, another node said %d epoch %d", n.ID, p.LeaderID, p.LeaderEpoch, leader, epoch)
			}
			leader, epoch = p.LeaderID, p.LeaderEpoch
		}
		return nil
	})
	// Older versions are answered the same way (no endpoints).
	for _, n := range c.Nodes {
		p, err := describeQuorum(ctx, cl, n.ID)
		if err != nil || len(p.CurrentVoters) != 3 {
			t.Fatalf("node %d, DescribeQuorum v0: %+v %v", n.ID, p, err)
		}
	}
}
