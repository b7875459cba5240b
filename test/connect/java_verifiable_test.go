package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// verifiableLine is one JSON line that VerifiableSourceTask or
// VerifiableSinkTask prints: the source prints every record it generates
// and, with "committed", every record the producer acknowledged; the sink
// prints every record it receives and, with "flushed", every record whose
// offset was committed. "task" is the source task the record came from.
type verifiableLine struct {
	Name      string `json:"name"`
	Task      *int64 `json:"task"`
	Seqno     *int64 `json:"seqno"`
	SinkTask  *int64 `json:"sinkTask"`
	Committed bool   `json:"committed"`
	Flushed   bool   `json:"flushed"`
}

// verifiableReport is the outcome of verifiableCheck per source task.
type verifiableReport struct {
	Committed map[int64]int64 // source task -> highest committed seqno
	// MissingSource lists, per source task, seqnos below its highest
	// committed one that the source never reported committed.
	MissingSource map[int64][]int64
	// MissingSink lists, per source task, seqnos up to its highest
	// committed one that no sink task reported flushed.
	MissingSink map[int64][]int64
	// Duplicates counts sink flushes of a seqno beyond the first (allowed
	// across a kill -9: the offsets of the last interval are redone).
	Duplicates             int
	SourceLines, SinkLines int
}

// Err is nil when every seqno every source task committed was flushed by
// the sink and the source committed no seqno out of a gap.
func (r verifiableReport) Err() error {
	var msgs []string
	if len(r.Committed) == 0 {
		msgs = append(msgs, "the source reported no committed record")
	}
	for _, kind := range []struct {
		what string
		m    map[int64][]int64
	}{{"not committed by the source", r.MissingSource}, {"not flushed by the sink", r.MissingSink}} {
		for task, seqs := range kind.m {
			if len(seqs) > 0 {
				msgs = append(msgs, fmt.Sprintf("task %d: %d seqnos %s (first %v)", task, len(seqs), kind.what, seqs[:min(len(seqs), 10)]))
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	sort.Strings(msgs)
	return fmt.Errorf("verifiable check: %s", strings.Join(msgs, "; "))
}

// verifiableCheck is the ducktape-style validation of Kafka's Verifiable
// connectors (connect_distributed_test's bounce test): for each source task,
// every seqno from 0 up to the highest the source reported committed must
// have been reported committed by the source and flushed by the sink (which
// names the source task in its "task" field). Lines may be any stdout lines
// of the workers (Java's or Samsa's); lines that are not the connectors'
// JSON are ignored, so both arguments may be all workers' output.
func verifiableCheck(sourceLines, sinkLines []string) verifiableReport {
	r := verifiableReport{
		Committed:     map[int64]int64{},
		MissingSource: map[int64][]int64{},
		MissingSink:   map[int64][]int64{},
	}
	committed := map[int64]map[int64]bool{}
	for _, l := range sourceLines {
		var v verifiableLine
		if json.Unmarshal([]byte(l), &v) != nil || v.SinkTask != nil || !v.Committed || v.Task == nil || v.Seqno == nil {
			continue
		}
		r.SourceLines++
		if committed[*v.Task] == nil {
			committed[*v.Task] = map[int64]bool{}
		}
		committed[*v.Task][*v.Seqno] = true
		if hi, ok := r.Committed[*v.Task]; !ok || *v.Seqno > hi {
			r.Committed[*v.Task] = *v.Seqno
		}
	}
	flushed := map[int64]map[int64]int{}
	for _, l := range sinkLines {
		var v verifiableLine
		if json.Unmarshal([]byte(l), &v) != nil || v.SinkTask == nil || !v.Flushed || v.Task == nil || v.Seqno == nil {
			continue
		}
		r.SinkLines++
		if flushed[*v.Task] == nil {
			flushed[*v.Task] = map[int64]int{}
		}
		flushed[*v.Task][*v.Seqno]++
		if flushed[*v.Task][*v.Seqno] > 1 {
			r.Duplicates++
		}
	}
	for task, hi := range r.Committed {
		for s := int64(0); s <= hi; s++ {
			if !committed[task][s] {
				r.MissingSource[task] = append(r.MissingSource[task], s)
			}
			if flushed[task][s] == 0 {
				r.MissingSink[task] = append(r.MissingSink[task], s)
			}
		}
	}
	return r
}

func TestVerifiableCheck(t *testing.T) {
	src := []string{
		`{"task":0,"seqno":0,"name":"src","topic":"t"}`,
		`{"task":0,"seqno":0,"committed":true,"name":"src","topic":"t"}`,
		`{"task":0,"seqno":1,"committed":true,"name":"src","topic":"t"}`,
		`{"task":1,"seqno":0,"committed":true,"name":"src","topic":"t"}`,
		`[2026-12-08 02:28:04,213] INFO not json`,
	}
	sink := []string{
		`{"task":0,"seqno":0,"offset":0,"name":"snk","topic":"t","sinkTask":0}`,
		`{"task":0,"seqno":0,"offset":0,"name":"snk","topic":"t","sinkTask":0,"flushed":true}`,
		`{"task":0,"seqno":1,"offset":1,"name":"snk","topic":"t","sinkTask":0,"flushed":true}`,
		`{"task":0,"seqno":1,"offset":1,"name":"snk","topic":"t","sinkTask":1,"flushed":true}`,
	}
	r := verifiableCheck(src, sink)
	if r.SourceLines != 3 || r.SinkLines != 3 || r.Duplicates != 1 {
		t.Fatalf("counted %d source, %d sink lines, %d duplicates; want 3, 3, 1", r.SourceLines, r.SinkLines, r.Duplicates)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "task 1: 1 seqnos not flushed by the sink (first [0])") {
		t.Fatalf("err = %v, want task 1's seqno 0 missing from the sink", err)
	}
	r = verifiableCheck(src[:3], sink)
	if err := r.Err(); err != nil {
		t.Fatalf("complete run: %v", err)
	}
	gap := verifiableCheck([]string{`{"task":2,"seqno":3,"committed":true}`}, nil)
	if got := gap.MissingSource[2]; len(got) != 3 {
		t.Fatalf("missing source seqnos %v, want [0 1 2]", got)
	}
	if verifiableCheck(nil, nil).Err() == nil {
		t.Fatal("an empty run passed")
	}
}

// TestJavaVerifiableKill is acceptance item 2 of issue 16: two Java Connect
// 4.4.0 workers on Samsa's broker run VerifiableSource -> topic ->
// VerifiableSink; one is killed with kill -9; its connectors and tasks move
// to the other; the sink flushes every seqno the source committed.
func TestJavaVerifiableKill(t *testing.T) {
	broker := javaStartBroker(t)
	adm := kadm.NewClient(broker.Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "verifiable"
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	// A lost worker is noticed after session.timeout.ms and its work is
	// reassigned after scheduled.rebalance.max.delay.ms (5 s here); its
	// sink task's consumer leaves the sink's group after the consumer's
	// session.timeout.ms (45 s by default, 10 s here).
	cfg := javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "connect-verifiable", Props: map[string]string{
		"session.timeout.ms": "6000", "heartbeat.interval.ms": "2000",
		"consumer.session.timeout.ms": "10000", "consumer.heartbeat.interval.ms": "3000",
	}}
	start := time.Now()
	ws := javaStartWorkers(t, cfg, cfg)
	a, b := ws[0], ws[1]
	t.Logf("two workers ready after %s", time.Since(start).Round(time.Millisecond))

	for _, c := range []string{
		`{"name":"vsrc","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSourceConnector","tasks.max":"2","topic":"` + topic + `","throughput":"200"}}`,
		`{"name":"vsink","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSinkConnector","tasks.max":"2","topics":"` + topic + `"}}`,
	} {
		javaPostRetry(t, b.URL+"/connectors", c)
	}
	for _, c := range []string{"vsrc", "vsink"} {
		javaWaitFor(t, a.URL+"/connectors/"+c+"/status", 90*time.Second, javaAllRunning(2))
	}
	// Let both workers run their share, then kill the one running more
	// (b if even), so something has to move.
	time.Sleep(5 * time.Second)
	victim, survivor := b, a
	if javaOwned(t, a.URL, a.ID) > javaOwned(t, a.URL, b.ID) {
		victim, survivor = a, b
	}
	owned := javaOwned(t, survivor.URL, victim.ID)
	if owned == 0 {
		t.Fatalf("worker %s runs no connector or task before the kill", victim.ID)
	}
	victim.Kill()
	killed := time.Now()
	t.Logf("killed %s (kill -9), which ran %d connectors and tasks", victim.ID, owned)
	for _, c := range []string{"vsrc", "vsink"} {
		javaWaitFor(t, survivor.URL+"/connectors/"+c+"/status", 120*time.Second, func(ans javaAnswer) bool {
			s, ok := javaDecodeStatus(ans)
			if !ok || !javaAllRunning(2)(ans) || s.Connector.WorkerID != survivor.ID {
				return false
			}
			for _, tk := range s.Tasks {
				if tk.WorkerID != survivor.ID {
					return false
				}
			}
			return true
		})
	}
	t.Logf("everything ran on %s %s after the kill", survivor.ID, time.Since(killed).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // the moved source tasks produce again
	if ans := javaCall(t, http.MethodPut, survivor.URL+"/connectors/vsrc/stop", ""); ans.Status != http.StatusNoContent {
		t.Fatalf("stop vsrc: %d %s", ans.Status, ans.Body)
	}

	// The sink flushes what the source committed within a few flush
	// intervals (offset.flush.interval.ms=1000).
	var r verifiableReport
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		lines := append(victim.JSONLines(t), survivor.JSONLines(t)...)
		r = verifiableCheck(lines, lines)
		if r.Err() == nil || time.Now().After(deadline) {
			break
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("the sink had flushed every committed seqno %s after the kill", time.Since(killed).Round(time.Millisecond))
	if len(r.Committed) != 2 {
		t.Fatalf("committed seqnos from source tasks %v, want tasks 0 and 1", r.Committed)
	}
	t.Logf("source committed up to %v (%d lines); sink flushed all of them (%d lines, %d duplicates after the kill)",
		r.Committed, r.SourceLines, r.SinkLines, r.Duplicates)
}

// javaOwned counts the connectors and tasks whose status names workerID.
func javaOwned(t *testing.T, url, workerID string) int {
	t.Helper()
	ans := javaCall(t, http.MethodGet, url+"/connectors?expand=status", "")
	var all map[string]struct {
		Status javaStatus `json:"status"`
	}
	if ans.Status != http.StatusOK || json.Unmarshal(ans.Body, &all) != nil {
		t.Fatalf("GET /connectors?expand=status: %d %s", ans.Status, ans.Body)
	}
	n := 0
	for _, c := range all {
		if c.Status.Connector.WorkerID == workerID {
			n++
		}
		for _, tk := range c.Status.Tasks {
			if tk.WorkerID == workerID {
				n++
			}
		}
	}
	return n
}

// javaPostRetry POSTs a connector, retrying the 409 a worker answers while
// the group rebalances (as Strimzi does), and expects 201.
func javaPostRetry(t *testing.T, url, body string) javaAnswer {
	t.Helper()
	var ans javaAnswer
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		ans = javaCall(t, http.MethodPost, url, body)
		if ans.Status != http.StatusConflict {
			break
		}
	}
	if ans.Status != http.StatusCreated {
		t.Fatalf("POST %s %s: %d %s", url, body, ans.Status, ans.Body)
	}
	return ans
}
