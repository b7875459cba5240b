package restproxy

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestV3Admin drives every v3 resource endpoint with plain net/http:
// clusters, brokers and their configs, topics (create, get, list, patch,
// delete), topic configs, partitions, replicas and reassignments.
func TestV3Admin(t *testing.T) {
	n := v3Start(t)
	base := n.URL + "/v3/clusters"

	// Clusters.
	l := v3Expect(t, v3Call(t, "GET", base, ""), 200, "kind", "metadata", "data")
	if l["kind"] != "KafkaClusterList" {
		t.Fatalf("kind %v", l["kind"])
	}
	c := v3Expect(t, v3Call(t, "GET", n.C(""), ""), 200, "kind", "metadata", "cluster_id", "controller", "acls",
		"brokers", "broker_configs", "consumer_groups", "topics", "partition_reassignments")
	if self := c["metadata"].(map[string]any)["self"]; self != n.C("") {
		t.Fatalf("self %v, want %s", self, n.C(""))
	}
	if rel := c["topics"].(map[string]any)["related"]; rel != n.C("/topics") {
		t.Fatalf("topics related %v", rel)
	}
	v3ExpectError(t, v3Call(t, "GET", base+"/no-such-cluster", ""), 404)
	v3ExpectError(t, v3Call(t, "GET", base+"/no-such-cluster/topics", ""), 404)

	// Brokers and their configs.
	bs := v3Call(t, "GET", n.C("/brokers"), "")
	v3Expect(t, bs, 200, "data")
	if len(bs.Data()) != 1 {
		t.Fatalf("brokers: %v", bs)
	}
	b := bs.Data()[0]
	for _, k := range []string{"kind", "metadata", "cluster_id", "broker_id", "host", "port", "configs", "partition_replicas"} {
		if _, found := b[k]; !found {
			t.Fatalf("broker has no %s: %v", k, b)
		}
	}
	bid := jsonInt(b["broker_id"])
	bpath := "/brokers/" + itoa(bid)
	v3Expect(t, v3Call(t, "GET", n.C(bpath), ""), 200, "broker_id", "host", "port")
	v3ExpectError(t, v3Call(t, "GET", n.C("/brokers/9999"), ""), 404)
	v3ExpectError(t, v3Call(t, "GET", n.C("/brokers/x"), ""), 404)
	cfgs := v3Call(t, "GET", n.C(bpath+"/configs"), "")
	v3Expect(t, cfgs, 200, "data")
	if len(cfgs.Data()) == 0 {
		t.Fatalf("broker configs: none")
	}
	name := cfgs.Data()[0]["name"].(string)
	v3Expect(t, v3Call(t, "GET", n.C(bpath+"/configs/"+name), ""), 200,
		"kind", "name", "value", "is_default", "is_read_only", "is_sensitive", "source", "synonyms", "broker_id")
	v3Expect(t, v3Call(t, "GET", n.C("/broker-configs"), ""), 200, "data")
	v3Expect(t, v3Call(t, "GET", n.C(bpath+"/partition-replicas"), ""), 200, "data")

	// Topics.
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics"), `{"topic_name":`), 400)
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics"), `{"partitions_count":1}`), 400)
	tp := v3Expect(t, v3Call(t, "POST", n.C("/topics"),
		`{"topic_name":"orders","partitions_count":3,"replication_factor":1,"configs":[{"name":"retention.ms","value":"3600000"}]}`),
		201, "kind", "metadata", "topic_name", "partitions_count", "replication_factor", "is_internal", "partitions", "configs")
	if tp["kind"] != "KafkaTopic" || jsonInt(tp["partitions_count"]) != 3 {
		t.Fatalf("created: %v", tp)
	}
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics"), `{"topic_name":"orders","partitions_count":3}`), 409)
	v3Expect(t, v3Call(t, "POST", n.C("/topics"), `{"topic_name":"dry","partitions_count":2,"validate_only":true}`), 200, "topic_name")
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/dry"), ""), 404)
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics"), `{"topic_name":"bad topic!","partitions_count":1}`), 400)
	var ts v3Answer
	waitFor(t, func() bool { // metadata catches up with the creation
		ts = v3Call(t, "GET", n.C("/topics"), "")
		return hasItem(ts.Data(), "topic_name", "orders")
	})
	v3Expect(t, ts, 200, "data", "kind", "metadata")
	v3Expect(t, v3Call(t, "GET", n.C("/topics/orders"), ""), 200, "topic_name")
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/nope"), ""), 404)
	v3ExpectError(t, v3Call(t, "DELETE", n.C("/topics/nope"), ""), 404)
	pt := v3Expect(t, v3Call(t, "PATCH", n.C("/topics/orders"), `{"partitions_count":4.0}`), 200, "partitions_count")
	if jsonInt(pt["partitions_count"]) != 4 {
		t.Fatalf("patched: %v", pt)
	}
	v3ExpectError(t, v3Call(t, "PATCH", n.C("/topics/orders"), `{"partitions_count":2}`), 409)

	// Topic configs.
	tc := v3Call(t, "GET", n.C("/topics/orders/configs"), "")
	v3Expect(t, tc, 200, "data")
	if !hasItem(tc.Data(), "name", "retention.ms") {
		t.Fatalf("topic configs: %v", tc)
	}
	rc := v3Expect(t, v3Call(t, "GET", n.C("/topics/orders/configs/retention.ms"), ""), 200, "value", "source", "topic_name")
	if rc["value"] != "3600000" || rc["kind"] != "KafkaTopicConfig" {
		t.Fatalf("retention.ms: %v", rc)
	}
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/orders/configs/no.such.config"), ""), 404)
	v3Expect(t, v3Call(t, "PUT", n.C("/topics/orders/configs/retention.ms"), `{"value":"7200000"}`), 204)
	if v := v3Call(t, "GET", n.C("/topics/orders/configs/retention.ms"), "").Map()["value"]; v != "7200000" {
		t.Fatalf("after PUT: %v", v)
	}
	v3ExpectError(t, v3Call(t, "PUT", n.C("/topics/orders/configs/retention.ms"), `{}`), 400)
	v3Expect(t, v3Call(t, "POST", n.C("/topics/orders/configs:alter"),
		`{"data":[{"name":"cleanup.policy","value":"compact"},{"name":"retention.ms","operation":"DELETE"}]}`), 204)
	if v := v3Call(t, "GET", n.C("/topics/orders/configs/cleanup.policy"), "").Map()["value"]; v != "compact" {
		t.Fatalf("after alter: %v", v)
	}
	if d := v3Call(t, "GET", n.C("/topics/orders/configs/retention.ms"), "").Map()["is_default"]; d != true {
		t.Fatalf("retention.ms not reset: %v", d)
	}
	v3Expect(t, v3Call(t, "DELETE", n.C("/topics/orders/configs/cleanup.policy"), ""), 204)
	v3ExpectError(t, v3Call(t, "POST", n.C("/topics/orders/configs:alter"), `{"data":[{"name":"x","operation":"BOGUS"}]}`), 400)

	// Partitions, replicas, reassignments.
	ps := v3Call(t, "GET", n.C("/topics/orders/partitions"), "")
	v3Expect(t, ps, 200, "data")
	if len(ps.Data()) != 4 {
		t.Fatalf("partitions: %v", ps)
	}
	p := v3Expect(t, v3Call(t, "GET", n.C("/topics/orders/partitions/2"), ""), 200,
		"kind", "partition_id", "leader", "replicas", "reassignment")
	if p["kind"] != "KafkaPartition" || jsonInt(p["partition_id"]) != 2 {
		t.Fatalf("partition: %v", p)
	}
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/orders/partitions/99"), ""), 404)
	rs := v3Call(t, "GET", n.C("/topics/orders/partitions/2/replicas"), "")
	v3Expect(t, rs, 200, "data")
	if len(rs.Data()) != 1 || rs.Data()[0]["is_leader"] != true {
		t.Fatalf("replicas: %v", rs)
	}
	v3Expect(t, v3Call(t, "GET", n.C("/topics/orders/partitions/2/replicas/"+itoa(bid)), ""), 200, "broker_id", "is_leader", "is_in_sync")
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/orders/partitions/2/replicas/9999"), ""), 404)
	v3Expect(t, v3Call(t, "GET", n.C("/topics/-/partitions/-/reassignment"), ""), 200, "kind", "data")
	v3Expect(t, v3Call(t, "GET", n.C("/topics/orders/partitions/-/reassignment"), ""), 200, "data")
	v3ExpectError(t, v3Call(t, "GET", n.C("/topics/orders/partitions/0/reassignment"), ""), 404)

	// Unknown paths are JSON 404s; the topic goes away.
	v3ExpectError(t, v3Call(t, "GET", n.URL+"/v3/nothing-here", ""), 404)
	v3Expect(t, v3Call(t, "DELETE", n.C("/topics/orders"), ""), 204)
	waitFor(t, func() bool { return v3Call(t, "GET", n.C("/topics/orders"), "").Status == 404 })
}

// TestV3GroupsAndACLs checks consumer groups (list, get, consumers, lags,
// lag summary) with a live franz-go group member, and ACLs (create, list
// with filters, delete).
func TestV3GroupsAndACLs(t *testing.T) {
	n := v3Start(t)
	v3Expect(t, v3Call(t, "POST", n.C("/topics"), `{"topic_name":"lagged","partitions_count":2,"replication_factor":1}`), 201)
	waitFor(t, func() bool { return v3Call(t, "GET", n.C("/topics/lagged"), "").Status == 200 })
	prod := n.Client(t, kgo.DefaultProduceTopic("lagged"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range 10 {
		r := &kgo.Record{Value: []byte("v"), Partition: int32(i % 2)}
		if err := prod.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// A member that consumes and commits 4 records, then stays in the group.
	cons := n.Client(t, kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("lagged"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.ClientID("lag-client"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < 10 && ctx.Err() == nil {
		got = append(got, cons.PollFetches(ctx).Records()...)
	}
	var commitErr error
	cons.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"lagged": {0: {Epoch: -1, Offset: 2}, 1: {Epoch: -1, Offset: 2}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}

	gs := v3Call(t, "GET", n.C("/consumer-groups"), "")
	v3Expect(t, gs, 200, "data")
	if !hasItem(gs.Data(), "consumer_group_id", "g1") {
		t.Fatalf("g1 not listed: %v", gs)
	}
	g := v3Expect(t, v3Call(t, "GET", n.C("/consumer-groups/g1"), ""), 200,
		"kind", "consumer_group_id", "is_simple", "partition_assignor", "state", "coordinator", "consumers", "lag_summary")
	if g["state"] != "STABLE" {
		t.Fatalf("group: %v", g)
	}
	v3ExpectError(t, v3Call(t, "GET", n.C("/consumer-groups/nope"), ""), 404)
	cs := v3Call(t, "GET", n.C("/consumer-groups/g1/consumers"), "")
	v3Expect(t, cs, 200, "data")
	if len(cs.Data()) != 1 || cs.Data()[0]["client_id"] != "lag-client" {
		t.Fatalf("consumers: %v", cs)
	}
	member := cs.Data()[0]["consumer_id"].(string)
	v3Expect(t, v3Call(t, "GET", n.C("/consumer-groups/g1/consumers/"+member), ""), 200, "consumer_id", "client_id", "assignments")
	as := v3Call(t, "GET", n.C("/consumer-groups/g1/consumers/"+member+"/assignments"), "")
	v3Expect(t, as, 200, "data")
	if len(as.Data()) != 2 {
		t.Fatalf("assignments: %v", as)
	}
	v3ExpectError(t, v3Call(t, "GET", n.C("/consumer-groups/g1/consumers/nobody"), ""), 404)
	lags := v3Call(t, "GET", n.C("/consumer-groups/g1/lags"), "")
	v3Expect(t, lags, 200, "data")
	if len(lags.Data()) != 2 {
		t.Fatalf("lags: %v", lags)
	}
	for _, l := range lags.Data() {
		if jsonInt(l["current_offset"]) != 2 || jsonInt(l["log_end_offset"]) != 5 || jsonInt(l["lag"]) != 3 {
			t.Fatalf("lag: %v", l)
		}
	}
	v3Expect(t, v3Call(t, "GET", n.C("/consumer-groups/g1/lags/lagged/partitions/1"), ""), 200, "lag", "consumer_id")
	v3ExpectError(t, v3Call(t, "GET", n.C("/consumer-groups/g1/lags/lagged/partitions/7"), ""), 404)
	sum := v3Expect(t, v3Call(t, "GET", n.C("/consumer-groups/g1/lag-summary"), ""), 200,
		"kind", "max_lag", "total_lag", "max_lag_consumer_id", "max_lag_topic_name", "max_lag_partition_id")
	if jsonInt(sum["total_lag"]) != 6 || jsonInt(sum["max_lag"]) != 3 || sum["max_lag_topic_name"] != "lagged" {
		t.Fatalf("lag summary: %v", sum)
	}

	// ACLs.
	acl := `{"resource_type":"TOPIC","resource_name":"lagged","pattern_type":"LITERAL","principal":"User:alice","host":"*","operation":"READ","permission":"ALLOW"}`
	a := v3Expect(t, v3Call(t, "POST", n.C("/acls"), acl), 201,
		"kind", "resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission")
	if a["kind"] != "KafkaAcl" || a["operation"] != "READ" {
		t.Fatalf("acl: %v", a)
	}
	v3ExpectError(t, v3Call(t, "POST", n.C("/acls"), `{"resource_type":"TOPIC"}`), 400)
	v3ExpectError(t, v3Call(t, "POST", n.C("/acls"), strings.Replace(acl, "READ", "NIBBLE", 1)), 400)
	v3ExpectError(t, v3Call(t, "GET", n.C("/acls?resource_type=PLANET"), ""), 400)
	var al v3Answer
	waitFor(t, func() bool {
		al = v3Call(t, "GET", n.C("/acls?principal=User:alice"), "")
		return len(al.Data()) == 1
	})
	v3Expect(t, al, 200, "data")
	if al.Data()[0]["resource_name"] != "lagged" {
		t.Fatalf("acls: %v", al)
	}
	if l := v3Call(t, "GET", n.C("/acls?principal=User:bob"), "").Data(); len(l) != 0 {
		t.Fatalf("bob has acls: %v", l)
	}
	del := v3Call(t, "DELETE", n.C("/acls?resource_type=TOPIC&principal=User:alice"), "")
	v3Expect(t, del, 200, "data")
	if len(del.Data()) != 1 {
		t.Fatalf("deleted: %v", del)
	}
	waitFor(t, func() bool { return len(v3Call(t, "GET", n.C("/acls?principal=User:alice"), "").Data()) == 0 })
}

func jsonInt(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func itoa(n int) string { return strconv.Itoa(n) }
func hasItem(data []map[string]any, key, want string) bool {
	for _, d := range data {
		if d[key] == want {
			return true
		}
	}
	return false
}

// waitFor waits up to 10 s for cond.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
	}
}
