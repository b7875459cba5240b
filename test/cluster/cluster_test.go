package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Short liveness settings so fencing shows within seconds.
const fastLiveness = "broker.heartbeat.interval.ms=300\nbroker.session.timeout.ms=2500\n"

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func eventually(t *testing.T, what string, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func metadataOf(ctx context.Context, cl *kgo.Client, id int32) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	return resp, err
}

func brokersOf(md *kmsg.MetadataResponse) []int32 {
	var ids []int32
	for _, b := range md.Brokers {
		ids = append(ids, b.NodeID)
	}
	slices.Sort(ids)
	return ids
}

func createTopicVia(ctx context.Context, cl *kgo.Client, id int32, name string, partitions int32) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("%d topics in response", len(resp.Topics))
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

func describeQuorum(ctx context.Context, cl *kgo.Client, id int32) (*kmsg.DescribeQuorumResponseTopicPartition, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{{Partition: 0}}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("malformed response %+v", resp)
	}
	p := &resp.Topics[0].Partitions[0]
	return p, kerr.ErrorForCode(p.ErrorCode)
}

func hasTopics(md *kmsg.MetadataResponse, names ...string) error {
	for _, n := range names {
		found := false
		for _, mt := range md.Topics {
			if mt.Topic != nil && *mt.Topic == n && mt.ErrorCode == 0 {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("topic %s missing", n)
		}
	}
	return nil
}

func TestQuorumFailoverAndFencing(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: fastLiveness})
	cl := c.Client(t)
	ctx := ctxT(t, 3*time.Minute)

	// Every node lists all three brokers.
	all := []int32{1, 2, 3}
	for _, n := range c.Nodes {
		eventually(t, fmt.Sprintf("node %d to list 3 brokers", n.ID), 20*time.Second, func() error {
			md, err := metadataOf(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			if got := brokersOf(md); !slices.Equal(got, all) {
				return fmt.Errorf("brokers %v", got)
			}
			return nil
		})
	}

	// Topics created through any node appear everywhere.
	var topics []string
	for _, n := range c.Nodes {
		name := fmt.Sprintf("via-%d", n.ID)
		if err := createTopicVia(ctx, cl, n.ID, name, 3); err != nil {
			t.Fatalf("create %s through node %d: %v", name, n.ID, err)
		}
		topics = append(topics, name)
	}
	for _, n := range c.Nodes {
		eventually(t, fmt.Sprintf("node %d to see every topic", n.ID), 10*time.Second, func() error {
			md, err := metadataOf(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			return hasTopics(md, topics...)
		})
	}

	// DescribeQuorum: three voters, one leader, all known to the leader.
	var leader int32
	eventually(t, "DescribeQuorum", 10*time.Second, func() error {
		p, err := describeQuorum(ctx, cl, 1)
		if err != nil {
			return err
		}
		leader = p.LeaderID
		lp, err := describeQuorum(ctx, cl, leader)
		if err != nil {
			return err
		}
		if len(lp.CurrentVoters) != 3 || lp.LeaderID != leader || lp.LeaderEpoch <= 0 || lp.HighWatermark <= 0 {
			return fmt.Errorf("quorum %+v", lp)
		}
		for _, v := range lp.CurrentVoters {
			if v.LogEndOffset <= 0 {
				return fmt.Errorf("voter %d has log end %d", v.ReplicaID, v.LogEndOffset)
			}
		}
		return nil
	})
	t.Logf("metadata leader is node %d", leader)

	// kill -9 the metadata leader: the others elect a new one, and topic
	// creation works through each of them.
	killed := c.Node(leader)
	killed.Kill()
	var survivors []*clustertest.ClusterNode
	for _, n := range c.Nodes {
		if n != killed {
			survivors = append(survivors, n)
		}
	}
	eventually(t, "a new metadata leader", 20*time.Second, func() error {
		for _, n := range survivors {
			p, err := describeQuorum(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			if p.LeaderID < 0 || p.LeaderID == leader {
				return fmt.Errorf("node %d sees leader %d", n.ID, p.LeaderID)
			}
		}
		return nil
	})
	for _, n := range survivors {
		name := fmt.Sprintf("after-failover-%d", n.ID)
		eventually(t, "topic creation after failover", 20*time.Second, func() error {
			err := createTopicVia(ctx, cl, n.ID, name, 1)
			if err == kerr.TopicAlreadyExists {
				return nil
			}
			return err
		})
		topics = append(topics, name)
	}

	// The killed node is fenced, then restarts and catches up.
	for _, n := range survivors {
		eventually(t, fmt.Sprintf("node %d to fence the killed node", n.ID), 20*time.Second, func() error {
			md, err := metadataOf(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			if slices.Contains(brokersOf(md), killed.ID) {
				return fmt.Errorf("brokers %v still list %d", brokersOf(md), killed.ID)
			}
			return nil
		})
	}
	killed.Restart(t)
	eventually(t, "the restarted node to catch up", 20*time.Second, func() error {
		md, err := metadataOf(ctx, cl, killed.ID)
		if err != nil {
			return err
		}
		if got := brokersOf(md); !slices.Equal(got, all) {
			return fmt.Errorf("brokers %v", got)
		}
		return hasTopics(md, topics...)
	})

	// A cleanly stopped broker is fenced in Metadata and DescribeCluster of
	// the others after the session timeout, and unfenced after a restart.
	stopped := survivors[0]
	stopped.Stop()
	var others []*clustertest.ClusterNode
	for _, n := range c.Nodes {
		if n != stopped {
			others = append(others, n)
		}
	}
	listed := func(id int32) (inMetadata, inDescribe, fencedFlag bool, err error) {
		md, err := metadataOf(ctx, cl, id)
		if err != nil {
			return
		}
		inMetadata = slices.Contains(brokersOf(md), stopped.ID)
		req := kmsg.NewPtrDescribeClusterRequest()
		resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
		if err != nil {
			return
		}
		for _, b := range resp.Brokers {
			if b.NodeID == stopped.ID {
				inDescribe = true
			}
		}
		req.IncludeFencedBrokers = true
		resp, err = req.RequestWith(ctx, cl.Broker(int(id)))
		if err != nil {
			return
		}
		for _, b := range resp.Brokers {
			if b.NodeID == stopped.ID {
				fencedFlag = b.IsFenced
			}
		}
		return
	}
	for _, n := range others {
		eventually(t, fmt.Sprintf("node %d to fence stopped node %d", n.ID, stopped.ID), 20*time.Second, func() error {
			inMD, inDC, fenced, err := listed(n.ID)
			if err != nil {
				return err
			}
			if inMD || inDC || !fenced {
				return fmt.Errorf("metadata lists it: %v, DescribeCluster lists it: %v, fenced flag: %v", inMD, inDC, fenced)
			}
			return nil
		})
	}
	stopped.Restart(t)
	for _, n := range c.Nodes {
		eventually(t, fmt.Sprintf("node %d to list restarted node %d", n.ID, stopped.ID), 20*time.Second, func() error {
			inMD, inDC, fenced, err := listed(n.ID)
			if err != nil {
				return err
			}
			if !inMD || !inDC || fenced {
				return fmt.Errorf("metadata lists it: %v, DescribeCluster lists it: %v, fenced flag: %v", inMD, inDC, fenced)
			}
			return nil
		})
	}
}

// A 3-partition RF=1 topic has its leaders on different nodes; a client
// produces to and consumes from all of them, following Metadata.
func TestProduceConsumeSpreadLeaders(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{})
	ctx := ctxT(t, 2*time.Minute)
	cl := c.Client(t)
	if err := createTopicVia(ctx, cl, 2, "spread", 3); err != nil {
		t.Fatal(err)
	}
	leaders := map[int32]bool{}
	eventually(t, "every node to see the topic", 10*time.Second, func() error {
		for _, n := range c.Nodes {
			md, err := metadataOf(ctx, cl, n.ID)
			if err != nil {
				return err
			}
			if err := hasTopics(md, "spread"); err != nil {
				return err
			}
			for _, mt := range md.Topics {
				if *mt.Topic == "spread" {
					for _, p := range mt.Partitions {
						leaders[p.Leader] = true
					}
				}
			}
		}
		return nil
	})
	if len(leaders) != 3 {
		t.Fatalf("leaders %v, want 3 distinct", leaders)
	}
	prod := c.Client(t, kgo.DefaultProduceTopic("spread"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	const n = 90
	for i := range n {
		if err := prod.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("v%d", i))).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	cons := c.Client(t, kgo.ConsumeTopics("spread"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	parts := map[int32]int{}
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", len(seen), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)] = true
			parts[r.Partition]++
		})
	}
	if len(parts) != 3 {
		t.Fatalf("records per partition %v", parts)
	}
}

// The single-node cluster answers DescribeQuorum too: one voter, itself.
func TestSingleNodeDescribeQuorum(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	cl := n.Client(t)
	ctx := ctxT(t, 30*time.Second)
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{{Partition: 0}}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.LeaderID != 1 || len(p.CurrentVoters) != 1 || p.CurrentVoters[0].ReplicaID != 1 ||
		p.HighWatermark <= 0 || p.CurrentVoters[0].LogEndOffset < p.HighWatermark {
		t.Fatalf("DescribeQuorum: %+v", p)
	}
	// Another topic is not a quorum.
	req.Topics[0].Topic = "orders"
	resp, err = req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if c := resp.Topics[0].Partitions[0].ErrorCode; c != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("error code %d for a non-quorum topic", c)
	}
}

// A data dir of a single-node cluster is refused as a quorum member, with
// a message saying why.
func TestSingleNodeDataDirRefusedAsMember(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	dir := n.DataDir
	n.Stop()
	out, err := exec.Command(clustertest.Binary(t), "serve", "--data-dir", dir, "--node-id", "1",
		"--listen", "127.0.0.1:0", "--voters", "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3",
		"--controller-listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("serve accepted a single-node data dir as a quorum member:\n%s", out)
	}
	if !strings.Contains(string(out), "single-node cluster") {
		t.Fatalf("unclear refusal:\n%s", out)
	}
}
