package restproxy

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Event, Data string
}

// readSSE reads events from a stream until n records or the stream ends.
func readSSE(t testing.TB, sc *bufio.Scanner, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Data != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.Data = line[6:]
		}
	}
	return out
}

// openStream opens GET records with an Accept and optional Last-Event-ID.
func openStream(t testing.TB, ctx context.Context, url, accept, lastID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Accept", accept)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// produceN produces n STRING records "v0".."v{n-1}" (keys "k<i>") through v3.
func produceN(t testing.TB, n *v3Node, topic string, from, count int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+count; i++ {
		fmt.Fprintf(&b, `{"key":{"type":"STRING","data":"k%d"},"value":{"type":"STRING","data":"v%d"},"headers":[{"name":"n","value":%q}]}`,
			i, i, base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(i))))
	}
	a := v3Call(t, "POST", n.C("/topics/"+topic+"/records"), b.String())
	if a.Status != 200 || strings.Count(string(a.Body), `"error_code":200`) != count {
		t.Fatalf("produce: %v", a)
	}
}

// TestV3ConsumeSSEResume reads a topic as server-sent events, drops the
// connection midway, resumes with Last-Event-ID and gets every record
// exactly once, including records produced while it was away.
func TestV3ConsumeSSEResume(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "sse", 3)
	produceN(t, n, "sse", 0, 300)
	url := n.C("/topics/sse/records?key_format=STRING&value_format=STRING")
	seen := map[string]int{}
	lastID := ""
	record := func(ev sseEvent) {
		var r struct {
			Topic     string `json:"topic_name"`
			Partition int    `json:"partition_id"`
			Offset    int    `json:"offset"`
			Key       struct{ Type, Data string }
			Value     struct{ Type, Data string }
			Headers   []struct{ Name, Value string }
			Timestamp string
		}
		if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
			t.Fatalf("event %q: %v", ev.Data, err)
		}
		if ev.Event != "record" || r.Topic != "sse" || r.Value.Type != "STRING" || r.Key.Data != "k"+r.Value.Data[1:] ||
			len(r.Headers) != 1 || r.Timestamp == "" {
			t.Fatalf("event %+v: %+v", ev, r)
		}
		if !strings.Contains(ev.ID, fmt.Sprintf("%d:%d", r.Partition, r.Offset)) {
			t.Fatalf("event id %q does not hold %d:%d", ev.ID, r.Partition, r.Offset)
		}
		seen[r.Value.Data]++
		lastID = ev.ID
	}
	for round, take := range []int{70, 90, 1000} {
		if round == 2 {
			produceN(t, n, "sse", 300, 50)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp := openStream(t, ctx, url, "text/event-stream", lastID)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		want := take
		if round == 2 {
			want = 350 - len(seen)
		}
		for _, ev := range readSSE(t, bufio.NewScanner(resp.Body), want) {
			record(ev)
		}
		t.Logf("round %d: lastID %q seen %d", round, lastID, len(seen))
		cancel() // drop the connection
		resp.Body.Close()
	}
	if len(seen) != 350 {
		t.Fatalf("%d distinct records, want 350", len(seen))
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("record %s delivered %d times", v, c)
		}
	}
}

// TestV3ConsumeNDJSON reads one partition as JSON lines from an offset,
// with max_records and timeout_ms ending the stream, from a timestamp,
// and the errors of bad parameters.
func TestV3ConsumeNDJSON(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "lines", 1)
	produceN(t, n, "lines", 0, 20)
	read := func(query string) []map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp := openStream(t, ctx, n.C("/topics/lines/records?"+query), "application/x-ndjson", "")
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var out []map[string]any
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, m)
		}
		return out
	}
	recs := read("partition_id=0&offset=5&max_records=10")
	if len(recs) != 10 || jsonInt(recs[0]["offset"]) != 5 || jsonInt(recs[9]["offset"]) != 14 {
		t.Fatalf("offset 5, 10 records: %v", recs)
	}
	v := recs[0]["value"].(map[string]any)
	if d, _ := base64.StdEncoding.DecodeString(v["data"].(string)); v["type"] != "BINARY" || string(d) != "v5" {
		t.Fatalf("value: %v", v)
	}
	if recs := read("offset=15&timeout_ms=500&value_format=JSON"); len(recs) != 5 {
		t.Fatalf("from 15 until idle: %d records", len(recs))
	} else if recs[0]["value"].(map[string]any)["type"] != "BINARY" { // v15 is not JSON
		t.Fatalf("not JSON shown as %v", recs[0]["value"])
	}
	if recs := read("timestamp=0&max_records=3"); len(recs) != 3 || jsonInt(recs[0]["offset"]) != 0 {
		t.Fatalf("from timestamp 0: %v", recs)
	}
	if recs := read("offset=latest&timeout_ms=300"); len(recs) != 0 {
		t.Fatalf("from latest: %v", recs)
	}
	// Without follow, JSON lines end at the end offsets the request found,
	// without waiting out timeout_ms.
	start := time.Now()
	if recs := read("offset=20&timeout_ms=5000"); len(recs) != 0 || time.Since(start) > 4*time.Second {
		t.Fatalf("at the end: %d records after %v", len(recs), time.Since(start))
	}
	start = time.Now()
	if recs := read("timeout_ms=5000"); len(recs) != 20 || time.Since(start) > 4*time.Second {
		t.Fatalf("to the end: %d records after %v", len(recs), time.Since(start))
	}
	// With follow, records produced meanwhile come too.
	done := make(chan []map[string]any, 1)
	go func() { done <- read("offset=18&follow=true&timeout_ms=3000") }()
	time.Sleep(500 * time.Millisecond)
	produceN(t, n, "lines", 20, 5)
	if recs := <-done; len(recs) != 7 || jsonInt(recs[6]["offset"]) != 24 {
		t.Fatalf("follow: %v", recs)
	}
	if recs := read("last_event_id=0:17&timeout_ms=500"); len(recs) != 2+5 {
		t.Fatalf("after 0:17: %v", recs)
	}
	for q, st := range map[string]int{
		"partition_id=9": 404, "partition_id=x": 400, "offset=-3": 400, "timeout_ms=0": 400, "timeout_ms=40000": 400,
		"timestamp=yesterday": 400, "max_records=many": 400, "follow=maybe": 400, "key_format=XML": 400, "last_event_id=zz": 400,
	} {
		v3ExpectError(t, v3Call(t, "GET", n.C("/topics/lines/records?"+q), ""), st)
	}
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/nope/records"), ""), 404)
}

// TestV3ConsumeGroupCommits reads as a group: from the start while it has
// committed nothing, then from the offsets committed explicitly.
func TestV3ConsumeGroupCommits(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "gc", 2)
	produceN(t, n, "gc", 0, 20)
	read := func(query string) []map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp := openStream(t, ctx, n.C("/topics/gc/records?"+query), "application/x-ndjson", "")
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var out []map[string]any
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				out = append(out, m)
			}
		}
		return out
	}
	if recs := read("group_id=readers&timeout_ms=500"); len(recs) != 20 {
		t.Fatalf("nothing committed: %d records", len(recs))
	}
	v3Expect(t, v3Call(t, "POST", n.C("/consumer-groups/readers/offsets"),
		`{"offsets":[{"topic_name":"gc","partition_id":0,"offset":3},{"topic_name":"gc","partition_id":1,"offset":1000}]}`), 204)
	recs := read("group_id=readers&timeout_ms=500")
	byPart := map[int]int{}
	for _, r := range recs {
		byPart[jsonInt(r["partition_id"])]++
		if jsonInt(r["partition_id"]) == 0 && jsonInt(r["offset"]) < 3 {
			t.Fatalf("read below the commit: %v", r)
		}
	}
	total := 0
	for _, r := range read("partition_id=0&timeout_ms=500") {
		_ = r
		total++
	}
	if byPart[0] != total-3 || byPart[1] != 0 {
		t.Fatalf("after commits: %v (partition 0 has %d)", byPart, total)
	}
	lags := v3Call(t, "GET", n.C("/consumer-groups/readers/lags"), "")
	v3Expect(t, lags, 200, "data")
	if len(lags.Data()) != 2 {
		t.Fatalf("lags of the simple group: %v", lags)
	}
	v3ExpectError(t, v3Call(t, "POST", n.C("/consumer-groups/readers/offsets"), `{"offsets":[]}`), 400)
	v3ExpectError(t, v3Call(t, "POST", n.C("/consumer-groups/readers/offsets"), `{"offsets":[{"topic_name":"gc","partition_id":0}]}`), 400)
	v3ExpectError(t, v3Call(t, "POST", n.C("/consumer-groups/readers/offsets"), `{"offsets":[{"topic_name":"nope","partition_id":0,"offset":1}]}`), 404)
}
