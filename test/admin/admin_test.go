package admin_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestAdmin starts one broker and runs every admin scenario against it;
// each subtest uses its own topics.
func TestAdmin(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{})
	cl := node.Client(t)
	adm := kadm.NewClient(cl)
	env := &env{node: node, cl: cl, adm: adm}

	t.Run("CreateTopics", env.testCreateTopics)
	t.Run("CreateTopicsRequestShape", env.testCreateTopicsRequestShape)
	t.Run("DeleteAndRecreate", env.testDeleteAndRecreate)
	t.Run("CreatePartitions", env.testCreatePartitions)
	t.Run("TopicConfigs", env.testTopicConfigs)
	t.Run("BrokerConfigs", env.testBrokerConfigs)
	t.Run("DeleteRecords", env.testDeleteRecords)
	t.Run("DescribeCluster", env.testDescribeCluster)
	t.Run("DescribeLogDirs", env.testDescribeLogDirs)
	t.Run("DescribeTopicPartitions", env.testDescribeTopicPartitions)
	t.Run("DescribeProducers", env.testDescribeProducers)
}

type env struct {
	node *clustertest.Node
	cl   *kgo.Client
	adm  *kadm.Client
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// request sends a raw request and returns the typed response.
func request[R kmsg.Response](t *testing.T, e *env, req kmsg.Request) R {
	t.Helper()
	// Straight to the node: kgo would shard some requests by resource and
	// answer others itself.
	resp, err := e.cl.Broker(1).Request(testCtx(t), req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

func (e *env) createTopic(t *testing.T, name string, partitions int32, configs map[string]*string) kadm.CreateTopicResponse {
	t.Helper()
	resp, err := e.adm.CreateTopic(testCtx(t), partitions, 1, configs, name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if resp.Err != nil {
		t.Fatalf("create %s: %v (%s)", name, resp.Err, resp.ErrMessage)
	}
	return resp
}

// tryCreate creates a topic and returns its response, error or not.
func (e *env) tryCreate(t *testing.T, name string, partitions int32, rf int16, configs map[string]*string) kadm.CreateTopicResponse {
	t.Helper()
	rs, err := e.adm.CreateTopics(testCtx(t), partitions, rf, configs, name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	r, ok := rs[name]
	if !ok {
		t.Fatalf("create %s: no answer for it in %v", name, rs)
	}
	return r
}

// topicDetail asks the node for a topic's metadata directly, bypassing
// kgo's metadata cache, without auto-creation.
func (e *env) topicDetail(t *testing.T, name string) (kmsg.MetadataResponseTopic, bool) {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(name)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp := request[*kmsg.MetadataResponse](t, e, req)
	for _, mt := range resp.Topics {
		if mt.Topic != nil && *mt.Topic == name {
			return mt, mt.ErrorCode == 0
		}
	}
	return kmsg.MetadataResponseTopic{}, false
}

func (e *env) produce(t *testing.T, topic string, n int) {
	t.Helper()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("value-%d", i))})
	}
	if err := e.cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("%s: error %v, want %v", what, got, want)
	}
}

func (e *env) testCreateTopics(t *testing.T) {
	ctx := testCtx(t)
	created := e.createTopic(t, "ct-basic", 3, map[string]*string{"retention.ms": kadm.StringPtr("3600000")})
	if created.ID == (kadm.TopicID{}) {
		t.Errorf("created topic has a zero topic id")
	}
	if created.NumPartitions != 3 || created.ReplicationFactor != 1 {
		t.Errorf("created: %d partitions rf %d, want 3 rf 1", created.NumPartitions, created.ReplicationFactor)
	}
	if c, ok := created.Configs["retention.ms"]; !ok || c.Value == nil || *c.Value != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("created configs: retention.ms = %+v, want 3600000 from DYNAMIC_TOPIC_CONFIG", c)
	}
	if c, ok := created.Configs["segment.bytes"]; !ok || c.Value == nil || *c.Value != "1073741824" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("created configs: segment.bytes = %+v, want the default 1073741824", c)
	}
	if d, ok := e.topicDetail(t, "ct-basic"); !ok || len(d.Partitions) != 3 {
		t.Errorf("metadata after create: %+v", d)
	}

	// Broker defaults for -1 / -1.
	def, err := e.adm.CreateTopic(ctx, -1, -1, nil, "ct-defaults")
	if err != nil || def.Err != nil {
		t.Fatalf("create with defaults: %v %v %s", err, def.Err, def.ErrMessage)
	}
	if def.NumPartitions != 1 || def.ReplicationFactor != 1 {
		t.Errorf("defaults: %d partitions rf %d, want 1 and 1", def.NumPartitions, def.ReplicationFactor)
	}

	// Validate only: answered like a create, nothing created.
	vo, err := e.adm.ValidateCreateTopics(ctx, 2, 1, nil, "ct-validate")
	if err != nil {
		t.Fatal(err)
	}
	if r := vo["ct-validate"]; r.Err != nil || r.NumPartitions != 2 {
		t.Errorf("validate only: %+v", r)
	}
	if _, ok := e.topicDetail(t, "ct-validate"); ok {
		t.Errorf("validate-only create created the topic")
	}

	// Bad config value: INVALID_CONFIG naming the key.
	bad := e.tryCreate(t, "ct-badcfg", 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")})
	wantErr(t, "bad config value", bad.Err, kerr.InvalidConfig)
	if !strings.Contains(bad.ErrMessage, "retention.ms") {
		t.Errorf("bad config message %q does not name retention.ms", bad.ErrMessage)
	}
	unknown := e.tryCreate(t, "ct-unknowncfg", 1, 1, map[string]*string{"no.such.config": kadm.StringPtr("1")})
	wantErr(t, "unknown config", unknown.Err, kerr.InvalidConfig)
	if !strings.Contains(unknown.ErrMessage, "no.such.config") {
		t.Errorf("unknown config message %q does not name the key", unknown.ErrMessage)
	}
	if _, ok := e.topicDetail(t, "ct-badcfg"); ok {
		t.Errorf("topic with a bad config was created")
	}

	// Bad name.
	for _, name := range []string{"bad/name", "..", strings.Repeat("x", 250)} {
		r := e.tryCreate(t, name, 1, 1, nil)
		wantErr(t, "bad name "+name[:min(len(name), 10)], r.Err, kerr.InvalidTopicException)
	}

	// Existing name, and a name colliding with it.
	dup := e.tryCreate(t, "ct-basic", 1, 1, nil)
	wantErr(t, "duplicate", dup.Err, kerr.TopicAlreadyExists)
	e.createTopic(t, "ct.dotted", 1, nil)
	coll := e.tryCreate(t, "ct_dotted", 1, 1, nil)
	wantErr(t, "colliding name", coll.Err, kerr.InvalidTopicException)
}

func (e *env) testCreateTopicsRequestShape(t *testing.T) {
	// The same name twice in one request: INVALID_REQUEST, nothing created.
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, name := range []string{"shape-dup", "shape-dup", "shape-ok"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		req.Topics = append(req.Topics, rt)
	}
	resp := request[*kmsg.CreateTopicsResponse](t, e, req)
	got := map[string]int16{}
	for _, st := range resp.Topics {
		if _, seen := got[st.Topic]; seen {
			t.Errorf("topic %s answered twice", st.Topic)
		}
		got[st.Topic] = st.ErrorCode
	}
	if got["shape-dup"] != kerr.InvalidRequest.Code || got["shape-ok"] != 0 || len(got) != 2 {
		t.Errorf("duplicate names: codes %v, want shape-dup INVALID_REQUEST and shape-ok 0", got)
	}
	if _, ok := e.topicDetail(t, "shape-dup"); ok {
		t.Errorf("duplicated topic was created")
	}

	// Manual replica assignment.
	req = kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "shape-assigned", -1, -1
	for _, p := range []int32{1, 0} {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = p, []int32{1}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	req.Topics = append(req.Topics, rt)
	resp = request[*kmsg.CreateTopicsResponse](t, e, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].NumPartitions != 2 {
		t.Fatalf("manual assignment: %+v", resp.Topics)
	}
	if resp.Topics[0].TopicID == [16]byte{} {
		t.Errorf("manual assignment: no topic id in a v%d response", resp.Version)
	}
	if d, ok := e.topicDetail(t, "shape-assigned"); !ok || len(d.Partitions) != 2 {
		t.Errorf("manual assignment metadata: %+v", d)
	}

	// A gap in the partition indexes, and an unknown broker.
	for name, parts := range map[string][]int32{"shape-gap": {0, 2}} {
		req = kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
		for _, p := range parts {
			ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			ra.Partition, ra.Replicas = p, []int32{1}
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
		}
		req.Topics = append(req.Topics, rt)
		resp = request[*kmsg.CreateTopicsResponse](t, e, req)
		if resp.Topics[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
			t.Errorf("%s: code %d, want INVALID_REPLICA_ASSIGNMENT", name, resp.Topics[0].ErrorCode)
		}
	}
	req = kmsg.NewPtrCreateTopicsRequest()
	rt = kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "shape-nobroker", -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, []int32{42}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	resp = request[*kmsg.CreateTopicsResponse](t, e, req)
	if resp.Topics[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Errorf("unknown broker in assignment: code %d, want INVALID_REPLICA_ASSIGNMENT", resp.Topics[0].ErrorCode)
	}

	// Replication factor above the broker count.
	r := e.tryCreate(t, "shape-rf3", 1, 3, nil)
	wantErr(t, "rf 3 on one broker", r.Err, kerr.InvalidReplicationFactor)
	if want := "replication factor: 3 larger than available brokers: 1"; r.ErrMessage != want {
		t.Errorf("rf 3 on one broker: message %q, want %q", r.ErrMessage, want)
	}
}

func (e *env) testDeleteAndRecreate(t *testing.T) {
	ctx := testCtx(t)
	first := e.createTopic(t, "dr-topic", 2, nil)
	e.produce(t, "dr-topic", 5)

	dresp, err := e.adm.DeleteTopics(ctx, "dr-topic")
	if err != nil {
		t.Fatal(err)
	}
	if r := dresp["dr-topic"]; r.Err != nil {
		t.Fatalf("delete: %v (%s)", r.Err, r.ErrMessage)
	} else if r.ID != first.ID {
		t.Errorf("delete answered id %v, want %v", r.ID, first.ID)
	}
	if d, ok := e.topicDetail(t, "dr-topic"); ok {
		t.Fatalf("topic still in metadata after delete: %+v", d)
	}
	// The directories go shortly after (the partition manager's opener
	// deletes them off the metadata goroutine; Kafka too renames them
	// -delete and removes them in the background).
	for _, p := range []string{"dr-topic-0", "dr-topic-1"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			matches, _ := filepath.Glob(filepath.Join(e.node.DataDir, p))
			if len(matches) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("partition directory %s still exists 10s after delete", p)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	second := e.createTopic(t, "dr-topic", 1, nil)
	if second.ID == first.ID {
		t.Errorf("re-created topic kept its old id %v", first.ID)
	}
	// The new topic starts empty.
	ends, err := e.adm.ListEndOffsets(ctx, "dr-topic")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := ends.Lookup("dr-topic", 0); !ok || o.Err != nil || o.Offset != 0 {
		t.Errorf("re-created topic end offset %+v, want 0", o)
	}

	// Unknown name and unknown id.
	dresp, err = e.adm.DeleteTopics(ctx, "dr-never-existed")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete unknown name", dresp["dr-never-existed"].Err, kerr.UnknownTopicOrPartition)

	req := kmsg.NewPtrDeleteTopicsRequest()
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.TopicID = [16]byte{1, 2, 3}
	req.Topics = append(req.Topics, rt)
	resp := request[*kmsg.DeleteTopicsResponse](t, e, req)
	if resp.Version >= 6 && (len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicID.Code) {
		t.Errorf("delete unknown id: %+v", resp.Topics)
	}

	// Delete by id (v6).
	if resp.Version >= 6 {
		req = kmsg.NewPtrDeleteTopicsRequest()
		rt = kmsg.NewDeleteTopicsRequestTopic()
		rt.TopicID = second.ID
		req.Topics = append(req.Topics, rt)
		resp = request[*kmsg.DeleteTopicsResponse](t, e, req)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "dr-topic" {
			t.Errorf("delete by id: %+v", resp.Topics)
		}
		if _, ok := e.topicDetail(t, "dr-topic"); ok {
			t.Errorf("topic still in metadata after delete by id")
		}
	} else {
		t.Errorf("DeleteTopics negotiated v%d, want v6", resp.Version)
	}
}

func (e *env) testCreatePartitions(t *testing.T) {
	ctx := testCtx(t)
	e.createTopic(t, "cp-topic", 1, nil)

	vr, err := e.adm.ValidateUpdatePartitions(ctx, 4, "cp-topic")
	if err != nil {
		t.Fatal(err)
	}
	if r := vr["cp-topic"]; r.Err != nil {
		t.Errorf("validate to 4: %v (%s)", r.Err, r.ErrMessage)
	}
	if d, _ := e.topicDetail(t, "cp-topic"); len(d.Partitions) != 1 {
		t.Errorf("validate-only changed the partition count to %d", len(d.Partitions))
	}

	ur, err := e.adm.UpdatePartitions(ctx, 3, "cp-topic")
	if err != nil {
		t.Fatal(err)
	}
	if r := ur["cp-topic"]; r.Err != nil {
		t.Fatalf("update to 3: %v (%s)", r.Err, r.ErrMessage)
	}
	if d, _ := e.topicDetail(t, "cp-topic"); len(d.Partitions) != 3 {
		t.Errorf("after update: %d partitions, want 3", len(d.Partitions))
	}
	// The new partitions take writes.
	rec := &kgo.Record{Topic: "cp-topic", Partition: 2, Value: []byte("x")}
	pcl := e.node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := pcl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Errorf("produce to new partition 2: %v", err)
	}

	for _, n := range []int{3, 2} {
		r, err := e.adm.UpdatePartitions(ctx, n, "cp-topic")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, fmt.Sprintf("update to %d", n), r["cp-topic"].Err, kerr.InvalidPartitions)
		if r["cp-topic"].ErrMessage == "" {
			t.Errorf("update to %d: no error message", n)
		}
	}
	r, err := e.adm.UpdatePartitions(ctx, 5, "cp-nosuch")
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatal(err)
	}
	if err == nil {
		wantErr(t, "unknown topic", r["cp-nosuch"].Err, kerr.UnknownTopicOrPartition)
	}

	// Explicit assignment, right and wrong.
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "cp-topic", 4
	a := kmsg.NewCreatePartitionsRequestTopicAssignment()
	a.Replicas = []int32{1}
	rt.Assignment = append(rt.Assignment, a)
	req.Topics = append(req.Topics, rt)
	resp := request[*kmsg.CreatePartitionsResponse](t, e, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		t.Errorf("explicit assignment: %+v", resp.Topics)
	}
	req.Topics[0].Count = 6 // two new partitions, one assignment
	resp = request[*kmsg.CreatePartitionsResponse](t, e, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Errorf("short assignment: %+v", resp.Topics)
	}
	if d, _ := e.topicDetail(t, "cp-topic"); len(d.Partitions) != 4 {
		t.Errorf("after explicit assignment: %d partitions, want 4", len(d.Partitions))
	}
}

func (e *env) topicConfig(t *testing.T, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := e.adm.DescribeTopicConfigs(testCtx(t), topic)
	if err != nil {
		t.Fatalf("describe %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("describe %s: no %s among %d configs", topic, key, len(rc.Configs))
	return kadm.Config{}
}

func val(c kadm.Config) string {
	if c.Value == nil {
		return "<nil>"
	}
	return *c.Value
}

func (e *env) testTopicConfigs(t *testing.T) {
	ctx := testCtx(t)
	e.createTopic(t, "cfg-topic", 1, map[string]*string{"retention.ms": kadm.StringPtr("60000")})

	c := e.topicConfig(t, "cfg-topic", "retention.ms")
	if val(c) != "60000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("retention.ms = %s from %v, want 60000 from DYNAMIC_TOPIC_CONFIG", val(c), c.Source)
	}
	if len(c.Synonyms) < 2 || c.Synonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig || c.Synonyms[len(c.Synonyms)-1].Key != "log.retention.hours" {
		t.Errorf("retention.ms synonyms %+v, want the topic value then log.retention.hours", c.Synonyms)
	}
	c = e.topicConfig(t, "cfg-topic", "cleanup.policy")
	if val(c) != "delete" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("cleanup.policy = %s from %v, want delete from DEFAULT_CONFIG", val(c), c.Source)
	}

	// ConfigNames filter, types and documentation through a raw v4 request.
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	dr := kmsg.NewDescribeConfigsRequestResource()
	dr.ResourceType, dr.ResourceName = kmsg.ConfigResourceTypeTopic, "cfg-topic"
	dr.ConfigNames = []string{"segment.bytes", "cleanup.policy"}
	dreq.Resources = append(dreq.Resources, dr)
	dreq.IncludeDocumentation = true
	dresp := request[*kmsg.DescribeConfigsResponse](t, e, dreq)
	if len(dresp.Resources) != 1 || len(dresp.Resources[0].Configs) != 2 {
		t.Fatalf("filtered describe: %+v", dresp.Resources)
	}
	for _, rc := range dresp.Resources[0].Configs {
		want := map[string]kmsg.ConfigType{"segment.bytes": kmsg.ConfigTypeInt, "cleanup.policy": kmsg.ConfigTypeList}[rc.Name]
		if rc.ConfigType != want || rc.ReadOnly || rc.IsSensitive || len(rc.ConfigSynonyms) != 0 {
			t.Errorf("filtered describe entry %+v: want type %v, writable, not sensitive, no synonyms", rc, want)
		}
	}
	dreq.Resources[0].ResourceName = "cfg-nosuch"
	dresp = request[*kmsg.DescribeConfigsResponse](t, e, dreq)
	if dresp.Resources[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("describe unknown topic: code %d", dresp.Resources[0].ErrorCode)
	}

	// Incremental: set, append, delete.
	alter := func(ops ...kadm.AlterConfig) kadm.AlterConfigsResponse {
		t.Helper()
		rs, err := e.adm.AlterTopicConfigs(ctx, ops, "cfg-topic")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := rs.On("cfg-topic", nil)
		return r
	}
	if r := alter(
		kadm.AlterConfig{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("2048")},
		kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact")},
		kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "retention.ms"},
	); r.Err != nil {
		t.Fatalf("incremental alter: %v (%s)", r.Err, r.ErrMessage)
	}
	if c := e.topicConfig(t, "cfg-topic", "max.message.bytes"); val(c) != "2048" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("after set: max.message.bytes = %s from %v", val(c), c.Source)
	}
	if c := e.topicConfig(t, "cfg-topic", "cleanup.policy"); val(c) != "delete,compact" {
		t.Errorf("after append: cleanup.policy = %s, want delete,compact", val(c))
	}
	if c := e.topicConfig(t, "cfg-topic", "retention.ms"); val(c) != "604800000" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("after delete: retention.ms = %s from %v, want the default", val(c), c.Source)
	}
	// The partition applies the new max.message.bytes.
	big := &kgo.Record{Topic: "cfg-topic", Value: make([]byte, 4096)}
	pcl := e.node.Client(t, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(1))
	if err := pcl.ProduceSync(ctx, big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("produce 4 KiB with max.message.bytes 2048: %v, want MESSAGE_TOO_LARGE", err)
	}

	if r := alter(kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: kadm.StringPtr("delete")}); r.Err != nil {
		t.Errorf("subtract: %v (%s)", r.Err, r.ErrMessage)
	}
	if c := e.topicConfig(t, "cfg-topic", "cleanup.policy"); val(c) != "compact" {
		t.Errorf("after subtract: cleanup.policy = %s, want compact", val(c))
	}
	r := alter(kadm.AlterConfig{Op: kadm.AppendConfig, Name: "retention.ms", Value: kadm.StringPtr("1")})
	wantErr(t, "append to a non-list", r.Err, kerr.InvalidConfig)
	r = alter(kadm.AlterConfig{Op: kadm.SetConfig, Name: "segment.bytes", Value: kadm.StringPtr("big")})
	wantErr(t, "bad value", r.Err, kerr.InvalidConfig)
	if !strings.Contains(r.ErrMessage, "segment.bytes") {
		t.Errorf("bad value message %q does not name segment.bytes", r.ErrMessage)
	}
	r = alter(kadm.AlterConfig{Op: kadm.SetConfig, Name: "no.such.config", Value: kadm.StringPtr("1")})
	wantErr(t, "unknown key", r.Err, kerr.InvalidConfig)

	// Validate only changes nothing.
	vs, err := e.adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("4096")}}, "cfg-topic")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := vs.On("cfg-topic", nil); r.Err != nil {
		t.Errorf("validate alter: %v", r.Err)
	}
	if c := e.topicConfig(t, "cfg-topic", "max.message.bytes"); val(c) != "2048" {
		t.Errorf("validate-only alter changed max.message.bytes to %s", val(c))
	}

	// Legacy AlterConfigs replaces the whole override set.
	ls, err := e.adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.ms", Value: kadm.StringPtr("3600000")}}, "cfg-topic")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := ls.On("cfg-topic", nil); r.Err != nil {
		t.Fatalf("legacy alter: %v (%s)", r.Err, r.ErrMessage)
	}
	if c := e.topicConfig(t, "cfg-topic", "segment.ms"); val(c) != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("after legacy alter: segment.ms = %s from %v", val(c), c.Source)
	}
	for _, k := range []string{"max.message.bytes", "cleanup.policy"} {
		if c := e.topicConfig(t, "cfg-topic", k); c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("after legacy alter: %s still from %v (%s)", k, c.Source, val(c))
		}
	}
	ls, err = e.adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("-5")}}, "cfg-topic")
	if err != nil {
		t.Fatal(err)
	}
	r, _ = ls.On("cfg-topic", nil)
	wantErr(t, "legacy bad value", r.Err, kerr.InvalidConfig)

	// Unknown topic.
	rs, err := e.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1")}}, "cfg-nosuch")
	if err != nil {
		t.Fatal(err)
	}
	r, _ = rs.On("cfg-nosuch", nil)
	wantErr(t, "alter unknown topic", r.Err, kerr.UnknownTopicOrPartition)
}

func brokerConfig(t *testing.T, rcs kadm.ResourceConfigs, name, key string) (kadm.Config, bool) {
	t.Helper()
	rc, err := rcs.On(name, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe broker %q: %v %v %s", name, err, rc.Err, rc.ErrMessage)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c, true
		}
	}
	return kadm.Config{}, false
}

func (e *env) testBrokerConfigs(t *testing.T) {
	ctx := testCtx(t)
	rcs, err := e.adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := brokerConfig(t, rcs, "1", "num.partitions"); !ok || val(c) != "1" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("num.partitions = %+v, want 1 from DEFAULT_CONFIG", c)
	}
	if c, ok := brokerConfig(t, rcs, "1", "node.id"); !ok || val(c) != "1" {
		t.Errorf("node.id = %+v, want 1", c)
	}

	// A cluster-wide dynamic default.
	as, err := e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.bytes", Value: kadm.StringPtr("123456789")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range as {
		if r.Err != nil {
			t.Fatalf("alter cluster default: %v (%s)", r.Err, r.ErrMessage)
		}
	}
	rcs, err = e.adm.DescribeBrokerConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := brokerConfig(t, rcs, "", "log.retention.bytes"); !ok || val(c) != "123456789" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("cluster default log.retention.bytes = %+v", c)
	}
	if _, ok := brokerConfig(t, rcs, "", "num.partitions"); ok {
		t.Errorf("cluster-default describe lists num.partitions, which has no dynamic default")
	}
	rcs, err = e.adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := brokerConfig(t, rcs, "1", "log.retention.bytes"); val(c) != "123456789" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("broker 1 log.retention.bytes = %s from %v", val(c), c.Source)
	}
	// Topics inherit it.
	e.createTopic(t, "bcfg-topic", 1, nil)
	if c := e.topicConfig(t, "bcfg-topic", "retention.bytes"); val(c) != "123456789" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("topic retention.bytes = %s from %v, want the dynamic default", val(c), c.Source)
	}

	// A per-broker dynamic value wins over the default.
	as, err = e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.bytes", Value: kadm.StringPtr("5555")}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := as.On("1", nil); r.Err != nil {
		t.Fatalf("alter broker 1: %v (%s)", r.Err, r.ErrMessage)
	}
	rcs, err = e.adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := brokerConfig(t, rcs, "1", "log.retention.bytes")
	if val(c) != "5555" || c.Source != kmsg.ConfigSourceDynamicBrokerConfig {
		t.Errorf("broker 1 log.retention.bytes = %s from %v, want 5555 from DYNAMIC_BROKER_CONFIG", val(c), c.Source)
	}
	if len(c.Synonyms) < 3 || c.Synonyms[1].Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("broker 1 log.retention.bytes synonyms %+v", c.Synonyms)
	}

	// Read-only settings and bad values.
	as, err = e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.dir", Value: kadm.StringPtr("/tmp/x")}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := as.On("1", nil)
	wantErr(t, "alter read-only log.dir", r.Err, kerr.InvalidRequest)
	if !strings.Contains(r.ErrMessage, "Cannot update these configs dynamically") {
		t.Errorf("read-only message %q", r.ErrMessage)
	}
	as, err = e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "num.partitions", Value: kadm.StringPtr("many")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range as {
		wantErr(t, "bad broker value", r.Err, kerr.InvalidRequest)
		if !strings.Contains(r.ErrMessage, "num.partitions") {
			t.Errorf("bad broker value message %q", r.ErrMessage)
		}
	}

	// Another node's id.
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	dr := kmsg.NewDescribeConfigsRequestResource()
	dr.ResourceType, dr.ResourceName = kmsg.ConfigResourceTypeBroker, "7"
	dreq.Resources = append(dreq.Resources, dr)
	dresp := request[*kmsg.DescribeConfigsResponse](t, e, dreq)
	if dresp.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("describe broker 7: code %d, want INVALID_REQUEST", dresp.Resources[0].ErrorCode)
	}

	// Delete the overrides again; the legacy API with an empty set clears
	// the per-broker ones.
	as, err = e.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "log.retention.bytes"}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := e.adm.AlterBrokerConfigsState(ctx, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := ls.On("1", nil); r.Err != nil {
		t.Errorf("legacy clear of broker 1: %v (%s)", r.Err, r.ErrMessage)
	}
	rcs, err = e.adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := brokerConfig(t, rcs, "1", "log.retention.bytes"); val(c) != "-1" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("after clearing: log.retention.bytes = %s from %v", val(c), c.Source)
	}
}

func (e *env) testDeleteRecords(t *testing.T) {
	ctx := testCtx(t)
	e.createTopic(t, "delrec", 1, nil)
	e.produce(t, "delrec", 10)

	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "delrec", Partition: 0, At: 4})
	rs, err := e.adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := rs.Lookup("delrec", 0); !ok || r.Err != nil || r.LowWatermark != 4 {
		t.Errorf("delete to 4: %+v", r)
	}
	starts, err := e.adm.ListStartOffsets(ctx, "delrec")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("delrec", 0); o.Err != nil || o.Offset != 4 {
		t.Errorf("start offset after delete %+v, want 4", o)
	}

	os = nil
	os.Add(kadm.Offset{Topic: "delrec", Partition: 0, At: 11})
	rs, err = e.adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rs.Lookup("delrec", 0)
	wantErr(t, "delete past the high watermark", r.Err, kerr.OffsetOutOfRange)

	os = nil
	os.Add(kadm.Offset{Topic: "delrec", Partition: 0, At: -1})
	rs, err = e.adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rs.Lookup("delrec", 0); r.Err != nil || r.LowWatermark != 10 {
		t.Errorf("delete to the high watermark: %+v", r)
	}

	// A compacted topic refuses.
	e.createTopic(t, "delrec-compact", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "delrec-compact"
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := request[*kmsg.DeleteRecordsResponse](t, e, req)
	if got := resp.Topics[0].Partitions[0].ErrorCode; got != kerr.PolicyViolation.Code {
		t.Errorf("delete records on a compacted topic: code %d, want POLICY_VIOLATION", got)
	}
}

func (e *env) testDescribeCluster(t *testing.T) {
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeClusterAuthorizedOperations = true
	resp := request[*kmsg.DescribeClusterResponse](t, e, req)
	if resp.ErrorCode != 0 {
		t.Fatalf("describe cluster: code %d %v", resp.ErrorCode, resp.ErrorMessage)
	}
	if resp.ClusterID == "" || resp.ControllerID != 1 || resp.EndpointType != 1 {
		t.Errorf("describe cluster: id %q controller %d endpoint type %d", resp.ClusterID, resp.ControllerID, resp.EndpointType)
	}
	_, port, _ := strings.Cut(e.node.Addr, ":")
	if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 1 || strconv.Itoa(int(resp.Brokers[0].Port)) != port || resp.Brokers[0].IsFenced {
		t.Errorf("describe cluster brokers: %+v (node at %s)", resp.Brokers, e.node.Addr)
	}
	if resp.ClusterAuthorizedOperations <= 0 {
		t.Errorf("cluster authorized operations %d", resp.ClusterAuthorizedOperations)
	}
	md, err := e.adm.BrokerMetadata(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if md.Cluster != resp.ClusterID {
		t.Errorf("DescribeCluster cluster id %q, Metadata %q", resp.ClusterID, md.Cluster)
	}

	req = kmsg.NewPtrDescribeClusterRequest()
	req.EndpointType = 2
	resp = request[*kmsg.DescribeClusterResponse](t, e, req)
	if resp.Version >= 1 && resp.ErrorCode != kerr.MismatchedEndpointType.Code {
		t.Errorf("controller endpoint type: code %d, want MISMATCHED_ENDPOINT_TYPE", resp.ErrorCode)
	}
	req.EndpointType = 9
	resp = request[*kmsg.DescribeClusterResponse](t, e, req)
	if resp.Version >= 1 && resp.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Errorf("endpoint type 9: code %d, want UNSUPPORTED_ENDPOINT_TYPE", resp.ErrorCode)
	}
}

func (e *env) testDescribeLogDirs(t *testing.T) {
	e.createTopic(t, "logdirs", 2, nil)
	e.produce(t, "logdirs", 20)

	all, err := e.adm.DescribeAllLogDirs(testCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := all[1]
	if len(dirs) != 1 {
		t.Fatalf("broker 1 log dirs: %+v", all)
	}
	want, _ := filepath.Abs(e.node.DataDir)
	for dir, d := range dirs {
		if d.Err != nil {
			t.Fatalf("log dir %s: %v", dir, d.Err)
		}
		if !filepath.IsAbs(dir) || filepath.Clean(dir) != filepath.Clean(want) {
			t.Errorf("log dir %q, want %q", dir, want)
		}
		if d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
			t.Errorf("log dir space: total %d usable %d", d.TotalBytes, d.UsableBytes)
		}
		var size int64
		for _, p := range d.Topics["logdirs"] {
			size += p.Size
			if p.OffsetLag != 0 || p.IsFuture {
				t.Errorf("partition %+v: want no lag, not future", p)
			}
		}
		if len(d.Topics["logdirs"]) != 2 || size <= 0 {
			t.Errorf("logdirs partitions %+v, total size %d", d.Topics["logdirs"], size)
		}
	}

	// Only what was asked for.
	one := make(kadm.TopicsSet)
	one.Add("logdirs", 1)
	some, err := e.adm.DescribeAllLogDirs(testCtx(t), one)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range some[1] {
		if len(d.Topics) != 1 || len(d.Topics["logdirs"]) != 1 {
			t.Errorf("asking for logdirs-1 returned %+v", d.Topics)
		}
	}
}

func (e *env) testDescribeTopicPartitions(t *testing.T) {
	e.createTopic(t, "dtp-a", 3, nil)
	e.createTopic(t, "dtp-b", 2, nil)

	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	for _, n := range []string{"dtp-b", "dtp-a", "dtp-nosuch"} {
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = n
		req.Topics = append(req.Topics, rt)
	}
	req.ResponsePartitionLimit = 2

	type part struct {
		topic string
		p     int32
	}
	var got []part
	ids := map[string][16]byte{}
	for page := 0; page < 10; page++ {
		resp := request[*kmsg.DescribeTopicPartitionsResponse](t, e, req)
		n := 0
		for _, st := range resp.Topics {
			name := *st.Topic
			if name == "dtp-nosuch" {
				if st.ErrorCode != kerr.UnknownTopicOrPartition.Code {
					t.Errorf("unknown topic: code %d", st.ErrorCode)
				}
				continue
			}
			if st.ErrorCode != 0 {
				t.Fatalf("%s: code %d", name, st.ErrorCode)
			}
			ids[name] = st.TopicID
			for _, sp := range st.Partitions {
				got = append(got, part{name, sp.Partition})
				n++
				if sp.LeaderID != 1 || len(sp.Replicas) != 1 || len(sp.ISR) != 1 || sp.EligibleLeaderReplicas == nil || len(sp.EligibleLeaderReplicas) != 0 {
					t.Errorf("%s-%d: %+v", name, sp.Partition, sp)
				}
			}
		}
		if n > 2 {
			t.Errorf("page %d: %d partitions, limit 2", page, n)
		}
		if resp.NextCursor == nil {
			break
		}
		c := kmsg.NewDescribeTopicPartitionsRequestCursor()
		c.Topic, c.Partition = resp.NextCursor.Topic, resp.NextCursor.Partition
		req.Cursor = &c
	}
	want := []part{{"dtp-a", 0}, {"dtp-a", 1}, {"dtp-a", 2}, {"dtp-b", 0}, {"dtp-b", 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("paged partitions %v, want %v", got, want)
	}
	if d, ok := e.topicDetail(t, "dtp-a"); !ok || d.TopicID != ids["dtp-a"] {
		t.Errorf("topic id %v, metadata says %v", ids["dtp-a"], d.TopicID)
	}

	// A cursor on a topic not in the list is an invalid request.
	c := kmsg.NewDescribeTopicPartitionsRequestCursor()
	c.Topic = "dtp-zzz"
	req.Cursor = &c
	resp := request[*kmsg.DescribeTopicPartitionsResponse](t, e, req)
	for _, st := range resp.Topics {
		if st.ErrorCode != kerr.InvalidRequest.Code {
			t.Errorf("bad cursor: %s code %d", *st.Topic, st.ErrorCode)
		}
	}
}

func (e *env) testDescribeProducers(t *testing.T) {
	ctx := testCtx(t)
	e.createTopic(t, "producers", 1, nil)
	pcl := e.node.Client(t, kgo.DefaultProduceTopic("producers"))
	for i := 0; i < 3; i++ {
		// Three batches of two records: last sequence 5.
		r1 := kgo.StringRecord(fmt.Sprintf("a%d", i))
		r2 := kgo.StringRecord(fmt.Sprintf("b%d", i))
		if err := pcl.ProduceSync(ctx, r1, r2).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	id, epoch, err := pcl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	set := make(kadm.TopicsSet)
	set.Add("producers", 0)
	described, err := e.adm.DescribeProducers(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	dp, ok := described["producers"].Partitions[0]
	if !ok || dp.Err != nil {
		t.Fatalf("describe producers: %+v", described)
	}
	if len(dp.ActiveProducers) != 1 {
		t.Fatalf("active producers %+v, want one", dp.ActiveProducers)
	}
	for _, p := range dp.ActiveProducers {
		if p.ProducerID != id || p.ProducerEpoch != epoch || p.LastSequence != 5 || p.CoordinatorEpoch != -1 || p.CurrentTxnStartOffset != -1 || p.LastTimestamp <= 0 {
			t.Errorf("producer %+v, want id %d epoch %d last sequence 5", p, id, epoch)
		}
	}

	// Unknown topic and partition.
	set = make(kadm.TopicsSet)
	set.Add("producers", 7)
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "producers", []int32{7}
	req.Topics = append(req.Topics, rt)
	rt = kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "producers-nosuch", []int32{0}
	req.Topics = append(req.Topics, rt)
	resp := request[*kmsg.DescribeProducersResponse](t, e, req)
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			if sp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("%s-%d: code %d, want UNKNOWN_TOPIC_OR_PARTITION", st.Topic, sp.Partition, sp.ErrorCode)
			}
		}
	}
}
