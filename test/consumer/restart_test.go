package consumer_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestConsumerGroupSurvivesRestart: the KIP-848 records written to
// __consumer_offsets are reloaded, so after a broker restart the group has
// the same epoch, member and assignment, and its member keeps consuming.
func TestConsumerGroupSurvivesRestart(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{Config: brokerConfig})
	const topic, group, parts = "tr", "gr", 3
	ctx := context.Background()
	adm := kadm.NewClient(node.Client(t))
	if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produced := produce(t, node, topic, 0, 300)
	tr := &tracker{consumed: map[tpo]int{}, owned: map[string]map[int32]bool{}}
	startMember(t, node, tr, "m1", group, topic, kgo.RangeBalancer())
	waitFor(t, opTimeout, "m1 to own everything", func() bool { return tr.owns(parts, "m1") })
	waitFor(t, opTimeout, "first records consumed", func() bool { return tr.consumedAll(produced) })

	describe := func() kmsg.ConsumerGroupDescribeResponseGroup {
		t.Helper()
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{group}
		cl := node.Client(t)
		var out kmsg.ConsumerGroupDescribeResponseGroup
		waitFor(t, opTimeout, "ConsumerGroupDescribe", func() bool {
			resp, err := req.RequestWith(ctx, cl)
			if err != nil || len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 {
				return false
			}
			out = resp.Groups[0]
			return true
		})
		return out
	}
	before := describe()
	if before.State != "Stable" || len(before.Members) != 1 || before.AssignorName != "range" {
		t.Fatalf("before restart: %+v", before)
	}

	node.Restart(t)
	after := describe()
	if after.Epoch != before.Epoch || after.AssignmentEpoch != before.AssignmentEpoch ||
		len(after.Members) != 1 || after.Members[0].MemberID != before.Members[0].MemberID ||
		len(after.Members[0].Assignment.TopicPartitions) != 1 || len(after.Members[0].Assignment.TopicPartitions[0].Partitions) != parts {
		t.Fatalf("after restart:\n%+v\nbefore:\n%+v", after, before)
	}
	more := produce(t, node, topic, 300, 300)
	waitFor(t, 2*opTimeout, "records produced after the restart to be consumed", func() bool { return tr.consumedAll(more) })
}
