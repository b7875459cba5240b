package restproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// v3Topic creates a topic through v3 and waits until it is visible.
func v3Topic(t testing.TB, n *v3Node, name string, partitions int) {
	t.Helper()
	v3Expect(t, v3Call(t, "POST", n.C("/topics"),
		fmt.Sprintf(`{"topic_name":%q,"partitions_count":%d,"replication_factor":1}`, name, partitions)), 201)
	waitFor(t, func() bool { return v3Call(t, "GET", n.C("/topics/"+name), "").Status == 200 })
}

// TestV3Produce produces single records of every plain type through v3,
// checks the delivery reports and reads the records back with franz-go;
// then records:batch and the errors of bad input.
func TestV3Produce(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "p3", 3)
	url := n.C("/topics/p3/records")
	b64 := base64.StdEncoding.EncodeToString
	cases := []struct {
		body       string
		key, value []byte
		partition  int32 // -1: any
		kt, vt     string
	}{
		{fmt.Sprintf(`{"partition_id":1,"headers":[{"name":"h1","value":%q}],"key":{"type":"BINARY","data":%q},"value":{"type":"BINARY","data":%q}}`,
			b64([]byte("hv")), b64([]byte("k1")), b64([]byte{0, 1, 2, 255})), []byte("k1"), []byte{0, 1, 2, 255}, 1, "BINARY", "BINARY"},
		{`{"partition_id":2,"key":{"type":"STRING","data":"k2"},"value":{"type":"JSON","data":{"a": [1, 2], "b": null}}}`,
			[]byte("k2"), []byte(`{"a":[1,2],"b":null}`), 2, "STRING", "JSON"},
		{`{"value":{"data":"plain"},"timestamp":"2024-01-02T03:04:05.006Z"}`, nil, []byte(`"plain"`), -1, "", "JSON"},
		{`{"partition_id":0,"key":{"type":"STRING","data":"k4"}}`, []byte("k4"), nil, 0, "STRING", ""},
	}
	for i, c := range cases {
		rep := v3Expect(t, v3Call(t, "POST", url, c.body), 200,
			"error_code", "cluster_id", "topic_name", "partition_id", "offset", "timestamp", "key", "value")
		if jsonInt(rep["error_code"]) != 200 || rep["topic_name"] != "p3" || rep["cluster_id"] != n.CID {
			t.Fatalf("case %d: report %v", i, rep)
		}
		if c.partition >= 0 && jsonInt(rep["partition_id"]) != int(c.partition) {
			t.Fatalf("case %d: partition %v, want %d", i, rep["partition_id"], c.partition)
		}
		checkInfo := func(what string, typ string, data []byte) {
			info, _ := rep[what].(map[string]any)
			if typ == "" {
				if rep[what] != nil {
					t.Fatalf("case %d: %s %v, want null", i, what, rep[what])
				}
				return
			}
			if info["type"] != typ || jsonInt(info["size"]) != len(data) {
				t.Fatalf("case %d: %s %v, want %s of %d bytes", i, what, info, typ, len(data))
			}
		}
		checkInfo("key", c.kt, c.key)
		checkInfo("value", c.vt, c.value)
	}
	recs := v3ReadAll(t, n, "p3", len(cases))
	byKey := map[string]*kgo.Record{}
	for _, r := range recs {
		byKey[string(r.Key)+"/"+string(r.Value)] = r
	}
	for i, c := range cases {
		r := byKey[string(c.key)+"/"+string(c.value)]
		if r == nil {
			t.Fatalf("case %d: record key %q value %q not read back; read %v", i, c.key, c.value, recs)
		}
		if c.partition >= 0 && r.Partition != c.partition {
			t.Fatalf("case %d: read from partition %d", i, r.Partition)
		}
		if i == 0 && (len(r.Headers) != 1 || r.Headers[0].Key != "h1" || string(r.Headers[0].Value) != "hv") {
			t.Fatalf("headers: %v", r.Headers)
		}
		if i == 2 && r.Timestamp.UnixMilli() != time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC).UnixMilli() {
			t.Fatalf("timestamp: %v", r.Timestamp)
		}
		if c.value == nil && r.Value != nil {
			t.Fatalf("case %d: value %q, want null", i, r.Value)
		}
	}

	// records:batch.
	batch := `{"entries":[{"id":"a","value":{"type":"STRING","data":"one"}},` +
		`{"id":"b","partition_id":7,"value":{"type":"STRING","data":"two"}},` +
		`{"id":"d","partition_id":1,"value":{"type":"STRING","data":"three"}}]}`
	br := v3Expect(t, v3Call(t, "POST", url+":batch", batch), 207, "successes", "failures")
	succ, fail := br["successes"].([]any), br["failures"].([]any)
	if len(succ) != 2 || len(fail) != 1 {
		t.Fatalf("batch: %v", br)
	}
	if s := succ[0].(map[string]any); s["id"] != "a" || s["offset"] == nil || s["topic_name"] != "p3" {
		t.Fatalf("batch success: %v", s)
	}
	if s := succ[1].(map[string]any); s["id"] != "d" || jsonInt(s["partition_id"]) != 1 {
		t.Fatalf("batch success: %v", s)
	}
	if f := fail[0].(map[string]any); f["id"] != "b" || jsonInt(f["error_code"]) != 404 || f["message"] == nil {
		t.Fatalf("batch failure: %v", f)
	}
	v3ReadAll(t, n, "p3", len(cases)+2)
	// A malformed entry fails the whole batch.
	for _, body := range []string{
		`{"entries":[]}`, `{"entries":[{`, `{"entries":[{"value":{"data":1}}]}`, `{"entries":[{"id":7}]}`,
		`{"entries":[{"id":"a"},{"id":"c","key":{"type":"BINARY","data":"!!"}}]}`, `null`, `[]`,
	} {
		v3ExpectError(t, v3Call(t, "POST", url+":batch", body), 400)
	}

	// Bad input.
	for _, body := range []string{
		``, `{`, `null`, `{"value":{"type":"JSON","data":}}`, `[1,2]`, `{"partition_id":"x"}`,
		`{"value":{"type":"BINARY","data":"not base64!"}}`,
		`{"value":{"type":"BINARY","data":12}}`,
		`{"value":{"type":"STRING","data":{"a":1}}}`,
		`{"value":{"type":"YAML","data":"x"}}`, `{"value":{"type":"BINARY","schema_id":-4}}`,
		`{"headers":[{"name":"h","value":"%%%"}]}`,
		`{"headers":[{"value":"aGk="}]}`,
	} {
		v3ExpectError(t, v3Call(t, "POST", url, body), 400)
	}
	v3ExpectError(t, v3Call(t, "POST", url, `{"partition_id":3,"value":{"data":1}}`), 404)
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics/nope/records"), `{"value":{"data":1}}`), 404)
	v3ExpectError(t, v3Call(t, "POST", n.URL+"/v3/clusters/nope/topics/p3/records", `{"value":{"data":1}}`), 404)
	// The proxy is still up.
	v3Expect(t, v3Call(t, "POST", url, `{"value":{"data":1}}`), 200, "offset")
}

// TestV3ProduceHugeBody streams a 100 MB record: 413, and the proxy stays
// up.
func TestV3ProduceHugeBody(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "huge", 1)
	pr, pw := io.Pipe()
	go func() {
		defer pw.Close()
		if _, err := io.WriteString(pw, `{"value":{"type":"STRING","data":"`); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 100 {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		io.WriteString(pw, `"}}`)
	}()
	req, _ := http.NewRequest("POST", n.C("/topics/huge/records"), pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	var e map[string]any
	json.Unmarshal(b, &e)
	if resp.StatusCode != 413 || jsonInt(e["error_code"]) != 413 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("huge body: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	v3Expect(t, v3Call(t, "POST", n.C("/topics/huge/records"), `{"value":{"data":1}}`), 200, "offset")
}

// TestV3StreamingProduce sends 10,000 records in one chunked request and
// reads 10,000 delivery reports in order while still sending; offsets are
// contiguous per partition and the records read back match.
func TestV3StreamingProduce(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "stream", 4)
	const total = 10000
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		for i := range total {
			fmt.Fprintf(bw, `{"key":{"type":"STRING","data":"k%d"},"value":{"type":"JSON","data":{"i":%d}}}`, i, i)
			if i%500 == 499 {
				bw.Flush()
			}
		}
		bw.Flush()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", n.C("/topics/stream/records"), pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Transfer-Encoding", "chunked")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(resp.Body)
	next := map[int]int{} // partition -> next offset
	seen := 0
	for ; ; seen++ {
		var rep struct {
			ErrorCode   int    `json:"error_code"`
			PartitionID int    `json:"partition_id"`
			Offset      int    `json:"offset"`
			Message     string `json:"message"`
			Value       struct {
				Size int `json:"size"`
			} `json:"value"`
		}
		if err := dec.Decode(&rep); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("report %d: %v", seen, err)
		}
		if rep.ErrorCode != 200 {
			t.Fatalf("report %d: %+v", seen, rep)
		}
		if o, known := next[rep.PartitionID]; known && rep.Offset != o {
			t.Fatalf("report %d: partition %d offset %d, want %d", seen, rep.PartitionID, rep.Offset, o)
		}
		if want := len(fmt.Sprintf(`{"i":%d}`, seen)); rep.Value.Size != want {
			t.Fatalf("report %d out of order: value size %d, want %d", seen, rep.Value.Size, want)
		}
		next[rep.PartitionID] = rep.Offset + 1
	}
	if seen != total {
		t.Fatalf("%d reports, want %d", seen, total)
	}
	recs := v3ReadAll(t, n, "stream", total)
	perKey := map[string]bool{}
	for _, r := range recs {
		var v struct{ I int }
		if err := json.Unmarshal(r.Value, &v); err != nil || string(r.Key) != fmt.Sprintf("k%d", v.I) {
			t.Fatalf("record %s=%s", r.Key, r.Value)
		}
		perKey[string(r.Key)] = true
	}
	if len(perKey) != total || len(next) < 2 {
		t.Fatalf("%d distinct records over %d partitions", len(perKey), len(next))
	}
}

// TestV3StreamingProduceErrors: in a stream, a bad record gets its own
// error report and the others go through; a syntax error ends the stream.
func TestV3StreamingProduceErrors(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "se", 1)
	body := `{"value":{"data":1}} {"value":{"type":"BINARY","data":"%%"}} {"partition_id":5,"value":{"data":2}}` +
		`{"partition_id":"zero"}{"value":{"data":3}} {"value": oops`
	a := v3Call(t, "POST", n.C("/topics/se/records"), body)
	if a.Status != 200 {
		t.Fatalf("%v", a)
	}
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	var codes []int
	for {
		var rep map[string]any
		if err := dec.Decode(&rep); err != nil {
			break
		}
		codes = append(codes, jsonInt(rep["error_code"]))
	}
	if want := []int{200, 400, 404, 400, 200, 400}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("codes %v, want %v: %s", codes, want, a.Body)
	}
	if !strings.Contains(string(a.Body), "malformed") {
		t.Fatalf("no malformed JSON report: %s", a.Body)
	}
	v3ReadAll(t, n, "se", 2)
}
