package connect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/verifiable"
)

// TestRTVerifiableBounce is Kafka's ducktape bounce validation on Samsa
// Connect: two workers run VerifiableSource → topic → VerifiableSink, one
// is killed with kill -9, its tasks move, and every sequence number the
// source committed is seen by the sink (duplicates allowed: at least
// once).
func TestRTVerifiableBounce(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}})
	dir := t.TempDir()
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(fmt.Sprintf(`bootstrap.servers=%s
group.id=rt-bounce
offset.flush.interval.ms=300
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
	rtExpect(t, 201, "POST", w1.URL+"/connectors", map[string]any{"name": "vsrc", "config": map[string]string{
		"connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector", "tasks.max": "2",
		"topic": "rt-bounce", "throughput": "100"}})
	rtExpect(t, 201, "POST", w2.URL+"/connectors", map[string]any{"name": "vsink", "config": map[string]string{
		"connector.class": "org.apache.kafka.connect.tools.VerifiableSinkConnector", "tasks.max": "2", "topics": "rt-bounce"}})
	rtWaitStates(t, w1.URL, "vsrc", "RUNNING", "RUNNING")
	rtWaitStates(t, w1.URL, "vsink", "RUNNING", "RUNNING")
	rtWaitEvents(t, 1, w1.logPath, w2.logPath) // records flow end to end before the kill

	w2.cmd.Process.Kill()
	<-w2.done
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := rtStatus(t, w1.URL, "vsrc")
		if ts := rtTaskStates(st); len(ts) == 2 && ts[0] == "RUNNING" && ts[1] == "RUNNING" && onWorker(st, w1.URL) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed worker's tasks never moved: %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rtWaitEvents(t, len(rtEvents(t, w1.logPath, w2.logPath))+20, w1.logPath, w2.logPath) // and after the move
	rtExpect(t, 202, "PUT", w1.URL+"/connectors/vsrc/pause", nil)
	rtWaitStates(t, w1.URL, "vsrc", "PAUSED", "PAUSED")

	var errs []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		events := rtEvents(t, w1.logPath, w2.logPath)
		if errs = verifiable.Check(events, "vsrc", "vsink", 2, true); len(errs) == 0 && len(events) > 0 {
			return
		}
	}
	t.Fatalf("bounce validation: %s", strings.Join(errs, "; "))
}

// onWorker says every task of a status runs on the worker at url.
func onWorker(st map[string]any, url string) bool {
	for _, x := range st["tasks"].([]any) {
		if !strings.HasSuffix(url, x.(map[string]any)["worker_id"].(string)) {
			return false
		}
	}
	return true
}

// rtWaitEvents waits until the logs hold at least n events, one of them
// a sink's flush.
func rtWaitEvents(t testing.TB, n int, paths ...string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		es := rtEvents(t, paths...)
		flushed := false
		for _, e := range es {
			flushed = flushed || e.Sink && e.Flushed
		}
		if flushed && len(es) >= n {
			return
		}
	}
	t.Fatalf("fewer than %d verifiable events", n)
}

// rtEvents parses the Verifiable connectors' lines of worker logs.
func rtEvents(t testing.TB, paths ...string) []verifiable.Event {
	t.Helper()
	var out []verifiable.Event
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if e, ok := verifiable.ParseEvent(sc.Bytes()); ok {
				out = append(out, e)
			}
		}
	}
	return out
}
