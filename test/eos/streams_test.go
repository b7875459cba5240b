package eos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestStreamsWordCountExactlyOnce runs a Kafka Streams word count with
// processing.guarantee=exactly_once_v2 and no record cache, kills it with
// SIGKILL twice while input arrives, restarts it, and checks that the
// output (read_committed) counts every word occurrence exactly once: for
// each word the counts are 1, 2, …, n in order.
func TestStreamsWordCountExactlyOnce(t *testing.T) {
	node := startNode(t, "transaction.abort.timed.out.transaction.cleanup.interval.ms=1000\n")
	java, jar := javaDriver(t)
	const in, out, app = "wc-in", "wc-out", "wc-app"
	createTopic(t, node, in, 3)
	createTopic(t, node, out, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stateDir := t.TempDir()

	words := []string{"samsa", "kafka", "stream", "exactly", "once", "gregor", "beetle", "apple", "txn", "marker"}
	want := map[string]int{}
	prod := node.Client(t, kgo.DefaultProduceTopic(in))
	line := 0
	produce := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			var ws []string
			for j := 0; j < 1+(line+i)%4; j++ {
				w := words[(line+i*3+j*7)%len(words)]
				ws = append(ws, w)
				want[w]++
			}
			recs[i] = &kgo.Record{Key: fmt.Appendf(nil, "l%d", line+i), Value: []byte(strings.Join(ws, " "))}
		}
		line += n
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce input: %v", err)
		}
	}
	args := []string{"-jar", jar, "streams-wordcount", node.Addr, in, out, app, stateDir}
	produce(200)
	for kill := 0; kill < 2; kill++ {
		c := startChild(t, java, args...)
		c.waitLine(t, `"running"`, 90*time.Second)
		produce(200)
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
		c.kill()
		produce(100)
	}
	c := startChild(t, java, args...)
	c.waitLine(t, `"running"`, 90*time.Second)
	produce(100)
	total := 0
	for _, n := range want {
		total += n
	}
	recs := consumeAll(t, node, out, true, total)
	c.stop(t, 60*time.Second)

	counts := map[string][]int{}
	for _, r := range byKeyOrder(recs) {
		n, err := strconv.Atoi(r.Value)
		if err != nil {
			t.Fatalf("output record %q=%q is not a count", r.Key, r.Value)
		}
		counts[r.Key] = append(counts[r.Key], n)
	}
	for _, w := range words {
		var seq []int
		for i := 1; i <= want[w]; i++ {
			seq = append(seq, i)
		}
		if !slices.Equal(counts[w], seq) {
			t.Errorf("word %q: counts %v, want 1..%d", w, head2(counts[w]), want[w])
		}
	}
	if len(recs) != total {
		t.Errorf("%d output records, want %d", len(recs), total)
	}
}

// byKeyOrder sorts records by partition and offset (a key's records are in
// one partition).
func byKeyOrder(recs []got) []got {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b got) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return out
}

func head2(s []int) string {
	if len(s) > 12 {
		return fmt.Sprintf("%v…(%d)", s[:12], len(s))
	}
	return fmt.Sprint(s)
}
