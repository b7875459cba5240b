package consumer_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRollingUpgrade: two classic members consume; one at a time they are
// restarted with the KIP-848 protocol. The first restart converts the
// group into a consumer group in which the remaining classic member keeps
// consuming (served by JoinGroup/SyncGroup/Heartbeat inside the consumer
// group); every record is consumed, commits never go backwards.
func TestRollingUpgrade(t *testing.T) { rolling(t, true) }

// TestRollingDowngrade is the reverse: two KIP-848 members are restarted
// one at a time as classic members; when the last KIP-848 member leaves,
// the group becomes a classic group again.
func TestRollingDowngrade(t *testing.T) { rolling(t, false) }

func rolling(t *testing.T, upgrade bool) {
	node := clustertest.Start(t, clustertest.Options{Config: brokerConfig})
	const topic, group, parts = "tmig", "gmig", 6
	adm := kadm.NewClient(node.Client(t))
	ctx := context.Background() // each wait below has its own bound
	if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	groupType := func() string {
		l, err := adm.ListGroups(ctx)
		if err != nil {
			return "error: " + err.Error()
		}
		return l[group].GroupType
	}
	oldClassic, newClassic := upgrade, !upgrade
	oldType, newType := "consumer", "classic"
	if upgrade {
		oldType, newType = "classic", "consumer"
	}

	produced := produce(t, node, topic, 0, 2000)
	stopWatch := watchCommits(t, adm, group)
	tr := &tracker{consumed: map[tpo]int{}, owned: map[string]map[int32]bool{}}
	m1 := startMemberWith(t, node, tr, "m1", group, topic, oldClassic, kgo.CooperativeStickyBalancer())
	m2 := startMemberWith(t, node, tr, "m2", group, topic, oldClassic, kgo.CooperativeStickyBalancer())
	waitFor(t, opTimeout, "m1 and m2 to share the partitions", func() bool { return tr.owns(parts, "m1", "m2") })
	if got := groupType(); got != oldType {
		t.Fatalf("group type %q at the start, want %q", got, oldType)
	}
	produced = append(produced, produce(t, node, topic, 2000, 1000)...)

	// First restart: a mixed group, of type "consumer" either way.
	m1.stop(false)
	m3 := startMemberWith(t, node, tr, "m3", group, topic, newClassic, kgo.CooperativeStickyBalancer())
	waitFor(t, 2*opTimeout, "m2 and m3 to share the partitions", func() bool { return tr.owns(parts, "m2", "m3") })
	if got := groupType(); got != "consumer" {
		t.Fatalf("group type %q with one member of each protocol", got)
	}
	produced = append(produced, produce(t, node, topic, 3000, 1000)...)

	// Second restart: all members use the new protocol.
	m2.stop(false)
	m4 := startMemberWith(t, node, tr, "m4", group, topic, newClassic, kgo.CooperativeStickyBalancer())
	waitFor(t, 2*opTimeout, "m3 and m4 to share the partitions", func() bool { return tr.owns(parts, "m3", "m4") })
	waitFor(t, opTimeout, "the group type to be "+newType, func() bool { return groupType() == newType })
	produced = append(produced, produce(t, node, topic, 4000, 1000)...)
	waitFor(t, opTimeout, "every record to be consumed", func() bool { return tr.consumedAll(produced) })

	m3.stop(false)
	m4.stop(false)
	stopWatch()

	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(topic, e.Partition)
		if !ok || o.At != e.Offset {
			t.Errorf("partition %d: committed %v (found %v), end %d", e.Partition, o.At, ok, e.Offset)
		}
	})
	if got := groupType(); got != newType {
		t.Errorf("group type %q at the end, want %q", got, newType)
	}
}
