package group_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const topicPartitions = 6

// TestGroupChurn runs three members that join, leave and crash, with a
// broker restart (SIGTERM, then kill -9) in the middle, and checks
// at-least-once consumption, monotonic commits, end offsets committed at
// the end, and that a new member resumes where the group left off.
func TestGroupChurn(t *testing.T) {
	for _, bc := range []struct {
		name     string
		balancer func() kgo.GroupBalancer
	}{
		{"range", kgo.RangeBalancer},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer},
	} {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			node := startNode(t)
			topic, group := "churn-"+bc.name, "churn-group-"+bc.name
			createTopic(t, node, topic, topicPartitions)
			tr := newTracker()
			opts := memberOpts{balancer: bc.balancer(), session: 3 * time.Second}
			var want []tpo
			want = append(want, produce(t, node, topic, 0, 600)...)
			w := watchCommits(t, node, group, topic)

			m1 := startMember(t, node, tr, "m1", group, topic, opts)
			m2 := startMember(t, node, tr, "m2", group, topic, opts)
			m3 := startMember(t, node, tr, "m3", group, topic, opts)
			waitFor(t, opTimeout, "three balanced members", func() bool { return tr.balanced(topicPartitions, "m1", "m2", "m3") })
			want = append(want, produce(t, node, topic, 600, 300)...)

			m2.stop(false) // leaves
			waitFor(t, opTimeout, "balance after m2 left", func() bool { return tr.balanced(topicPartitions, "m1", "m3") })
			want = append(want, produce(t, node, topic, 900, 300)...)

			m3.stop(true) // crashes
			tr.forget("m3")
			m4 := startMember(t, node, tr, "m4", group, topic, opts)
			waitFor(t, opTimeout, "balance after m3 crashed and m4 joined", func() bool { return tr.balanced(topicPartitions, "m1", "m4") })
			want = append(want, produce(t, node, topic, 1200, 300)...)

			// Broker restart, clean.
			waitFor(t, opTimeout, "records consumed before the restart", func() bool { return tr.allConsumed(want) })
			node.Restart(t)
			want = append(want, produce(t, node, topic, 1500, 300)...)
			waitFor(t, 2*opTimeout, "records consumed after the SIGTERM restart", func() bool { return tr.allConsumed(want) })

			// Broker crash: the commits made before it survive.
			before9 := committed(t, node, group, topic)
			node.Kill()
			node.Restart(t)
			after9 := committed(t, node, group, topic)
			for p, o := range before9 {
				if after9[p] < o {
					t.Errorf("partition %d: committed %d before kill -9, %d after", p, o, after9[p])
				}
			}
			want = append(want, produce(t, node, topic, 1800, 300)...)
			waitFor(t, 2*opTimeout, "records consumed after the kill -9 restart", func() bool { return tr.allConsumed(want) })

			m1.stop(false)
			m4.stop(false)
			checkCommittedAtEnd(t, node, group, topic)
			w.finish()
			w.check(t)

			// A new member resumes from the commits: it sees only new
			// records.
			before := len(want)
			tr2 := newTracker()
			m5 := startMember(t, node, tr2, "m5", group, topic, opts)
			waitFor(t, opTimeout, "m5 owns everything", func() bool { return tr2.balanced(topicPartitions, "m5") })
			fresh := produce(t, node, topic, 2100, 60)
			waitFor(t, opTimeout, "m5 consumed the new records", func() bool { return tr2.allConsumed(fresh) })
			m5.stop(false)
			tr2.mu.Lock()
			old := 0
			for _, p := range want[:before] {
				if tr2.consumed[p] > 0 {
					old++
				}
			}
			tr2.mu.Unlock()
			if old > 0 {
				t.Errorf("the new member re-consumed %d records committed before it joined", old)
			}
			checkCommittedAtEnd(t, node, group, topic)
		})
	}
}

// TestDescribeAndListGroups checks the admin views while members are live
// and after they leave.
func TestDescribeAndListGroups(t *testing.T) {
	t.Parallel()
	node := startNode(t)
	topic, group := "admin-topic", "admin-group"
	createTopic(t, node, topic, 4)
	tr := newTracker()
	opts := memberOpts{balancer: kgo.CooperativeStickyBalancer(), session: 6 * time.Second}
	m1 := startMember(t, node, tr, "m1", group, topic, opts)
	m2 := startMember(t, node, tr, "m2", group, topic, opts)
	waitFor(t, opTimeout, "two balanced members", func() bool { return tr.balanced(4, "m1", "m2") })
	adm := kadm.NewClient(node.Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	waitFor(t, opTimeout, "a stable description", func() bool {
		ds, err := adm.DescribeGroups(ctx, group)
		return err == nil && ds[group].State == "Stable"
	})
	ds, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[group]
	if d.Err != nil || d.ProtocolType != "consumer" || d.Protocol != "cooperative-sticky" || len(d.Members) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	assigned := 0
	for _, m := range d.Members {
		ca, ok := m.Assigned.AsConsumer()
		if !ok {
			t.Fatalf("member %s: assignment is not a consumer assignment", m.MemberID)
		}
		for _, tp := range ca.Topics {
			assigned += len(tp.Partitions)
		}
		if md, ok := m.Join.AsConsumer(); !ok || len(md.Topics) != 1 || md.Topics[0] != topic {
			t.Fatalf("member %s: subscription %+v", m.MemberID, m.Join)
		}
	}
	if assigned != 4 {
		t.Fatalf("described assignments cover %d partitions, want 4", assigned)
	}
	ls, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lg, ok := ls[group]
	if !ok || lg.State != "Stable" || lg.ProtocolType != "consumer" {
		t.Fatalf("list: %+v", ls)
	}
	if ls, err := adm.ListGroups(ctx, "Empty"); err != nil || len(ls) != 0 {
		t.Fatalf("list with the Empty filter while stable: %v %+v", err, ls)
	}

	m1.stop(false)
	m2.stop(false)
	ds, err = adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[group]; d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("describe after leave: %+v", d)
	}
	ls, err = adm.ListGroups(ctx, "Empty")
	if err != nil || ls[group].State != "Empty" {
		t.Fatalf("list after leave: %v %+v", err, ls)
	}
	// Deleting the empty group removes its offsets.
	if _, err := adm.DeleteGroup(ctx, group); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil || len(offs) != 0 {
		t.Fatalf("offsets after delete: %v %+v", err, offs)
	}
}

// TestOffsetsTopicRecords reads __consumer_offsets with a plain consumer and
// decodes it with Kafka's schemas, as Burrow and kminion do.
func TestOffsetsTopicRecords(t *testing.T) {
	t.Parallel()
	node := startNode(t)
	topic, group := "records-topic", "records-group"
	createTopic(t, node, topic, 2)
	produce(t, node, topic, 0, 20)
	tr := newTracker()
	m := startMember(t, node, tr, "m1", group, topic, memberOpts{session: 6 * time.Second})
	waitFor(t, opTimeout, "consumption", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.consumed) == 20
	})
	m.stop(false)

	cl := node.Client(t, kgo.ConsumeTopics("__consumer_offsets"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var commits, metas, members int
	offsets := map[int32]int64{}
	deadline := time.Now().Add(opTimeout)
	for (commits == 0 || metas == 0 || offsets[0]+offsets[1] < 20) && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			switch version := int16(r.Key[0])<<8 | int16(r.Key[1]); version {
			case 0, 1:
				var k kmsg.OffsetCommitKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("offset commit key: %v", err)
				}
				if k.Version != 1 || r.Value == nil {
					return
				}
				var v kmsg.OffsetCommitValue
				if err := v.ReadFrom(r.Value); err != nil || v.Version != 3 {
					t.Fatalf("offset commit value v%d: %v", v.Version, err)
				}
				if k.Group == group && k.Topic == topic {
					commits++
					offsets[k.Partition] = v.Offset
				}
			case 2:
				var k kmsg.GroupMetadataKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatalf("group metadata key: %v", err)
				}
				if r.Value == nil || k.Group != group {
					return
				}
				var v kmsg.GroupMetadataValue
				if err := v.ReadFrom(r.Value); err != nil || v.Version != 3 {
					t.Fatalf("group metadata value v%d: %v", v.Version, err)
				}
				metas++
				if len(v.Members) > 0 {
					members++
					if v.ProtocolType != "consumer" || v.Protocol == nil || v.Members[0].SessionTimeoutMillis != 6000 {
						t.Fatalf("group metadata: %+v", v)
					}
					var a kmsg.ConsumerMemberAssignment
					if err := a.ReadFrom(v.Members[0].Assignment); err != nil {
						t.Fatalf("member assignment: %v", err)
					}
				}
			default:
				t.Fatalf("unexpected key version %d", version)
			}
		})
	}
	if commits == 0 || metas == 0 || members == 0 || offsets[0]+offsets[1] != 20 {
		t.Fatalf("decoded %d commits, %d group records (%d with members), offsets %v", commits, metas, members, offsets)
	}
	t.Logf("decoded %d offset commits and %d group metadata records", commits, metas)
}

// TestRebalanceTimings measures how long a 3-member group takes to settle
// after a join, a leave, and a member crash with a 10 s session timeout.
func TestRebalanceTimings(t *testing.T) {
	t.Parallel()
	for _, bc := range []struct {
		name     string
		balancer func() kgo.GroupBalancer
	}{
		{"range", kgo.RangeBalancer},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer},
	} {
		t.Run(bc.name, func(t *testing.T) {
			node := startNode(t)
			topic, group := "timing-"+bc.name, "timing-group-"+bc.name
			createTopic(t, node, topic, topicPartitions)
			tr := newTracker()
			opts := memberOpts{balancer: bc.balancer(), session: 10 * time.Second,
				extra: []kgo.Opt{kgo.HeartbeatInterval(time.Second)}}
			startMember(t, node, tr, "m1", group, topic, opts)
			m2 := startMember(t, node, tr, "m2", group, topic, opts)
			waitFor(t, opTimeout, "two members", func() bool { return tr.balanced(topicPartitions, "m1", "m2") })

			start := time.Now()
			m3 := startMember(t, node, tr, "m3", group, topic, opts)
			waitFor(t, opTimeout, "join", func() bool { return tr.balanced(topicPartitions, "m1", "m2", "m3") })
			join := time.Since(start)

			start = time.Now()
			m3.stop(false)
			waitFor(t, opTimeout, "leave", func() bool { return tr.balanced(topicPartitions, "m1", "m2") })
			leave := time.Since(start)

			m3 = startMember(t, node, tr, "m3b", group, topic, opts)
			waitFor(t, opTimeout, "rejoin", func() bool { return tr.balanced(topicPartitions, "m1", "m2", "m3b") })
			start = time.Now()
			m2.stop(true)
			tr.forget("m2")
			waitFor(t, opTimeout, "crash", func() bool { return tr.balanced(topicPartitions, "m1", "m3b") })
			crash := time.Since(start)
			_ = m3
			t.Logf("rebalance times (%s, 3 members, %d partitions, session 10s, heartbeat 1s): join %v, leave %v, crash %v",
				bc.name, topicPartitions, join.Round(time.Millisecond), leave.Round(time.Millisecond), crash.Round(time.Millisecond))
			if crash < 9*time.Second {
				t.Errorf("a crash was noticed after %v, before the 10 s session timeout", crash)
			}
		})
	}
}

// committed fetches the group's committed offsets of topic.
func committed(t *testing.T, node *clustertest.Node, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	offs, err := kadm.NewClient(node.Client(t)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := make(map[int32]int64)
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	if len(out) == 0 {
		t.Fatalf("group %s has no commits for %s", group, topic)
	}
	return out
}
