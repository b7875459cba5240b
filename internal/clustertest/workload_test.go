package clustertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// The workload, the final read and the checks end to end against one real
// node: a clean run passes, and records removed from the log afterwards
// (DeleteRecords) show up as lost acknowledged writes.
func TestWorkloadFinalReadAndLossDetection(t *testing.T) {
	n := Start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "wl"
	adm := kadm.NewClient(n.Client(t))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	seeds := []string{n.Addr}
	h := NewHistory()
	p := StartProducer(t, seeds, h, ProducerOptions{Topic: topic, Partitions: []int32{0, 1}})
	cons := StartGroupConsumer(t, seeds, h, ConsumerOptions{Group: "wl-group", Topic: topic})
	if err := p.WaitAcked(ctx, 300); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	for cons.Seen() < p.Acked() && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cons.Stop()
	if err := WaitLeaders(ctx, seeds, 10*time.Second, topic); err != nil {
		t.Fatal(err)
	}
	final, err := ReadAll(ctx, seeds, topic, false)
	if err != nil {
		t.Fatal(err)
	}
	h.SetFinal(final)
	r := h.Check()
	if err := r.Err(); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	if r.Final != int(p.Acked()) || r.Acked != int(p.Sent()) || r.Consumed < r.Acked {
		t.Fatalf("clean run counts: %s", r.Summary())
	}

	// Remove partition 0 below offset 20: 20 acknowledged writes are gone.
	offs := kadm.Offsets{}
	offs.AddOffset(topic, 0, 20, -1)
	if _, err := adm.DeleteRecords(ctx, offs); err != nil {
		t.Fatal(err)
	}
	final, err = ReadAll(ctx, seeds, topic, false)
	if err != nil {
		t.Fatal(err)
	}
	h.SetFinal(final)
	r = h.Check()
	if got := len(r.Violations[CheckLost]); got != 20 {
		t.Fatalf("after DeleteRecords: %d lost writes reported, want 20: %v", got, r.Err())
	}
	if !strings.Contains(r.Violations[CheckLost][0], "acknowledged at p0@0") {
		t.Fatalf("first lost write: %s", r.Violations[CheckLost][0])
	}
	for _, c := range []string{CheckDuplicate, CheckOffset, CheckOrder, CheckUnknown} {
		if r.Failed(c) {
			t.Errorf("check %s failed: %v", c, r.Violations[c])
		}
	}
}
