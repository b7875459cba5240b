package restproxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRESTProxyStrict covers what schemathesis found (see
// schemathesis_test.go), each as a plain request: a topic read the moment
// it is created answers it (Kafka's LEADER_NOT_AVAILABLE is waited out in
// the proxy, never a 500); integers written as 1.0 are integers (JSON
// Schema's and Jackson's reading); names no Kafka topic can have are
// refused in bodies before the cluster is asked, and no such topic ever
// appears on the broker; a produce to a topic deleted while it waits ends.
func TestRESTProxyStrict(t *testing.T) {
	n := startRESTNode(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Read at once after creation, through v2 and v3.
	cid := clusterID(t, n.URL)
	for i, name := range []string{"fresh-a", "fresh-b", "fresh-c"} {
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, name); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		paths := []string{"/topics/" + name, "/topics/" + name + "/partitions/2/offsets",
			"/v3/clusters/" + cid + "/topics/" + name + "/partitions"}
		a := call(t, "GET", n.URL+paths[i], "", "", "")
		if a.Status != 200 {
			t.Fatalf("GET %s just after creating it: %s", paths[i], a)
		}
	}
	// A topic created through v3 takes records at once (what schemathesis's
	// ensure_resource_availability would check; see schemathesis.toml).
	a := call(t, "POST", n.URL+"/v3/clusters/"+cid+"/topics", `{"topic_name":"fresh-d","partitions_count":2}`, "application/json", "")
	expect(t, "v3 create fresh-d", a, 201, "application/json", 0)
	a = call(t, "POST", n.URL+"/v3/clusters/"+cid+"/topics/fresh-d/records", `{"partition_id":1,"value":{"type":"STRING","data":"x"}}`, "application/json", "")
	expect(t, "v3 produce to fresh-d at once", a, 200, "application/json", 0)
	if a.Map()["error_code"] != 200.0 {
		t.Fatalf("v3 produce to fresh-d at once: %s", a)
	}
	a = call(t, "POST", n.URL+"/topics/fresh-a", `{"records":[{"value":"eA==","partition":2.0},{"value":"eQ==","partition":1e0}]}`, ctBinary, "")
	expect(t, "produce with partitions 2.0 and 1e0", a, 200, ctV2, 0, "offsets")
	offs := a.Map()["offsets"].([]any)
	if offs[0].(map[string]any)["partition"] != 2.0 || offs[1].(map[string]any)["partition"] != 1.0 {
		t.Fatalf("partitions 2.0 and 1e0: %s", a)
	}

	// A consumer instance, assigned, seeks and commits with 0.0-style
	// integers, and is refused illegal topic names (422/42203).
	base := newConsumer(t, n.URL, "strict-g", `{"format":"binary"}`)
	expect(t, "assign", call(t, "POST", base+"/assignments", `{"partitions":[{"topic":"fresh-a","partition":2.0}]}`, ctV2, ""), 204, "", 0)
	expect(t, "seek", call(t, "POST", base+"/positions", `{"offsets":[{"topic":"fresh-a","partition":2,"offset":0.0}]}`, ctV2, ""), 204, "", 0)
	expect(t, "commit", call(t, "POST", base+"/offsets", `{"offsets":[{"topic":"fresh-a","partition":2.0,"offset":0}]}`, ctV2, ""), 200, "", 0)
	for _, c := range []struct{ path, body string }{
		{"/subscription", `{"topics":["null,null"]}`},
		{"/assignments", `{"partitions":[{"topic":"null,null","partition":0}]}`},
		{"/assignments", `{"partitions":[{"topic":"fresh-a","partition":-1}]}`},
		{"/positions", `{"offsets":[{"topic":"null,null","partition":0,"offset":0}]}`},
		{"/positions", `{"offsets":[{"topic":"fresh-a","partition":2,"offset":-4}]}`},
		{"/positions/beginning", `{"partitions":[{"topic":"a b","partition":0}]}`},
		{"/offsets", `{"offsets":[{"topic":"null,null","partition":0,"offset":0}]}`},
		{"/offsets", `null`},
	} {
		expect(t, "POST "+c.path+" "+c.body, call(t, "POST", base+c.path, c.body, ctV2, ""), 422, ctV2, 42203)
	}
	a = call(t, "POST", n.URL+"/v3/clusters/"+cid+"/consumer-groups/strict-v3/offsets",
		`{"offsets":[{"topic_name":"null,null","partition_id":0,"offset":0}]}`, "application/json", "")
	expect(t, "v3 commit to null,null", a, 400, "application/json", 400)
	a = call(t, "POST", n.URL+"/v3/clusters/"+cid+"/topics", `{"topic_name":"null,null"}`, "application/json", "")
	expect(t, "v3 create null,null", a, 400, "application/json", 400)

	// A produce waiting on Kafka (two in-sync replicas wanted of one)
	// whose topic is deleted meanwhile ends with 404/40401, not after the
	// produce timeout with a retriable error per record.
	createTopic(t, n.Bootstrap, "doomed", 1, map[string]*string{"min.insync.replicas": ptr("2")})
	got := make(chan answer, 1)
	go func() { // received below
		a := answer{}
		resp, err := http.Post(n.URL+"/topics/doomed/partitions/0", ctBinary, strings.NewReader(`{"records":[{"value":"eA=="}]}`))
		if err == nil {
			a.Status, a.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
			a.Body, _ = io.ReadAll(resp.Body)
			_ = json.Unmarshal(a.Body, &a.JSON)
			resp.Body.Close()
		}
		got <- a
	}()
	time.Sleep(500 * time.Millisecond)
	if _, err := adm.DeleteTopic(ctx, "doomed"); err != nil {
		t.Fatalf("delete doomed: %v", err)
	}
	expect(t, "produce to a topic deleted meanwhile", <-got, 404, ctV2, 40401)

	tds, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tds.Names() {
		if strings.ContainsAny(name, ", ") {
			t.Fatalf("topic %q appeared on the broker", name)
		}
	}
}
