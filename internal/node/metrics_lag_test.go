package node

import (
	"context"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// series sums the values of name's series whose labels include want.
func series(t *testing.T, n *Node, name string, want map[string]string) (sum float64, count int) {
	t.Helper()
	mfs, err := n.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if hasLabels(m, want) {
				sum += m.GetGauge().GetValue() + m.GetUntyped().GetValue()
				count++
			}
		}
	}
	return sum, count
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	match := 0
	for _, lp := range m.Label {
		if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
			match++
		}
	}
	return match == len(want)
}

// TestLagMetrics: produce N records to a 4-partition topic, commit half of
// each partition in a group, and scrape: kafka_consumergroup_lag sums to
// N/2, the topic's partition offsets add up to N; with the consumer
// stopped samsa_consumergroup_lag_seconds grows by about the time waited;
// after committing the rest lag and lag_seconds are 0.
func TestLagMetrics(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.AdminListen = "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	boot := []string{n.Addr()}
	const topic, grp, parts, N = "lagged", "lag-group", 4, 200
	createTopic(t, boot, topic, parts, 1)
	produce(t, boot, topic, "r", N)

	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(frac func(end int64) int64) {
		t.Helper()
		offs := kadm.Offsets{}
		ends.Each(func(o kadm.ListedOffset) { offs.AddOffset(o.Topic, o.Partition, frac(o.Offset), -1) })
		resp, err := adm.CommitOffsets(ctx, grp, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	commit(func(end int64) int64 { return end / 2 })
	var wantLag int64
	ends.Each(func(o kadm.ListedOffset) { wantLag += o.Offset - o.Offset/2 })

	g := map[string]string{"consumergroup": grp, "topic": topic}
	if lag, c := series(t, n, "kafka_consumergroup_lag", g); int64(lag) != wantLag || c != parts {
		t.Fatalf("kafka_consumergroup_lag sums to %v over %d series, want %d over %d", lag, c, wantLag, parts)
	}
	if lag, _ := series(t, n, "kafka_consumergroup_lag_sum", g); int64(lag) != wantLag {
		t.Fatalf("kafka_consumergroup_lag_sum %v, want %d", lag, wantLag)
	}
	if off, _ := series(t, n, "kafka_topic_partition_current_offset", map[string]string{"topic": topic}); off != N {
		t.Fatalf("kafka_topic_partition_current_offset sums to %v, want %d", off, N)
	}
	if m, c := series(t, n, "kafka_consumergroup_members", map[string]string{"consumergroup": grp}); m != 0 || c != 1 {
		t.Fatalf("kafka_consumergroup_members %v over %d series, want 0 (offsets committed without members) over 1", m, c)
	}
	if np, _ := series(t, n, "kafka_topic_partitions", map[string]string{"topic": topic}); np != parts {
		t.Fatalf("kafka_topic_partitions %v, want %d", np, parts)
	}
	for _, name := range []string{"kafka_topic_partition_oldest_offset", "kafka_topic_partition_in_sync_replica", "kafka_topic_partition_leader_is_preferred",
		"kafka_topic_partition_replicas", "kafka_topic_partition_under_replicated_partition", "kafka_consumergroup_current_offset"} {
		if _, c := series(t, n, name, map[string]string{"topic": topic}); c != parts {
			t.Errorf("%s: %d series, want %d", name, c, parts)
		}
	}

	// The consumer stops: the oldest unconsumed record ages.
	before := lagSeconds(t, n, g, parts)
	const wait = 3 * time.Second
	time.Sleep(wait)
	after := lagSeconds(t, n, g, parts)
	if grew := after - before; grew < wait.Seconds()-0.5 || grew > wait.Seconds()+1.5 {
		t.Fatalf("samsa_consumergroup_lag_seconds grew by %.2fs (%.2f → %.2f) over %v", grew, before, after, wait)
	}

	// /metrics serves them in the text format too.
	_, body := httpGet(t, "http://"+n.AdminAddr()+"/metrics")
	if !strings.Contains(body, `kafka_consumergroup_lag{consumergroup="lag-group",partition="0",topic="lagged"}`) {
		t.Fatalf("/metrics lacks the group's lag:\n%.2000s", body)
	}

	commit(func(end int64) int64 { return end })
	if lag, _ := series(t, n, "kafka_consumergroup_lag", g); lag != 0 {
		t.Fatalf("kafka_consumergroup_lag %v after consuming everything", lag)
	}
	if s := lagSeconds(t, n, g, parts); s != 0 {
		t.Fatalf("samsa_consumergroup_lag_seconds %v after consuming everything", s)
	}
}

// lagSeconds is the largest per-partition samsa_consumergroup_lag_seconds
// (every partition must report).
func lagSeconds(t *testing.T, n *Node, want map[string]string, parts int) float64 {
	t.Helper()
	mfs, err := n.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var top float64
	count := 0
	for _, mf := range mfs {
		if mf.GetName() != "samsa_consumergroup_lag_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			if hasLabels(m, want) {
				top = max(top, m.GetGauge().GetValue())
				count++
			}
		}
	}
	if count != parts {
		t.Fatalf("samsa_consumergroup_lag_seconds: %d series, want %d", count, parts)
	}
	return top
}

// TestLagMetricsCluster: in a three-node cluster with a topic of one
// replica per partition (so most partitions live on other brokers than the
// group's coordinator), exactly one node, the coordinator, reports the
// group's lag, and it covers every partition, with a time lag; each
// partition's offsets are reported once, by its leader.
func TestLagMetricsCluster(t *testing.T) {
	nodes := startClusterWith(t, 3, func(c *Config) { c.AdminListen = "127.0.0.1:0" })
	var boot []string
	for _, n := range nodes {
		boot = append(boot, n.Addr())
	}
	const topic, grp, parts, N = "spread", "spread-group", 6, 300
	createTopic(t, boot, topic, parts, 1)
	produce(t, boot, topic, "r", N)

	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offs := kadm.Offsets{}
	var wantLag int64
	ends.Each(func(o kadm.ListedOffset) {
		offs.AddOffset(o.Topic, o.Partition, o.Offset/3, -1)
		wantLag += o.Offset - o.Offset/3
	})
	resp, err := adm.CommitOffsets(ctx, grp, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit: %v", err)
	}

	g := map[string]string{"consumergroup": grp}
	reporters := 0
	var current float64
	for _, n := range nodes {
		lag, c := series(t, n, "kafka_consumergroup_lag", g)
		off, _ := series(t, n, "kafka_topic_partition_current_offset", map[string]string{"topic": topic})
		current += off
		if c == 0 {
			continue
		}
		reporters++
		if c != parts || int64(lag) != wantLag {
			t.Errorf("node %d: kafka_consumergroup_lag sums to %v over %d series, want %d over %d", n.cfg.NodeID, lag, c, wantLag, parts)
		}
		if s := lagSeconds(t, n, g, parts); s <= 0 || s > 60 {
			t.Errorf("node %d: samsa_consumergroup_lag_seconds %v", n.cfg.NodeID, s)
		}
	}
	if reporters != 1 {
		t.Errorf("%d nodes report the group's lag, want 1 (its coordinator)", reporters)
	}
	if current != N {
		t.Errorf("kafka_topic_partition_current_offset sums to %v over the nodes, want %d", current, N)
	}
}

// TestLagSecondsAfterRestart: records appended before the broker started
// (so absent from the partitions' time samples) still give the time lag,
// read once from the log.
func TestLagSecondsAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := singleConfig(t, dir)
	cfg.AdminListen = "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	boot := []string{n.Addr()}
	const topic, grp, parts = "aged", "aged-group", 2
	createTopic(t, boot, topic, parts, 1)
	produced := time.Now()
	produce(t, boot, topic, "r", 40)
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		t.Fatal(err)
	}
	offs := kadm.Offsets{}
	for p := range int32(parts) {
		offs.AddOffset(topic, p, 5, -1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, grp, offs); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n, err = Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	g := map[string]string{"consumergroup": grp}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, c := series(t, n, "samsa_consumergroup_lag_seconds", g); c == parts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no samsa_consumergroup_lag_seconds after the restart")
		}
	}
	age := time.Since(produced).Seconds()
	if s := lagSeconds(t, n, g, parts); s < age-1 || s > age+1 {
		t.Fatalf("samsa_consumergroup_lag_seconds %.2f after a restart, want about %.2f (the records' age)", s, age)
	}
}
