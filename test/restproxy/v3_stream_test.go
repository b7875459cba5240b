package restproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestV3StreamingProduceMixed streams, in pieces of 1 to 64 bytes, records
// of every shape the proxy's streaming decoder takes, and records it hands
// to encoding/json (escaped strings, integral floats, a 100 KiB record,
// an unknown field, whitespace everywhere), each followed by plain ones:
// every record gets its report, in order, and reads back with franz-go as
// sent.
func TestV3StreamingProduceMixed(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "mixed", 1)
	b64 := base64.StdEncoding.EncodeToString
	big := strings.Repeat("y", 100<<10)
	type rec struct {
		body        string
		key, value  string
		headerValue string // of header h, if any
	}
	shapes := []rec{
		{`{"value":{"type":"BINARY","data":"` + b64([]byte("bin\x00\xff")) + `"}}`, "", "bin\x00\xff", ""},
		{`{"key":{"type":"STRING","data":"k"},"value":{"type":"JSON","data":{"a":[1,2.5,true,null],"s":"x"}}}`, "k", `{"a":[1,2.5,true,null],"s":"x"}`, ""},
		{`{"headers":[{"name":"h","value":"` + b64([]byte("hv")) + `"}],"value":{"type":"STRING","data":"plain"}}`, "", "plain", "hv"},
		{` { "value" : { "type" : "JSON" , "data" : { "b" : [ 1 , 2 ] } } } `, "", `{"b":[1,2]}`, ""},
		{`{"value":{"type":"STRING","data":"esc\"aped\u00e9\n"}}`, "", "esc\"aped\u00e9\n", ""},
		{`{"partition_id":0.0,"value":{"type":"STRING","data":"float partition"}}`, "", "float partition", ""},
		{`{"value":{"type":"STRING","data":"` + big + `"}}`, "", big, ""},
		{`{"Value":{"type":"STRING","data":"field names match case-insensitively"}}`, "", "field names match case-insensitively", ""},
		{`{"value":{"type":"JSON","data":"h\u00e9llo w\u00f6rld"}}`, "", `"h\u00e9llo w\u00f6rld"`, ""}, // JSON is kept as written
		{`{"unknown":1,"value":{"type":"BINARY","data":"` + b64(bytes.Repeat([]byte{7}, 3000)) + `"}}`, "", string(bytes.Repeat([]byte{7}, 3000)), ""},
	}
	var recs []rec
	for i := 0; i < 3; i++ {
		for j, s := range shapes {
			recs = append(recs, s)
			plain := fmt.Sprintf("after %d/%d", i, j)
			recs = append(recs, rec{`{"value":{"type":"STRING","data":"` + plain + `"}}`, "", plain, ""})
		}
	}
	var body bytes.Buffer
	for _, r := range recs {
		body.WriteString(r.body)
	}

	pr, pw := io.Pipe()
	go func() { // ends when the body is written or the request failed
		rng := rand.New(rand.NewSource(1))
		b := body.Bytes()
		for len(b) > 0 {
			k := min(1+rng.Intn(64), len(b))
			if _, err := pw.Write(b[:k]); err != nil {
				return
			}
			b = b[k:]
		}
		pw.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", n.C("/topics/mixed/records"), pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	next := 0
	for i := 0; sc.Scan(); i++ {
		var rep struct {
			ErrorCode int    `json:"error_code"`
			Offset    int    `json:"offset"`
			Message   string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil || rep.ErrorCode != 200 || rep.Offset != next {
			t.Fatalf("report %d (%.80s): %v %+v, want offset %d", i, recs[min(i, len(recs)-1)].body, err, rep, next)
		}
		next++
	}
	if next != len(recs) {
		t.Fatalf("%d reports, want %d", next, len(recs))
	}
	got := v3ReadAll(t, n, "mixed", len(recs))
	for i, r := range got {
		want := recs[i]
		if string(r.Key) != want.key || string(r.Value) != want.value {
			t.Fatalf("record %d: key %q value %.80q, want %q %.80q", i, r.Key, r.Value, want.key, want.value)
		}
		if want.headerValue != "" && (len(r.Headers) != 1 || string(r.Headers[0].Value) != want.headerValue) {
			t.Fatalf("record %d: headers %v", i, r.Headers)
		}
	}
}
