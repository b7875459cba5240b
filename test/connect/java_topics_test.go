package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicsRecord is one record of a Connect internal topic as the dump keeps
// it: key and value as the text the worker wrote (JSON), a null value as
// nil (a tombstone).
type topicsRecord struct {
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Key       string  `json:"key"`
	Value     *string `json:"value"`
}

// topicsDump is one internal topic: its role (config, offset, status), its
// partition count and cleanup.policy, and its records in partition and
// offset order.
type topicsDump struct {
	Role          string         `json:"role"`
	Topic         string         `json:"topic"`
	Partitions    int            `json:"partitions"`
	CleanupPolicy string         `json:"cleanup.policy"`
	Records       []topicsRecord `json:"records"`
}

// javaDumpTopics reads the three internal topics of the workers whose
// topics start with prefix (javaWorkerConfig's names) from the beginning to
// their current end.
func javaDumpTopics(t *testing.T, cl *kgo.Client, prefix string) []topicsDump {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	var dumps []topicsDump
	for _, role := range []string{"config", "offset", "status"} {
		topic := prefix + "-" + map[string]string{"config": "configs", "offset": "offsets", "status": "status"}[role]
		d := topicsDump{Role: role, Topic: topic}
		cfgs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatalf("describe configs of %s: %v", topic, err)
		}
		if c, err := cfgs.On(topic, nil); err == nil {
			for _, kv := range c.Configs {
				if kv.Key == "cleanup.policy" && kv.Value != nil {
					d.CleanupPolicy = *kv.Value
				}
			}
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatalf("end offsets of %s: %v", topic, err)
		}
		want := map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			d.Partitions++
			if o.Offset > 0 {
				want[o.Partition] = o.Offset
			}
		})
		d.Records = javaReadTopic(ctx, t, cl.OptValue(kgo.SeedBrokers).([]string), topic, want)
		dumps = append(dumps, d)
	}
	return dumps
}

// javaReadTopic consumes topic from the start until every partition in
// ends has been read up to its end offset.
func javaReadTopic(ctx context.Context, t *testing.T, seeds []string, topic string, ends map[int32]int64) []topicsRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []topicsRecord
	read := map[int32]int64{}
	done := func() bool {
		for p, end := range ends {
			if read[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (read %v of %v)", topic, ctx.Err(), read, ends)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			tr := topicsRecord{Partition: r.Partition, Offset: r.Offset, Key: string(r.Key)}
			if r.Value != nil {
				v := string(r.Value)
				tr.Value = &v
			}
			recs = append(recs, tr)
			read[r.Partition] = r.Offset + 1
		})
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	return recs
}

// TestJavaTopics has Java Connect 4.4.0 write its three internal topics on
// Samsa's broker (a running source with committed offsets, one created
// PAUSED, one STOPPED with offsets patched, a sink, a restart request and a
// deleted connector), dumps them and checks the keys and value formats
// there, and against testdata/java_topics_golden.json, the sample of real
// Java output the store codecs are checked against (SAMSA_UPDATE_GOLDEN=1
// rewrites it).
func TestJavaTopics(t *testing.T) {
	broker := javaStartBroker(t)
	const group, topic = "connect-topics", "topics-data"
	w := javaStartWorker(t, javaWorkerConfig{Bootstrap: broker.Addr, GroupID: group})
	src := func(name, extra string) string {
		return `{"name":"` + name + `","config":{"connector.class":"` + restVSource + `","tasks.max":"2","topic":"` + topic + `","throughput":"20"}` + extra + `}`
	}
	javaPostRetry(t, w.URL+"/connectors", src("src", ""))
	javaPostRetry(t, w.URL+"/connectors", `{"name":"snk","config":{"connector.class":"`+restVSink+`","tasks.max":"1","topics":"`+topic+`"}}`)
	javaPostRetry(t, w.URL+"/connectors", src("paused", `,"initial_state":"PAUSED"`))
	javaPostRetry(t, w.URL+"/connectors", src("stopped", ""))
	javaPostRetry(t, w.URL+"/connectors", src("gone", ""))
	for _, c := range []string{"src", "stopped", "gone"} {
		javaWaitFor(t, w.URL+"/connectors/"+c+"/status", 60*time.Second, javaAllRunning(2))
	}
	javaWaitFor(t, w.URL+"/connectors/snk/status", 60*time.Second, javaAllRunning(1))
	javaRequest(t, http.MethodPut, w.URL+"/connectors/stopped/stop", "", http.StatusNoContent)
	javaWaitFor(t, w.URL+"/connectors/stopped/status", 60*time.Second, func(a javaAnswer) bool {
		s, ok := javaDecodeStatus(a)
		return ok && s.Connector.State == "STOPPED"
	})
	javaRequest(t, http.MethodPatch, w.URL+"/connectors/stopped/offsets",
		`{"offsets":[{"partition":{"id":0},"offset":{"seqno":41}},{"partition":{"id":1},"offset":{"seqno":42}}]}`, http.StatusOK)
	javaRequest(t, http.MethodDelete, w.URL+"/connectors/gone", "", http.StatusNoContent)
	javaRequest(t, http.MethodPost, w.URL+"/connectors/src/restart?includeTasks=true", "", http.StatusAccepted)
	javaWaitFor(t, w.URL+"/connectors/src/status", 60*time.Second, javaAllRunning(2))
	// Offsets are flushed every second; topic tracking writes when a task
	// first uses a topic.
	javaWaitFor(t, w.URL+"/connectors/src/offsets", 30*time.Second, func(a javaAnswer) bool {
		var o struct{ Offsets []any }
		return a.Status == http.StatusOK && json.Unmarshal(a.Body, &o) == nil && len(o.Offsets) == 2
	})
	javaWaitFor(t, w.URL+"/connectors/snk/topics", 30*time.Second, func(a javaAnswer) bool {
		return a.Status == http.StatusOK && strings.Contains(string(a.Body), topic)
	})

	dumps := javaDumpTopics(t, broker.Client(t), group)
	topicsCheck(t, dumps, topic)

	golden := filepath.Join("testdata", "java_topics_golden.json")
	if os.Getenv("SAMSA_UPDATE_GOLDEN") == "1" {
		b, err := json.MarshalIndent(dumps, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", golden)
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (SAMSA_UPDATE_GOLDEN=1 writes it)", err)
	}
	var want []topicsDump
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	topicsCheck(t, want, topic)
	for i := range want {
		if got, exp := topicsKeySet(dumps[i]), topicsKeySet(want[i]); got != exp {
			t.Errorf("%s topic keys now:\n%s\ngolden:\n%s", want[i].Role, got, exp)
		}
	}
}

// javaRequest sends one request and fails the test unless it answers want.
func javaRequest(t *testing.T, method, url, body string, want int) javaAnswer {
	t.Helper()
	a := javaCall(t, method, url, body)
	if a.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, a.Status, a.Body, want)
	}
	return a
}

// topicsKeySet is the sorted distinct kinds of key of a dump, one per
// line: the key with its connector name (and status-topic's topic) left
// out, as "task-*", "status-topic-*:connector-*" or `["*",{"id"}]`, so
// runs whose timing wrote a few more keys of a kind compare equal.
func topicsKeySet(d topicsDump) string {
	set := map[string]bool{}
	for _, r := range d.Records {
		set[topicsKeyKind(r.Key)] = true
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}

func topicsKeyKind(key string) string {
	var arr []json.RawMessage
	if json.Unmarshal([]byte(key), &arr) == nil && len(arr) == 2 {
		var part map[string]any
		_ = json.Unmarshal(arr[1], &part)
		names := make([]string, 0, len(part))
		for k := range part {
			names = append(names, `"`+k+`"`)
		}
		sort.Strings(names)
		return `["*",{` + strings.Join(names, ",") + `}]`
	}
	for _, p := range []string{"status-topic-", "status-connector-", "status-task-", "connector-", "task-",
		"commit-", "target-state-", "restart-connector-", "tasks-fencing-"} {
		if strings.HasPrefix(key, p) {
			if p == "status-topic-" {
				return "status-topic-*:connector-*"
			}
			return p + "*"
		}
	}
	return key
}

// topicsLatest maps each key of a dump to its last value ("" for a
// tombstone) and says which keys had a tombstone last.
func topicsLatest(d topicsDump) (map[string]string, map[string]bool) {
	last, tomb := map[string]string{}, map[string]bool{}
	for _, r := range d.Records {
		if r.Value == nil {
			last[r.Key], tomb[r.Key] = "", true
			continue
		}
		last[r.Key], tomb[r.Key] = *r.Value, false
	}
	return last, tomb
}

// topicsCheck checks the keys and value formats Kafka Connect documents for
// its internal topics (what internal/connect/store must read and write).
func topicsCheck(t *testing.T, dumps []topicsDump, dataTopic string) {
	t.Helper()
	if len(dumps) != 3 {
		t.Fatalf("%d topics dumped, want 3", len(dumps))
	}
	parts := map[string]int{"config": 1, "offset": 25, "status": 5}
	for _, d := range dumps {
		if d.Partitions != parts[d.Role] {
			t.Errorf("%s topic %s has %d partitions, want %d", d.Role, d.Topic, d.Partitions, parts[d.Role])
		}
		if d.CleanupPolicy != "compact" {
			t.Errorf("%s topic %s cleanup.policy %q, want compact", d.Role, d.Topic, d.CleanupPolicy)
		}
	}
	topicsCheckConfig(t, dumps[0])
	topicsCheckOffsets(t, dumps[1])
	topicsCheckStatus(t, dumps[2], dataTopic)
}

func topicsCheckConfig(t *testing.T, d topicsDump) {
	t.Helper()
	last, tomb := topicsLatest(d)
	for _, k := range []string{
		"connector-src", "connector-snk", "connector-paused", "connector-stopped",
		"task-src-0", "task-src-1", "task-snk-0", "commit-src", "commit-snk",
		"target-state-paused", "target-state-stopped", "session-key", "restart-connector-src",
	} {
		if _, ok := last[k]; !ok {
			t.Errorf("config topic: no %q", k)
		}
	}
	if !tomb["connector-gone"] {
		t.Errorf("config topic: connector-gone not deleted by a tombstone")
	}
	// Values are JSON objects without JsonConverter's schema envelope (the
	// worker's internal converter has schemas.enable=false). A STOPPED
	// target state keeps "state":"PAUSED" for workers that predate STOPPED.
	want := map[string][]string{
		"connector-src":         {"properties"},
		"task-src-0":            {"properties"},
		"commit-src":            {"tasks"},
		"target-state-paused":   {"state", "state.v2"},
		"target-state-stopped":  {"state", "state.v2"},
		"session-key":           {"algorithm", "creation-timestamp", "key"},
		"restart-connector-src": {"include-tasks", "only-failed"},
	}
	for k, keys := range want {
		topicsCheckObject(t, "config topic "+k, last[k], keys)
	}
	for k, frag := range map[string]string{
		"commit-src":            `{"tasks":2}`,
		"target-state-paused":   `{"state":"PAUSED","state.v2":"PAUSED"}`,
		"target-state-stopped":  `{"state":"PAUSED","state.v2":"STOPPED"}`,
		"restart-connector-src": `{"include-tasks":true,"only-failed":false}`,
	} {
		if last[k] != frag {
			t.Errorf("config topic %s: %s, want %s", k, last[k], frag)
		}
	}
	if !strings.Contains(last["task-src-0"], `"task.class":"org.apache.kafka.connect.tools.VerifiableSourceTask"`) {
		t.Errorf("config topic task-src-0: %s has no task.class", last["task-src-0"])
	}
}

// topicsCheckObject checks that v is a JSON object with exactly keys.
func topicsCheckObject(t *testing.T, what, v string, keys []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		t.Errorf("%s: %q is not a JSON object: %v", what, v, err)
		return
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(keys, " ") {
		t.Errorf("%s: keys %v, want %v (%s)", what, got, keys, v)
	}
}

func topicsCheckOffsets(t *testing.T, d topicsDump) {
	t.Helper()
	last, _ := topicsLatest(d)
	for _, k := range []string{`["src",{"id":0}]`, `["src",{"id":1}]`, `["stopped",{"id":0}]`, `["stopped",{"id":1}]`} {
		v, ok := last[k]
		if !ok {
			t.Errorf("offset topic: no key %s", k)
			continue
		}
		var off map[string]any
		if err := json.Unmarshal([]byte(v), &off); err != nil || off["seqno"] == nil {
			t.Errorf("offset topic %s: value %q is not a schemaless {\"seqno\":n}", k, v)
		}
	}
	if last[`["stopped",{"id":0}]`] != `{"seqno":41}` || last[`["stopped",{"id":1}]`] != `{"seqno":42}` {
		t.Errorf("offset topic: the patched offsets of stopped are %s and %s", last[`["stopped",{"id":0}]`], last[`["stopped",{"id":1}]`])
	}
	for _, r := range d.Records {
		if want := clustertest.KeyPartition([]byte(r.Key), d.Partitions); want != r.Partition {
			t.Errorf("offset topic: key %s in partition %d, murmur2 says %d", r.Key, r.Partition, want)
		}
	}
}

func topicsCheckStatus(t *testing.T, d topicsDump, dataTopic string) {
	t.Helper()
	last, tomb := topicsLatest(d)
	for _, k := range []string{
		"status-connector-src", "status-task-src-0", "status-task-src-1",
		"status-connector-snk", "status-task-snk-0", "status-connector-paused", "status-connector-stopped",
		fmt.Sprintf("status-topic-%s:connector-src", dataTopic), fmt.Sprintf("status-topic-%s:connector-snk", dataTopic),
	} {
		if _, ok := last[k]; !ok {
			t.Errorf("status topic: no %q", k)
		}
	}
	if !tomb["status-connector-gone"] {
		t.Errorf("status topic: status-connector-gone not deleted by a tombstone")
	}
	for _, k := range []string{"status-connector-src", "status-task-src-0"} {
		topicsCheckObject(t, "status topic "+k, last[k], []string{"generation", "state", "trace", "version", "worker_id"})
		if !strings.Contains(last[k], `"state":"RUNNING"`) {
			t.Errorf("status topic %s: %s, want RUNNING", k, last[k])
		}
	}
	topicsCheckObject(t, "status topic status-topic-"+dataTopic+":connector-src",
		last["status-topic-"+dataTopic+":connector-src"], []string{"topic"})
	if !strings.Contains(last["status-connector-stopped"], `"state":"STOPPED"`) {
		t.Errorf("status topic: status-connector-stopped is %q", last["status-connector-stopped"])
	}
}
