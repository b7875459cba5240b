package observability

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// freeAddr is a loopback address nobody listens on (for --admin-listen).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// target is a running node or cluster: its Kafka bootstrap addresses and
// every broker's admin listener.
type target struct {
	boot   []string
	admins []string
	client func(t testing.TB, opts ...kgo.Opt) *kgo.Client
}

// startNode starts one node with its admin listener.
func startNode(t *testing.T) target {
	t.Helper()
	admin := freeAddr(t)
	n := clustertest.Start(t, clustertest.Options{
		Args:   []string{"--admin-listen", admin},
		Config: "offsets.topic.num.partitions=4\n",
	})
	return target{boot: []string{n.Addr}, admins: []string{admin}, client: n.Client}
}

// startCluster starts three nodes, each with an admin listener on a port
// of its choosing (read from its log).
func startCluster(t *testing.T) target {
	t.Helper()
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{
		Env:    []string{"SAMSA_ADMIN_LISTEN=127.0.0.1:0"},
		Config: "offsets.topic.num.partitions=4\n",
	})
	tg := target{boot: c.Bootstrap(), client: c.Client}
	for _, n := range c.Brokers() {
		tg.admins = append(tg.admins, adminAddrFromLog(t, n.LogPath))
	}
	return tg
}

var adminAddrRE = regexp.MustCompile(`serving admin endpoints.*addr=([0-9.]+:[0-9]+)`)

// adminAddrFromLog finds the admin listener's address in a node's log.
func adminAddrFromLog(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if m := adminAddrRE.FindAllSubmatch(b, -1); len(m) > 0 {
			return string(m[len(m)-1][1])
		}
	}
	t.Fatalf("no admin listener address in %s", path)
	return ""
}

// workload is what the tests produce and commit: per topic, the end offset
// of every partition and the group's committed offset.
type workload struct {
	ends      map[string][]int64 // topic → partition → end offset
	committed map[string][]int64 // topic → partition → committed offset (group)
}

// lag is the group's expected lag on topic ("" for every topic).
func (w workload) lag(topic string) int64 {
	var n int64
	for t, ends := range w.ends {
		if topic != "" && t != topic {
			continue
		}
		for p, end := range ends {
			n += end - w.committed[t][p]
		}
	}
	return n
}

// end is the sum of topic's end offsets (a never-committed group's lag
// from the earliest offset: every partition starts at 0).
func (w workload) end(topic string) int64 {
	var n int64
	for _, e := range w.ends[topic] {
		n += e
	}
	return n
}

// setup creates topics orders (3 partitions) and audit (2), produces
// 10·(p+1)+topic-specific records to partition p, and commits a third of
// each partition for group.
func setup(t *testing.T, n target, group string, rf int16) workload {
	t.Helper()
	cl := n.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := workload{ends: map[string][]int64{}, committed: map[string][]int64{}}
	for topic, parts := range map[string]int32{"orders": 3, "audit": 2} {
		if _, err := adm.CreateTopic(ctx, parts, rf, nil, topic); err != nil {
			t.Fatalf("create %s: %v", topic, err)
		}
		var recs []*kgo.Record
		for p := range parts {
			count := 10*(int64(p)+1) + int64(len(topic))
			for i := range count {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%s-%d-%d", topic, p, i)})
			}
			w.ends[topic] = append(w.ends[topic], count)
			w.committed[topic] = append(w.committed[topic], count/3)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", topic, err)
		}
	}
	offs := kadm.Offsets{}
	for topic, cs := range w.committed {
		for p, c := range cs {
			offs.AddOffset(topic, int32(p), c, -1)
		}
	}
	resp, err := adm.CommitOffsets(ctx, group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return w
}

// samsaGroupLag runs `samsa group lag GROUP` and returns its total and
// per-topic lags (summed from the table's rows).
func samsaGroupLag(t *testing.T, n target, group string) (total int64, byTopic map[string]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clustertest.Binary(t), "group", "lag", group, "--brokers", strings.Join(n.boot, ","))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("samsa group lag %s: %v\n%s%s", group, err, out.String(), errb.String())
	}
	byTopic = map[string]int64{}
	total = -1
	sc := bufio.NewScanner(&out)
	header := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
			header = false
		case header && f[0] == "TOPIC":
		case header && len(f) >= 5:
			lag, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				t.Fatalf("samsa group lag: row %q: %v", sc.Text(), err)
			}
			byTopic[f[0]] += lag
		case f[0] == "TOTAL-LAG" && len(f) == 2:
			total, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	if total < 0 {
		t.Fatalf("samsa group lag %s: no TOTAL-LAG in\n%s", group, out.String())
	}
	return total, byTopic
}

// scrape returns the sum over every broker's admin listener of name's
// series whose labels include every one of want ("k=\"v\""), and how many
// brokers reported any.
func scrape(t *testing.T, n target, name string, want ...string) (sum float64, count, reporters int) {
	t.Helper()
	for _, addr := range n.admins {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		s, c := sumSeries(t, string(body), name, want...)
		sum += s
		count += c
		if c > 0 {
			reporters++
		}
	}
	return sum, count, reporters
}

// sumSeries sums name's series in a text exposition.
func sumSeries(t *testing.T, body, name string, want ...string) (sum float64, count int) {
	t.Helper()
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("series %q: %v", line, err)
		}
		sum += v
		count++
	}
	return sum, count
}

// listPartitions returns the topic of every partition in the cluster,
// internal topics included.
func listPartitions(ctx context.Context, t *testing.T, cl *kgo.Client) []string {
	t.Helper()
	td, err := kadm.NewClient(cl).ListTopicsWithInternal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range td {
		for range d.Partitions {
			out = append(out, d.Topic)
		}
	}
	return out
}
