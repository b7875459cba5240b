package eos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// buildPipeline builds test/eos/pipeline once per test binary.
var buildPipeline = sync.OnceValues(func() (string, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pipeline", "pipeline.test-bin")
	out, err := exec.Command("go", "build", "-o", bin, "./pipeline").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./pipeline: %v\n%s", err, out)
	}
	return bin, nil
})

// TestExactlyOncePipeline runs a franz-go GroupTransactSession
// consume→transform→produce program, kills it with SIGKILL several times
// with fresh input before each run (the last time together with the broker),
// restarts it, and checks that the output topic
// (read_committed) holds every input record transformed exactly once, in
// input order per partition.
func TestExactlyOncePipeline(t *testing.T) {
	node := startNode(t, "")
	bin, err := buildPipeline()
	if err != nil {
		t.Fatal(err)
	}
	const in, out, group, n = "pipe-in", "pipe-out", "pipe-group", 3000
	createTopic(t, node, in, 3)
	createTopic(t, node, out, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Input arrives in five slices, one before each pipeline start, so
	// every run has fresh input to transact on before it is killed.
	prod := node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(in))
	want := map[int32][]string{}
	for i := 0; i < n; i++ {
		p := int32(i % 3)
		want[p] = append(want[p], fmt.Sprintf("out-v-%05d", i))
	}
	const slices5 = 5
	produceSlice := func(k int) {
		t.Helper()
		for i := k * n / slices5; i < (k+1)*n/slices5; i += 50 {
			recs := make([]*kgo.Record, 0, 50)
			for j := i; j < i+50 && j < (k+1)*n/slices5; j++ {
				recs = append(recs, &kgo.Record{Partition: int32(j % 3), Key: fmt.Appendf(nil, "k%d", j), Value: fmt.Appendf(nil, "v-%05d", j)})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatalf("produce input: %v", err)
			}
		}
	}

	args := []string{"-brokers", node.Addr, "-in", in, "-out", out, "-group", group, "-txn-id", "pipe-txn", "-instance", "pipe-1"}
	for kill := 0; kill < 3; kill++ {
		produceSlice(kill)
		c := startChild(t, bin, args...)
		c.waitLine(t, `"committed":true`, 60*time.Second)
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		c.kill()
		t.Logf("kill %d: pipeline had ended %d transactions", kill+1, c.numLines())
	}
	// Then the broker dies with the pipeline: the restarted broker
	// rebuilds committed and pending transactional offsets from
	// __consumer_offsets.
	produceSlice(3)
	c := startChild(t, bin, args...)
	c.waitLine(t, `"committed":true`, 60*time.Second)
	time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
	c.kill()
	node.Kill()
	node.Restart(t)
	prod = node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(in))
	produceSlice(4)
	c = startChild(t, bin, args...)
	recs := consumeAll(t, node, out, true, n)
	c.stop(t, 30*time.Second)

	have := byPartition(recs)
	for p := int32(0); p < 3; p++ {
		if !slices.Equal(have[p], want[p]) {
			dups, missing := diff(have[p], want[p])
			t.Errorf("output partition %d: %d records, want %d; duplicated %v, missing %v", p, len(have[p]), len(want[p]), head(dups), head(missing))
		}
	}
}

// diff returns the values seen more than once and the wanted values not seen.
func diff(have, want []string) (dups, missing []string) {
	seen := map[string]int{}
	for _, v := range have {
		seen[v]++
		if seen[v] == 2 {
			dups = append(dups, v)
		}
	}
	for _, v := range want {
		if seen[v] == 0 {
			missing = append(missing, v)
		}
	}
	return dups, missing
}
