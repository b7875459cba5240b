package observability

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// urGauge reads one unlabelled gauge from a node's /metrics.
func urGauge(t *testing.T, addr, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(obsScrape(t, addr)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s not in %s/metrics", name, addr)
	return 0
}

// TestUnderReplicatedPartitionsMetric: in a 3-node cluster,
// kafka_server_replicamanager_underreplicatedpartitions on the leaders
// rises while a follower is paused (SIGSTOP, so it leaves the ISR) and
// returns to 0 once it is resumed and has caught up.
func TestUnderReplicatedPartitionsMetric(t *testing.T) {
	clustertest.SkipInShort(t, "starts a 3-node cluster")
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{
		Args:   []string{"--admin-listen", "127.0.0.1:0"},
		Config: "replica.lag.time.max.ms=2000\n",
	})
	admins := map[int]string{}
	for i, n := range c.Nodes {
		admins[i] = obsAdminAddr(t, n.LogPath)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if r, err := kadm.NewClient(cl).CreateTopic(ctx, 6, 3, nil, "obs-ur"); err != nil || r.Err != nil {
		t.Fatalf("create topic: %v %v", err, r.Err)
	}
	total := func(skip int) float64 {
		var sum float64
		for i := range c.Nodes {
			if i != skip {
				sum += urGauge(t, admins[i], "kafka_server_replicamanager_underreplicatedpartitions")
			}
		}
		return sum
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			cl.ProduceSync(ctx, &kgo.Record{Topic: "obs-ur", Value: []byte("v")}) // keep followers fetching
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("no under-replicated partition", func() bool { return total(-1) == 0 })
	paused := 2
	c.Nodes[paused].Pause()
	waitFor("under-replicated partitions on the other brokers", func() bool { return total(paused) > 0 })
	c.Nodes[paused].Resume()
	waitFor("under-replicated partitions back to 0", func() bool { return total(-1) == 0 })
}
