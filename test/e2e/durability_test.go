package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func createTopic(t testing.TB, cl *kgo.Client, name string, parts int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, parts, 1, configs, name)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err != nil {
		t.Fatalf("create %s: %v", name, resp.Err)
	}
}

// consumeAll reads every record of topic from the start until it has want.
func consumeAll(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before timing out", len(out), want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch error %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestKillDuringProduce produces with acks=all while the broker is killed
// with SIGKILL and restarted. Every acknowledged record must be there once:
// batches in flight at the kill are retried by the idempotent producer, and
// the broker's rebuilt producer state must deduplicate any that were written
// before the kill. Offsets continue without a gap or reuse.
func TestKillDuringProduce(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	cl := n.Client(t)
	createTopic(t, cl, "durable", 3, nil)

	prod, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var mu sync.Mutex
	acked := map[string]bool{}
	var failed []error
	var wg sync.WaitGroup
	for i := 0; i < 4000; i++ {
		if i == 1000 {
			// The producer has its id and some acknowledged writes
			// before the broker goes down.
			wg.Wait()
		}
		if i == 2000 {
			n.Kill()
			n.Restart(t)
		}
		v := fmt.Sprintf("v%05d", i)
		wg.Add(1)
		prod.Produce(context.Background(), &kgo.Record{Topic: "durable", Key: []byte(v), Value: []byte(v)}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, err)
				return
			}
			acked[string(r.Value)] = true
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Logf("%d records failed, first: %v", len(failed), failed[0])
	}
	if len(acked) < 3000 {
		t.Fatalf("only %d of 4000 records acknowledged", len(acked))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(n.Client(t)).ListEndOffsets(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	ends.Each(func(o kadm.ListedOffset) { total += int(o.Offset) })

	got := consumeAll(t, n.Addr, "durable", total)
	seen := map[string]int{}
	next := map[int32]int64{}
	for _, r := range got {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d follows %d (gap or reuse)", r.Partition, r.Offset, next[r.Partition]-1)
		}
		next[r.Partition] = r.Offset + 1
		seen[string(r.Value)]++
	}
	for v := range acked {
		if seen[v] == 0 {
			t.Errorf("acknowledged record %s is missing after the restart", v)
		}
	}
	for v, c := range seen {
		if c > 1 {
			t.Errorf("record %s is in the log %d times", v, c)
		}
	}
}

// TestTornTailRecovered appends garbage to the active segment of a killed
// broker, as a torn final write would leave it, and checks that the restart
// truncates it, keeps every earlier record and continues offsets.
func TestTornTailRecovered(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	cl := n.Client(t)
	createTopic(t, cl, "torn", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "torn", Value: []byte(fmt.Sprintf("r%03d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	n.Kill()
	seg := filepath.Join(n.DataDir, "torn-0", fmt.Sprintf("%020d.log", 0))
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A batch header claiming 500 bytes, followed by only a few.
	f.Write([]byte{0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 1, 0xf4, 0, 0, 0, 0, 2, 1, 2, 3})
	f.Close()
	n.Restart(t)
	cl2 := n.Client(t)
	if err := cl2.ProduceSync(ctx, &kgo.Record{Topic: "torn", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := consumeAll(t, n.Addr, "torn", 101)
	for i, r := range got {
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
	}
	if string(got[100].Value) != "after" {
		t.Fatalf("offset 100 holds %q, want the record written after recovery", got[100].Value)
	}
}

// TestStorageIdentity checks that a data dir refuses another node id.
func TestStorageIdentity(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	n.Stop()
	if _, err := os.Stat(filepath.Join(n.DataDir, ".kafka_cleanshutdown")); err != nil {
		t.Fatalf("no clean-shutdown marker after SIGTERM: %v", err)
	}
	props, err := os.ReadFile(filepath.Join(n.DataDir, "meta.properties"))
	if err != nil || !strings.Contains(string(props), "cluster.id=") || !strings.Contains(string(props), "node.id=1") {
		t.Fatalf("meta.properties: %q %v", props, err)
	}
	out, err := runSamsa(t, "serve", "--data-dir", n.DataDir, "--listen", "127.0.0.1:0", "--node-id", "2")
	if err == nil {
		t.Fatalf("serve with another node id started; output:\n%s", out)
	}
	if !strings.Contains(out, "belongs to node 1") {
		t.Fatalf("unclear refusal: %s", out)
	}
}
