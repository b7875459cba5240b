package restproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newConsumer creates a consumer instance and returns its base_uri.
func newConsumer(t testing.TB, url, group, body string) string {
	t.Helper()
	a := call(t, "POST", url+"/consumers/"+group, body, ctV2, "")
	expect(t, "create consumer", a, 200, ctV2, 0, "instance_id", "base_uri")
	base := a.Map()["base_uri"].(string)
	if !strings.HasPrefix(base, url+"/consumers/"+group+"/instances/") {
		t.Fatalf("base_uri %q does not start with the proxy's URL %s", base, url)
	}
	return base
}

// readRecords GETs records until it has want (or fails after a while).
func readRecords(t testing.TB, base, accept string, want int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for deadline := time.Now().Add(30 * time.Second); len(out) < want; {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d records from %s", len(out), want, base)
		}
		a := call(t, "GET", base+"/records?timeout=3000", "", "", accept)
		if a.Status != 200 {
			t.Fatalf("GET records: %s", a)
		}
		for _, r := range a.List() {
			out = append(out, r.(map[string]any))
		}
	}
	if len(out) != want {
		t.Fatalf("read %d records, want %d", len(out), want)
	}
	return out
}

// TestV2ConsumerGroupFlow: create, subscribe, read (the first GET waits
// for the assignment), commit, committed offsets, seek (offset,
// timestamp, beginning, end), the conflicts, and delete (leaving the
// group).
func TestV2ConsumerGroupFlow(t *testing.T) {
	bootstrap, url := startNode(t)
	createTopic(t, bootstrap, "events", 2, nil)
	start := time.Now().Add(-time.Second)
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Topic: "events", Partition: int32(i % 2), Key: []byte(fmt.Sprintf("k%d", i)),
			Value: []byte(fmt.Sprintf("v%d", i)), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("hv")}}})
	}
	produceFranz(t, bootstrap, recs...)

	base := newConsumer(t, url, "g1", `{"name":"c1","format":"binary","auto.offset.reset":"earliest","auto.commit.enable":"false"}`)
	expect(t, "duplicate consumer", call(t, "POST", url+"/consumers/g1", `{"name":"c1"}`, ctV2, ""), 409, ctV2, 40902)
	expect(t, "records before subscribing", call(t, "GET", base+"/records", "", "", ""), 409, ctV2, 40903)
	if a := call(t, "POST", base+"/subscription", `{"topics":["events"]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("subscribe: %s", a)
	}
	a := call(t, "GET", base+"/subscription", "", "", "")
	expect(t, "subscription", a, 200, ctV2, 0, "topics")
	if l := a.Map()["topics"].([]any); len(l) != 1 || l[0] != "events" {
		t.Fatalf("subscription: %s", a)
	}
	// The first GET waits through the group join and returns records.
	first := call(t, "GET", base+"/records?timeout=15000", "", "", ctBinary)
	if first.Status != 200 || first.ContentType != ctBinary || len(first.List()) == 0 {
		t.Fatalf("first GET records: %s", first)
	}
	got := first.List()
	for len(got) < 10 {
		a := call(t, "GET", base+"/records?timeout=2000", "", "", "")
		if a.Status != 200 {
			t.Fatalf("GET records: %s", a)
		}
		got = append(got, a.List()...)
	}
	for _, r := range got {
		m := r.(map[string]any)
		for _, k := range []string{"topic", "key", "value", "partition", "offset", "timestamp", "headers"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("record lacks %q: %v", k, m)
			}
		}
		ts := time.UnixMilli(int64(m["timestamp"].(float64)))
		hs := m["headers"].([]any)
		if ts.Before(start) || len(hs) != 1 || hs[0].(map[string]any)["key"] != "h" || hs[0].(map[string]any)["value"] != b64("hv") {
			t.Fatalf("record timestamp/headers: %v", m)
		}
		if !strings.HasPrefix(m["value"].(string), b64("v")[:1]) {
			t.Fatalf("binary value not base64: %v", m)
		}
	}
	a = call(t, "GET", base+"/assignments", "", "", "")
	expect(t, "assignments", a, 200, ctV2, 0, "partitions")
	if len(a.Map()["partitions"].([]any)) != 2 {
		t.Fatalf("assignments: %s", a)
	}
	// Format mismatch on read: 406/40601.
	expect(t, "format mismatch", call(t, "GET", base+"/records", "", "", ctJSON), 406, ctV2, 40601)
	// Assign after subscribe, seek on an unassigned partition: 409/40903.
	expect(t, "assign after subscribe", call(t, "POST", base+"/assignments", `{"partitions":[{"topic":"events","partition":0}]}`, ctV2, ""), 409, ctV2, 40903)
	expect(t, "seek unassigned", call(t, "POST", base+"/positions", `{"offsets":[{"topic":"events","partition":9,"offset":0}]}`, ctV2, ""), 409, ctV2, 40903)

	// Commit everything returned; the committed offsets are the ends.
	if a := call(t, "POST", base+"/offsets", "", ctV2, ""); a.Status != 200 {
		t.Fatalf("commit: %s", a)
	}
	parts := `{"partitions":[{"topic":"events","partition":0},{"topic":"events","partition":1}]}`
	a = call(t, "GET", base+"/offsets", parts, ctV2, "")
	expect(t, "committed", a, 200, ctV2, 0, "offsets")
	committed := committedMap(a)
	if committed[0] != 5 || committed[1] != 5 {
		t.Fatalf("committed after commit-all: %s", a)
	}
	// Explicit offsets: the last processed record's, so +1 is committed.
	if a := call(t, "POST", base+"/offsets", `{"offsets":[{"topic":"events","partition":0,"offset":1}]}`, ctV2, ""); a.Status != 200 {
		t.Fatalf("commit explicit: %s", a)
	}
	if c := committedMap(call(t, "GET", base+"/offsets", parts, ctV2, "")); c[0] != 2 || c[1] != 5 {
		t.Fatalf("committed after explicit commit: %v", c)
	}
	// The group's offsets as Kafka sees them.
	if c := kafkaCommitted(t, bootstrap, "g1"); c[0] != 2 || c[1] != 5 {
		t.Fatalf("Kafka's committed offsets of g1: %v", c)
	}

	// Seek to an offset, re-read from there.
	if a := call(t, "POST", base+"/positions", `{"offsets":[{"topic":"events","partition":0,"offset":3}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("seek: %s", a)
	}
	again := readRecords(t, base, "", 2)
	if again[0]["partition"] != 0.0 || again[0]["offset"] != 3.0 || again[1]["offset"] != 4.0 {
		t.Fatalf("after seek: %v", again)
	}
	// To the beginning of partition 1: its five records again.
	if a := call(t, "POST", base+"/positions/beginning", `{"partitions":[{"topic":"events","partition":1}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("seek beginning: %s", a)
	}
	if again := readRecords(t, base, "", 5); again[0]["partition"] != 1.0 || again[0]["offset"] != 0.0 {
		t.Fatalf("after seek to beginning: %v", again)
	}
	// By timestamp: everything is after start, so offset 0 of partition 0.
	ts := start.UTC().Format("2006-01-02T15:04:05.000Z0700")
	if a := call(t, "POST", base+"/positions", `{"timestamps":[{"topic":"events","partition":0,"timestamp":"`+ts+`"}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("seek by timestamp: %s", a)
	}
	if again := readRecords(t, base, "", 5); again[0]["partition"] != 0.0 || again[0]["offset"] != 0.0 {
		t.Fatalf("after seek by timestamp: %v", again)
	}
	// To the end: nothing more to read.
	if a := call(t, "POST", base+"/positions/end", parts, ctV2, ""); a.Status != 204 {
		t.Fatalf("seek end: %s", a)
	}
	if a := call(t, "GET", base+"/records?timeout=500", "", "", ""); a.Status != 200 || len(a.List()) != 0 {
		t.Fatalf("after seek to end: %s", a)
	}

	// A commit from outside the group while it has a member: Kafka
	// refuses it (unknown member, not retriable): 500/50002.
	other := newConsumer(t, url, "g1", `{"name":"c2"}`)
	if a := call(t, "POST", other+"/assignments", `{"partitions":[{"topic":"events","partition":0}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("assign c2: %s", a)
	}
	expect(t, "commit outside the group", call(t, "POST", other+"/offsets", `{"offsets":[{"topic":"events","partition":0,"offset":0}]}`, ctV2, ""), 500, ctV2, 50002)
	if a := call(t, "DELETE", other, "", "", ""); a.Status != 204 {
		t.Fatalf("delete c2: %s", a)
	}

	// Delete: the instance is gone and has left the group.
	if a := call(t, "DELETE", base, "", "", ""); a.Status != 204 {
		t.Fatalf("delete: %s", a)
	}
	expect(t, "deleted instance", call(t, "GET", base+"/records", "", "", ""), 404, ctV2, 40403)
	expect(t, "deleted instance subscription", call(t, "GET", base+"/subscription", "", "", ""), 404, ctV2, 40403)
	if n := groupMembers(t, bootstrap, "g1"); n != 0 {
		t.Fatalf("g1 has %d members after delete", n)
	}
}

func committedMap(a answer) map[int32]int64 {
	out := map[int32]int64{}
	for _, o := range a.Map()["offsets"].([]any) {
		m := o.(map[string]any)
		out[int32(m["partition"].(float64))] = int64(m["offset"].(float64))
	}
	return out
}

func admin(t testing.TB, bootstrap string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func kafkaCommitted(t testing.TB, bootstrap, group string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	os, err := admin(t, bootstrap).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	os.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
	return out
}

func groupMembers(t testing.TB, bootstrap, group string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gs, err := admin(t, bootstrap).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	return len(gs[group].Members)
}

// TestV2ConsumerAssignMaxBytes: a manually assigned instance, max_bytes
// below one record's size (nothing) and at it (one record), a pattern
// subscription, and records that do not deserialize (422).
func TestV2ConsumerAssignMaxBytes(t *testing.T) {
	bootstrap, url := startNode(t)
	createTopic(t, bootstrap, "mb", 1, nil)
	createTopic(t, bootstrap, "pat-a", 1, nil)
	produceFranz(t, bootstrap,
		&kgo.Record{Topic: "mb", Value: []byte("0123456789")},
		&kgo.Record{Topic: "mb", Value: []byte("abcdefghij")},
		&kgo.Record{Topic: "mb", Value: []byte("not json")},
		&kgo.Record{Topic: "pat-a", Value: []byte(`{"ok":true}`)})

	base := newConsumer(t, url, "g2", `{"format":"binary","auto.offset.reset":"earliest"}`)
	if a := call(t, "POST", base+"/assignments", `{"partitions":[{"topic":"mb","partition":0}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("assign: %s", a)
	}
	expect(t, "subscribe after assign", call(t, "POST", base+"/subscription", `{"topics":["mb"]}`, ctV2, ""), 409, ctV2, 40903)
	a := call(t, "GET", base+"/assignments", "", "", "")
	if l := a.Map()["partitions"].([]any); len(l) != 1 || l[0].(map[string]any)["topic"] != "mb" {
		t.Fatalf("assignments: %s", a)
	}
	// Below one record's size: nothing, even after the data arrived.
	for i := 0; i < 3; i++ {
		a = call(t, "GET", base+"/records?timeout=2000&max_bytes=5", "", "", "")
		if a.Status != 200 || len(a.List()) != 0 {
			t.Fatalf("max_bytes=5: %s", a)
		}
	}
	a = call(t, "GET", base+"/records?timeout=2000&max_bytes=15", "", "", "")
	if a.Status != 200 || len(a.List()) != 1 || a.List()[0].(map[string]any)["value"] != b64("0123456789") {
		t.Fatalf("max_bytes=15: %s", a)
	}
	rest := readRecords(t, base, "", 2)
	if rest[0]["offset"] != 1.0 || rest[1]["offset"] != 2.0 {
		t.Fatalf("after max_bytes: %v", rest)
	}
	// Commit explicitly outside a group membership; Kafka has it.
	if a := call(t, "POST", base+"/offsets", `{"offsets":[{"topic":"mb","partition":0,"offset":2}]}`, ctV2, ""); a.Status != 200 {
		t.Fatalf("commit assigned: %s", a)
	}
	if c := kafkaCommitted(t, bootstrap, "g2"); c[0] != 3 {
		t.Fatalf("g2 committed: %v", c)
	}

	// json format: a record that is not JSON is 422, never 500; the
	// records before it come first.
	js := newConsumer(t, url, "g3", `{"name":"j","format":"json","auto.offset.reset":"earliest"}`)
	call(t, "POST", js+"/assignments", `{"partitions":[{"topic":"mb","partition":0}]}`, ctV2, "")
	if a := call(t, "POST", js+"/positions", `{"offsets":[{"topic":"mb","partition":0,"offset":2}]}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("seek json consumer: %s", a)
	}
	var bad answer
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if bad = call(t, "GET", js+"/records?timeout=2000", "", "", ctJSON); bad.Status != 200 {
			break
		}
	}
	expect(t, "undecodable record", bad, 422, ctV2, 0)
	if bad.ErrorCode()/100 != 422 {
		t.Fatalf("undecodable record error_code %d", bad.ErrorCode())
	}

	// A pattern subscription finds pat-a; json values come back as JSON.
	pat := newConsumer(t, url, "g4", `{"format":"json","auto.offset.reset":"earliest"}`)
	if a := call(t, "POST", pat+"/subscription", `{"topic_pattern":"pat-.*"}`, ctV2, ""); a.Status != 204 {
		t.Fatalf("pattern subscribe: %s", a)
	}
	r := readRecords(t, pat, ctJSON, 1)[0]
	if v, _ := json.Marshal(r["value"]); string(v) != `{"ok":true}` || r["topic"] != "pat-a" {
		t.Fatalf("pattern record: %v", r)
	}
	if a := call(t, "GET", pat+"/subscription", "", "", ""); !containsAny(a.Map()["topics"].([]any), "pat-a") {
		t.Fatalf("pattern subscription: %s", a)
	}
	expect(t, "subscribe topics and pattern", call(t, "POST", pat+"/subscription", `{"topics":["a"],"topic_pattern":"b"}`, ctV2, ""), 409, ctV2, 40903)
	if a := call(t, "DELETE", pat+"/subscription", "", "", ""); a.Status != 204 {
		t.Fatalf("unsubscribe: %s", a)
	}
	if a := call(t, "GET", pat+"/subscription", "", "", ""); len(a.Map()["topics"].([]any)) != 0 {
		t.Fatalf("subscription after unsubscribe: %s", a)
	}

	// A subscription to a topic that does not exist reads nothing.
	ghost := newConsumer(t, url, "g5", ``)
	call(t, "POST", ghost+"/subscription", `{"topics":["ghost"]}`, ctV2, "")
	if a := call(t, "GET", ghost+"/records?timeout=1500", "", "", ""); a.Status != 200 || len(a.List()) != 0 {
		t.Fatalf("records of a missing topic: %s", a)
	}
	// DELETE while a GET waits (60 s): both end at once.
	got := make(chan int, 1)
	go func() { // ends with the request, received below
		resp, err := http.Get(ghost + "/records?timeout=60000")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	time.Sleep(500 * time.Millisecond)
	began := time.Now()
	if a := call(t, "DELETE", ghost, "", "", ""); a.Status != 204 {
		t.Fatalf("delete during GET: %s", a)
	}
	select {
	case status := <-got:
		if status != 200 && status != 404 {
			t.Fatalf("GET ended by delete: %d", status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GET records still waiting 10 s after its instance was deleted")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("delete during GET took %v", took)
	}
}
