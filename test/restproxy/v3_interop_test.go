package restproxy

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"
)

// TestV3ReadThroughV2 produces JSON and BINARY records through v3 and
// reads them through a v2 consumer instance in the same format
// (kafka-rest#1040); a method a v3 path does not take is 405.
func TestV3ReadThroughV2(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "interop", 1)
	v3Topic(t, n, "interbin", 1)
	v3Expect(t, v3Call(t, "POST", n.C("/topics/interop/records"),
		`{"key":{"type":"JSON","data":"k"},"value":{"type":"JSON","data":{"n":[1,2,{"x":null}]}}}`), 200, "offset")
	v3Expect(t, v3Call(t, "POST", n.C("/topics/interbin/records"),
		fmt.Sprintf(`{"value":{"type":"BINARY","data":%q}}`, base64.StdEncoding.EncodeToString([]byte{0, 255, 7}))), 200, "offset")

	read := func(group, format, topic string) []any {
		t.Helper()
		a := v2Do(t, "POST", n.URL+"/consumers/"+group, `{"name":"c","format":"`+format+`","auto.offset.reset":"earliest"}`,
			"application/vnd.kafka.v2+json", "")
		if a.Status != 200 {
			t.Fatalf("create consumer: %v", a)
		}
		base := a.Map()["base_uri"].(string)
		if a := v2Do(t, "POST", base+"/subscription", `{"topics":["`+topic+`"]}`, "application/vnd.kafka.v2+json", ""); a.Status != 204 {
			t.Fatalf("subscribe: %v", a)
		}
		defer v2Do(t, "DELETE", base, "", "", "")
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			a := v2Do(t, "GET", base+"/records?timeout=1000", "", "", "application/vnd.kafka."+format+".v2+json")
			if a.Status != 200 {
				t.Fatalf("records: %v", a)
			}
			if l, _ := a.JSON.([]any); len(l) > 0 {
				return l
			}
		}
		t.Fatalf("no records of %s through v2", topic)
		return nil
	}
	recs := read("g-json", "json", "interop")
	r := recs[0].(map[string]any)
	if r["key"] != "k" || fmt.Sprint(r["value"]) != "map[n:[1 2 map[x:<nil>]]]" {
		t.Fatalf("v2 json record: %v", r)
	}
	recs = read("g-bin", "binary", "interbin")
	if v := recs[0].(map[string]any)["value"]; v != base64.StdEncoding.EncodeToString([]byte{0, 255, 7}) {
		t.Fatalf("v2 binary record: %v", recs[0])
	}

	a := v3Call(t, "PUT", n.C("/topics"), `{}`)
	v3ExpectError(t, a, 405)
	if a := v3Call(t, "GET", n.URL+"/v3/clusters/"+n.CID+"/nothing", ""); a.Status != 404 {
		t.Fatalf("unknown path: %v", a)
	}
}

// v2Do sends a v2 request with a Content-Type and an Accept ("" sends
// none).
func v2Do(t testing.TB, method, url, body, contentType, accept string) v3Answer {
	t.Helper()
	return v3CallWith(t, method, url, body, contentType, accept)
}
