package connect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRTDistributed runs two `samsa connect` workers in one group: both
// answer REST, writes sent to the follower are forwarded to the leader,
// and when the worker running the source task is killed (kill -9) the
// task moves to the other within the rebalance delay and no line is lost.
func TestRTDistributed(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("l1\nl2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(fmt.Sprintf(`bootstrap.servers=%s
group.id=rt-dist
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.flush.interval.ms=200
scheduled.rebalance.max.delay.ms=2000
session.timeout.ms=6000
heartbeat.interval.ms=1000
`, n.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	w1 := rtStartWorker(t, props)
	rtWaitWritable(t, w1.URL)
	w2 := rtStartWorker(t, props)
	rtWaitWritable(t, w2.URL)

	// One connector created through each worker: one of them forwards.
	rtExpect(t, 201, "POST", w1.URL+"/connectors", map[string]any{"name": "src", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "rt-dist"}})
	rtExpect(t, 201, "POST", w2.URL+"/connectors", map[string]any{"name": "snk", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "rt-dist"}})
	for _, w := range []*rtWorker{w1, w2} {
		rtExpect(t, 409, "POST", w.URL+"/connectors", map[string]any{"name": "src", "config": map[string]string{
			"connector.class": "FileStreamSource", "file": in, "topic": "rt-dist"}})
		if l := rtExpect(t, 200, "GET", w.URL+"/connectors", nil).List(); len(l) != 2 {
			t.Fatalf("%s lists %v", w.URL, l)
		}
	}
	logs := ""
	for _, w := range []*rtWorker{w1, w2} {
		b, _ := os.ReadFile(w.logPath)
		logs += string(b)
	}
	if !strings.Contains(logs, "forwarding request to the leader") {
		t.Fatal("no worker forwarded a write to the leader")
	}
	rtWaitFile(t, out, 2)

	// A cluster-scoped logger level reaches the other worker.
	rtExpect(t, 204, "PUT", w1.URL+"/admin/loggers/org.apache.kafka.connect.runtime?scope=cluster", map[string]string{"level": "DEBUG"})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a := rtDo(t, "GET", w2.URL+"/admin/loggers/org.apache.kafka.connect.runtime", nil)
		if a.Status == 200 && a.Map()["level"] == "DEBUG" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster-scoped level not applied on the other worker: %s", a)
		}
	}

	st := rtWaitStates(t, w2.URL, "src", "RUNNING", "RUNNING")
	owner := st["tasks"].([]any)[0].(map[string]any)["worker_id"].(string)
	rtWaitStates(t, w1.URL, "snk", "RUNNING", "RUNNING")

	// Kill the worker running the source task; the other takes it over.
	victim, survivor := w1, w2
	if strings.HasSuffix(w2.URL, owner) {
		victim, survivor = w2, w1
	}
	victim.cmd.Process.Kill()
	<-victim.done
	f, err := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("l3\nl4\n")
	f.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st = rtStatus(t, survivor.URL, "src")
		ts := st["tasks"].([]any)
		if len(ts) == 1 && ts[0].(map[string]any)["state"] == "RUNNING" && strings.HasSuffix(survivor.URL, ts[0].(map[string]any)["worker_id"].(string)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the source task never moved to %s: %v", survivor.URL, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := rtWaitFile(t, out, 4)
	seen := map[string]bool{}
	for _, l := range got {
		seen[l] = true
	}
	for _, l := range []string{"l1", "l2", "l3", "l4"} {
		if !seen[l] {
			t.Fatalf("line %s lost: %q", l, got)
		}
	}
}
