package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/protocol"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestStoresRoundTripOnNode writes connectors, task configs, target
// states, offsets and statuses to a real node, then reads them back with
// fresh stores (as a restarted worker would) and checks topic settings.
func TestStoresRoundTripOnNode(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none"}})
	opts := []kgo.Opt{kgo.SeedBrokers(n.Addr)}
	ctx := testCtx(t)

	cs, err := NewConfigStore(opts, ConfigStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutConnectorConfig(ctx, "fs-src", map[string]string{"connector.class": "FileStreamSource", "file": "/tmp/x"}, TargetPaused); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutTaskConfigs(ctx, "fs-src", []map[string]string{{"task": "0"}, {"task": "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutConnectorConfig(ctx, "gone", map[string]string{"a": "b"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := cs.RemoveConnector(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutTargetState(ctx, "fs-src", TargetStopped); err != nil {
		t.Fatal(err)
	}
	if err := cs.RequestRestart(ctx, RestartRequest{Connector: "fs-src", IncludeTasks: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cs.Updates():
	default:
		t.Fatal("no update signalled")
	}
	before := cs.Snapshot()
	if before.TargetState("fs-src") != TargetStopped || len(before.TaskConfigs("fs-src")) != 2 || before.Connectors["gone"] != nil {
		t.Fatalf("state after writes: %+v", before)
	}
	cs.Close()

	ofs, err := NewOffsetStore(opts, OffsetStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ofs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	part := map[string]any{"filename": "/tmp/x"}
	if err := ofs.Put(ctx, "fs-src", []SourceOffset{{Partition: part, Offset: map[string]any{"position": int64(1234)}},
		{Partition: map[string]any{"filename": "/tmp/y"}, Offset: map[string]any{"position": int64(1)}}}); err != nil {
		t.Fatal(err)
	}
	if err := ofs.Delete(ctx, "fs-src", map[string]any{"filename": "/tmp/y"}); err != nil {
		t.Fatal(err)
	}
	ofs.Close()

	ss, err := NewStatusStore(opts, StatusStoreConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Start(ctx); err != nil {
		t.Fatal(err)
	}
	task0 := protocol.TaskID{Connector: "fs-src", Task: 0}
	if err := ss.PutConnector(ctx, "fs-src", Status{State: "RUNNING", WorkerID: "w1:8083", Generation: 3}); err != nil {
		t.Fatal(err)
	}
	if err := ss.PutTask(ctx, task0, Status{State: "FAILED", Trace: "boom", WorkerID: "w1:8083", Generation: 3}); err != nil {
		t.Fatal(err)
	}
	// An older generation from another worker is not written over it.
	if err := ss.PutTaskSafe(ctx, task0, Status{State: "UNASSIGNED", WorkerID: "w2:8083", Generation: 2}); err != nil {
		t.Fatal(err)
	}
	if err := ss.PutTopic(ctx, TopicStatus{Topic: "lines", Connector: "fs-src", DiscoverTimestamp: 77}); err != nil {
		t.Fatal(err)
	}
	ss.Close()

	// Fresh stores read the same state back.
	cs2, _ := NewConfigStore(opts, ConfigStoreConfig{})
	if err := cs2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer cs2.Close()
	after := cs2.Snapshot()
	if !reflect.DeepEqual(after.Connectors, before.Connectors) || !reflect.DeepEqual(after.Tasks, before.Tasks) ||
		!reflect.DeepEqual(after.TargetStates, before.TargetStates) || after.Offset != before.Offset ||
		!reflect.DeepEqual(after.Restarts, before.Restarts) {
		t.Fatalf("config state differs after restart:\n%+v\n%+v", after, before)
	}
	os2, _ := NewOffsetStore(opts, OffsetStoreConfig{})
	if err := os2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer os2.Close()
	if off, ok := os2.Get("fs-src", part); !ok || off["position"] != int64(1234) {
		t.Fatalf("offset after restart: %v %v", off, ok)
	}
	if all := os2.All("fs-src"); len(all) != 1 {
		t.Fatalf("offsets after restart: %v", all)
	}
	ss2, _ := NewStatusStore(opts, StatusStoreConfig{})
	if err := ss2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ss2.Close()
	if st, ok := ss2.Task(task0); !ok || st.State != "FAILED" || st.Trace != "boom" {
		t.Fatalf("task status after restart: %+v", st)
	}
	if ts := ss2.All().Topics["fs-src"]["lines"]; ts.DiscoverTimestamp != 77 {
		t.Fatalf("topic status after restart: %+v", ts)
	}
	checkTopicsOnNode(t, ctx, n, part)
}

// checkTopicsOnNode checks the topics' partitions and cleanup policy and
// that the offset record sits where Java's producer would put it.
func checkTopicsOnNode(t *testing.T, ctx context.Context, n *clustertest.Node, part map[string]any) {
	cl := n.Client(t)
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx, "connect-configs", "connect-offsets", "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int{"connect-configs": 1, "connect-offsets": 25, "connect-status": 5} {
		if got := len(td[topic].Partitions); got != want {
			t.Errorf("%s has %d partitions, want %d", topic, got, want)
		}
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "connect-configs", "connect-offsets", "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rc {
		policy := ""
		for _, c := range r.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy = *c.Value
			}
		}
		if policy != "compact" {
			t.Errorf("%s cleanup.policy %q, want compact", r.Name, policy)
		}
	}
	if len(rc) != 3 {
		t.Errorf("configs of %d topics", len(rc))
	}
	key := EncodeOffsetKey("fs-src", part)
	want := clustertest.KeyPartition(key, 25)
	cons := n.Client(t, kgo.ConsumeTopics("connect-offsets"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatal("offset record not found")
		}
		found := false
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == string(key) {
				found = true
				if r.Partition != want || string(r.Value) != `{"position":1234}` {
					t.Errorf("offset record in partition %d (want %d), value %s", r.Partition, want, r.Value)
				}
			}
		})
		if found {
			return
		}
	}
}
