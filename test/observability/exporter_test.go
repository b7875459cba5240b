package observability

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestExporter: `samsa exporter` run as a process against a node reports
// the workload's lag, equal to `samsa group lag` and to the broker's own
// metrics, with the partition offsets and a time lag.
func TestExporter(t *testing.T) {
	n := startNode(t)
	const group = "exported"
	w := setup(t, n, group, 1)
	total, _ := samsaGroupLag(t, n, group)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listen := freeAddr(t)
	cmd := exec.CommandContext(ctx, clustertest.Binary(t), "exporter", "--brokers", strings.Join(n.boot, ","), "--listen", listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("exporter stderr:\n%s", stderr.String())
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "serving metrics") {
		t.Fatalf("exporter: %q, %v", line, err)
	}
	go io.Copy(io.Discard, stdout) // owned by the process; ends when it exits

	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)

	g := `consumergroup="` + group + `"`
	if lag, c := sumSeries(t, body, "kafka_consumergroup_lag", g); int64(lag) != total || total != w.lag("") || c != 5 {
		t.Fatalf("exporter: kafka_consumergroup_lag sums to %v over %d series; samsa group lag %d, workload %d", lag, c, total, w.lag(""))
	}
	for _, name := range []string{"kafka_consumergroup_lag", "kafka_consumergroup_current_offset", "kafka_consumergroup_lag_sum",
		"kafka_topic_partition_current_offset", "kafka_topic_partition_oldest_offset", "kafka_topic_partitions", "kafka_topic_partition_replicas",
		"kafka_topic_partition_in_sync_replica", "kafka_topic_partition_leader_is_preferred", "kafka_topic_partition_under_replicated_partition"} {
		ex, ec := sumSeries(t, body, name, `topic="orders"`)
		br, bc, _ := scrape(t, n, name, `topic="orders"`)
		if ex != br || ec != bc || ec == 0 {
			t.Errorf("%s{topic=orders}: exporter %v over %d series, broker %v over %d", name, ex, ec, br, bc)
		}
	}
	if off, _ := sumSeries(t, body, "kafka_topic_partition_current_offset", `topic="orders"`); int64(off) != w.end("orders") {
		t.Errorf("kafka_topic_partition_current_offset{topic=orders} %v, want %d", off, w.end("orders"))
	}
	if _, c := sumSeries(t, body, "kafka_consumergroup_members", g); c != 1 {
		t.Errorf("kafka_consumergroup_members: %d series", c)
	}

	// The records were produced moments ago: their age is small, and grows.
	sec1, c := sumSeries(t, body, "samsa_consumergroup_lag_seconds", g, `topic="orders"`, `partition="0"`)
	if c != 1 || sec1 < 0 || sec1 > 60 {
		t.Fatalf("samsa_consumergroup_lag_seconds: %v over %d series", sec1, c)
	}
	time.Sleep(1500 * time.Millisecond)
	resp, err = http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	sec2, _ := sumSeries(t, string(b), "samsa_consumergroup_lag_seconds", g, `topic="orders"`, `partition="0"`)
	if d := sec2 - sec1; d < 1 || d > 3 {
		t.Errorf("samsa_consumergroup_lag_seconds grew by %.2fs over 1.5s (%.2f → %.2f)", d, sec1, sec2)
	}
	broker, _, _ := scrape(t, n, "samsa_consumergroup_lag_seconds", g, `topic="orders"`, `partition="0"`)
	if d := broker - sec2; d < -1 || d > 1 {
		t.Errorf("samsa_consumergroup_lag_seconds: broker %.2f, exporter %.2f", broker, sec2)
	}
}
