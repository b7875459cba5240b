package connect

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// distRebalanceDelay is scheduled.rebalance.max.delay.ms in the bounce
// tests: how long the group waits for a lost worker before giving its
// connectors and tasks to the others.
const distRebalanceDelay = 5 * time.Second

// distSessionTimeout is the workers' session.timeout.ms: how long a
// killed worker stays in the group before the leader notices it is gone.
const distSessionTimeout = 6 * time.Second

// distBounceConfig is the worker group of the bounce tests on broker
// bootstrap, for either implementation.
func distBounceConfig(bootstrap, group string) javaWorkerConfig {
	return javaWorkerConfig{Bootstrap: bootstrap, GroupID: group, Props: map[string]string{
		"session.timeout.ms":               fmt.Sprint(distSessionTimeout.Milliseconds()),
		"heartbeat.interval.ms":            "1000",
		"scheduled.rebalance.max.delay.ms": fmt.Sprint(distRebalanceDelay.Milliseconds()),
		"consumer.session.timeout.ms":      "10000", "consumer.heartbeat.interval.ms": "3000",
	}}
}

// TestDistVerifiableBounce is issue 16's acceptance item 5 (Distribution)
// and the "Kafka's own test connectors, side by side" check: a cluster of
// three workers, Samsa Connect's and then Java Connect 4.4.0's, both on
// one Samsa broker, runs VerifiableSource (3 tasks) -> topic ->
// VerifiableSink (3 tasks); every worker answers REST and connectors
// created through different workers (so at least one through a follower,
// forwarded to the leader) are visible on all; one worker is killed with
// kill -9; its connectors and tasks run on the others after the
// rebalance delay; and the same checker (verifiableCheck) finds every
// seqno the source committed flushed by the sink.
func TestDistVerifiableBounce(t *testing.T) {
	broker := javaStartBroker(t)
	impls := []struct {
		name  string
		start func(t *testing.T, cfg javaWorkerConfig) []distWorker
	}{
		{"samsa", func(t *testing.T, cfg javaWorkerConfig) []distWorker {
			p := distSamsaProps(cfg)
			var out []distWorker
			for _, w := range distStartSamsa(t, p, p, p) {
				out = append(out, w)
			}
			return out
		}},
		{"java", func(t *testing.T, cfg javaWorkerConfig) []distWorker {
			var out []distWorker
			for _, w := range javaStartWorkers(t, cfg, cfg, cfg) {
				out = append(out, w)
			}
			return out
		}},
	}
	results := map[string]verifiableReport{}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			topic := "dist-bounce-" + impl.name
			distCreateTopic(t, broker.Client(t), topic, 3)
			ws := impl.start(t, distBounceConfig(broker.Addr, "dist-bounce-"+impl.name))
			results[impl.name] = distVerifiableBounce(t, ws, topic)
		})
	}
	for name, r := range results {
		t.Logf("%s: source committed up to %v; sink flushed %d lines, %d duplicates", name, r.Committed, r.SinkLines, r.Duplicates)
	}
}

// distCreateTopic creates a topic with the given partitions.
func distCreateTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// distVerifiableBounce runs the bounce on a started cluster and returns
// the checker's report (the test has failed unless it passed).
func distVerifiableBounce(t *testing.T, ws []distWorker, topic string) verifiableReport {
	t.Helper()
	// Created through two different workers: at most one is the leader.
	distPost(t, http.MethodPost, ws[1].RESTURL()+"/connectors", `{"name":"vsrc","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSourceConnector","tasks.max":"3","topic":"`+topic+`","throughput":"200"}}`, http.StatusCreated)
	distPost(t, http.MethodPost, ws[2].RESTURL()+"/connectors", `{"name":"vsink","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSinkConnector","tasks.max":"3","topics":"`+topic+`"}}`, http.StatusCreated)
	for _, w := range ws {
		for _, c := range []string{"vsrc", "vsink"} {
			javaWaitFor(t, w.RESTURL()+"/connectors/"+c+"/status", 90*time.Second, javaAllRunning(3))
			// Java answers 500 "a rebalance is expected" for a moment
			// while its group settles; wait that out.
			javaWaitFor(t, w.RESTURL()+"/connectors/"+c+"/config", 60*time.Second, func(cfg javaAnswer) bool {
				m, _ := cfg.JSON.(map[string]any)
				return cfg.Status == http.StatusOK && m["tasks.max"] == "3"
			})
		}
		if l := javaCall(t, http.MethodGet, w.RESTURL()+"/connectors", ""); l.Status != http.StatusOK || !strings.Contains(string(l.Body), `"vsink"`) || !strings.Contains(string(l.Body), `"vsrc"`) {
			t.Fatalf("GET %s/connectors: %d %s", w.RESTURL(), l.Status, l.Body)
		}
	}
	// Samsa's workers log each write they forward: one of the two POSTs
	// went through a follower.
	forwarded, logged := 0, false
	for _, w := range ws {
		if l, ok := w.(interface{ Log() string }); ok {
			logged = true
			forwarded += strings.Count(l.Log(), `"forwarding request to the leader" method=POST path=/connectors leader=`)
		}
	}
	if logged && forwarded == 0 {
		t.Fatal("no worker forwarded a POST /connectors to the leader")
	}
	// A duplicate sent to any worker is refused by the leader.
	for _, w := range ws {
		distPost(t, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"vsrc","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSourceConnector","topic":"`+topic+`"}}`, http.StatusConflict)
	}
	time.Sleep(5 * time.Second) // every task runs a while where it is

	victim, survivors := distPickVictim(t, ws)
	before := distOwners(t, survivors[0].RESTURL())
	var moved []string
	for k, id := range before {
		if id == victim.WorkerID() {
			moved = append(moved, k)
		}
	}
	sort.Strings(moved)
	victim.Kill()
	killed := time.Now()
	t.Logf("killed %s (kill -9), which ran %v", victim.WorkerID(), moved)

	alive := map[string]bool{}
	for _, w := range survivors {
		alive[w.WorkerID()] = true
	}
	// The lost worker is noticed after session.timeout.ms and its work
	// given away after scheduled.rebalance.max.delay.ms; the bound adds
	// a generous allowance for a loaded machine (the measured time is
	// logged).
	bound := distSessionTimeout + distRebalanceDelay + 60*time.Second
	for _, c := range []string{"vsrc", "vsink"} {
		javaWaitFor(t, survivors[0].RESTURL()+"/connectors/"+c+"/status", bound, func(a javaAnswer) bool {
			s, ok := javaDecodeStatus(a)
			if !ok || !javaAllRunning(3)(a) || !alive[s.Connector.WorkerID] {
				return false
			}
			for _, tk := range s.Tasks {
				if !alive[tk.WorkerID] {
					return false
				}
			}
			return true
		})
	}
	t.Logf("%v ran on the survivors %s after the kill (session timeout %s + rebalance delay %s)",
		moved, time.Since(killed).Round(time.Millisecond), distSessionTimeout, distRebalanceDelay)
	after := distOwners(t, survivors[1].RESTURL())
	for _, k := range moved {
		if !alive[after[k]] {
			t.Fatalf("%s runs on %q after the kill", k, after[k])
		}
	}
	time.Sleep(3 * time.Second) // the moved source tasks produce again
	distPost(t, http.MethodPut, survivors[1].RESTURL()+"/connectors/vsrc/stop", "", http.StatusNoContent)

	// The sink flushes what the source committed; partitions the killed
	// worker's sink consumer held come back after the consumer's session
	// timeout.
	var r verifiableReport
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(time.Second) {
		var lines []string
		for _, w := range ws {
			lines = append(lines, w.Lines(t)...)
		}
		r = verifiableCheck(lines, lines)
		if r.Err() == nil || time.Now().After(deadline) {
			break
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(r.Committed) != 3 {
		t.Fatalf("committed seqnos from source tasks %v, want tasks 0, 1 and 2", r.Committed)
	}
	t.Logf("source committed up to %v (%d lines); the sink flushed every one (%d lines, %d duplicates after the kill), %s after the kill",
		r.Committed, r.SourceLines, r.SinkLines, r.Duplicates, time.Since(killed).Round(time.Millisecond))
	return r
}

// distPickVictim returns the worker running the most connectors and tasks
// (one runs at least one: there are eight) and the others.
func distPickVictim(t *testing.T, ws []distWorker) (distWorker, []distWorker) {
	t.Helper()
	owners := distOwners(t, ws[0].RESTURL())
	count := map[string]int{}
	for _, id := range owners {
		count[id]++
	}
	best := 0
	for i, w := range ws {
		if count[w.WorkerID()] > count[ws[best].WorkerID()] {
			best = i
		}
	}
	if count[ws[best].WorkerID()] == 0 {
		t.Fatalf("no worker runs anything: %v", owners)
	}
	var rest []distWorker
	for i, w := range ws {
		if i != best {
			rest = append(rest, w)
		}
	}
	return ws[best], rest
}
