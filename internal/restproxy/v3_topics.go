package restproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Brokers, topics, partitions, replicas and reassignments.

// maxPartitions bounds partitions_count (creating and raising).
const maxPartitions = 10000

func (a *v3) routesBrokers(h func(string, v3Handler)) {
	const b = "/v3/clusters/{cid}/brokers"
	h("GET "+b, a.listBrokers)
	h("GET "+b+"/{bid}", a.getBroker)
	h("GET "+b+"/{bid}/partition-replicas", a.brokerReplicas)
	h("GET "+b+"/{bid}/configs", a.brokerCfgs(a.listConfigs))
	h("GET "+b+"/{bid}/configs/{name}", a.brokerCfgs(a.getConfig))
	h("PUT "+b+"/{bid}/configs/{name}", a.brokerCfgs(noCID(a.putConfig)))
	h("DELETE "+b+"/{bid}/configs/{name}", a.brokerCfgs(noCID(a.deleteConfig)))
	h("POST "+b+"/{bid}/configs:alter", a.brokerCfgs(noCID(a.alterConfigsBatch)))
	const c = "/v3/clusters/{cid}/broker-configs"
	h("GET "+c, a.brokerCfgs(a.listConfigs))
	h("GET "+c+"/{name}", a.brokerCfgs(a.getConfig))
	h("PUT "+c+"/{name}", a.brokerCfgs(noCID(a.putConfig)))
	h("DELETE "+c+"/{name}", a.brokerCfgs(noCID(a.deleteConfig)))
	h("POST "+c+":alter", a.brokerCfgs(noCID(a.alterConfigsBatch)))
}

func (a *v3) routesTopics(h func(string, v3Handler)) {
	const t = "/v3/clusters/{cid}/topics"
	h("GET "+t, a.listTopics)
	h("POST "+t, a.createTopic)
	h("GET "+t+"/{t}", a.getTopic)
	h("PATCH "+t+"/{t}", a.patchTopic)
	h("DELETE "+t+"/{t}", a.deleteTopic)
	h("GET "+t+"/{t}/configs", a.topicCfgs(a.listConfigs))
	h("GET "+t+"/{t}/configs/{name}", a.topicCfgs(a.getConfig))
	h("PUT "+t+"/{t}/configs/{name}", a.topicCfgs(noCID(a.putConfig)))
	h("DELETE "+t+"/{t}/configs/{name}", a.topicCfgs(noCID(a.deleteConfig)))
	h("POST "+t+"/{t}/configs:alter", a.topicCfgs(noCID(a.alterConfigsBatch)))
	h("GET "+t+"/{t}/partitions", a.listPartitions)
	h("GET "+t+"/{t}/partitions/{p}", a.getPartition)
	h("GET "+t+"/{t}/partitions/{p}/replicas", a.listReplicas)
	h("GET "+t+"/{t}/partitions/{p}/replicas/{bid}", a.getReplica)
	h("GET "+t+"/{t}/partitions/{p}/reassignment", a.reassignments)
	h("GET "+t+"/{t}/partitions/-/reassignment", a.reassignments)
	h("GET "+t+"/-/partitions/-/reassignment", a.reassignments)
}

// cfgHandler answers about the configs of a target.
type cfgHandler = func(http.ResponseWriter, *http.Request, string, cfgTarget) error

// noCID adapts a config handler that needs no cluster id.
func noCID(f func(http.ResponseWriter, *http.Request, cfgTarget) error) cfgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ string, t cfgTarget) error { return f(w, r, t) }
}

// brokerCfgs runs f on the configs of broker {bid} (or the cluster-wide
// broker configs without {bid}), after checking the cluster and the broker.
func (a *v3) brokerCfgs(f cfgHandler) v3Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		cid, err := a.cluster(r)
		if err != nil {
			return err
		}
		id := r.PathValue("bid")
		if id != "" {
			if _, err := a.broker(r); err != nil {
				return err
			}
		}
		return f(w, r, cid, brokerCfg(cid, id))
	}
}

// topicCfgs runs f on the configs of topic {t}, after checking the cluster
// and the topic.
func (a *v3) topicCfgs(f cfgHandler) v3Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		cid, err := a.cluster(r)
		if err != nil {
			return err
		}
		if _, err := a.topic(r.Context(), r.PathValue("t")); err != nil {
			return err
		}
		return f(w, r, cid, topicCfg(cid, r.PathValue("t")))
	}
}

// broker is broker {bid} (404 if there is none).
func (a *v3) broker(r *http.Request) (kadm.BrokerDetail, error) {
	id, err := v3PathInt32(r, "bid")
	if err != nil {
		return kadm.BrokerDetail{}, err
	}
	bs, err := a.s.kadm(r.Context()).ListBrokers(r.Context())
	if err != nil {
		return kadm.BrokerDetail{}, fmt.Errorf("list brokers: %w", err)
	}
	for _, b := range bs {
		if b.NodeID == id {
			return b, nil
		}
	}
	return kadm.BrokerDetail{}, apiErr(404, 404, "Broker %d cannot be found.", id)
}

func (a *v3) brokerObj(cid string, b kadm.BrokerDetail) obj {
	id := strconv.Itoa(int(b.NodeID))
	return obj{
		"kind":               "KafkaBroker",
		"metadata":           v3Meta(a.curl(cid, "brokers", id), "crn:///kafka="+cid+"/broker="+id),
		"cluster_id":         cid,
		"broker_id":          b.NodeID,
		"host":               b.Host,
		"port":               b.Port,
		"rack":               b.Rack,
		"configs":            v3Rel(a.curl(cid, "brokers", id, "configs")),
		"partition_replicas": v3Rel(a.curl(cid, "brokers", id, "partition-replicas")),
	}
}

func (a *v3) listBrokers(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	bs, err := a.s.kadm(r.Context()).ListBrokers(r.Context())
	if err != nil {
		return fmt.Errorf("list brokers: %w", err)
	}
	data := make([]obj, 0, len(bs))
	for _, b := range bs {
		data = append(data, a.brokerObj(cid, b))
	}
	return v3OK(w, 200, v3Coll("KafkaBrokerList", a.curl(cid, "brokers"), data))
}

func (a *v3) getBroker(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	b, err := a.broker(r)
	if err != nil {
		return err
	}
	return v3OK(w, 200, a.brokerObj(cid, b))
}

// brokerReplicas lists the partition replicas broker {bid} hosts.
func (a *v3) brokerReplicas(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	b, err := a.broker(r)
	if err != nil {
		return err
	}
	ts, err := a.s.kadm(r.Context()).ListTopicsWithInternal(r.Context())
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	var data []obj
	for _, name := range ts.Names() {
		for _, p := range ts[name].Partitions.Sorted() {
			if slices.Contains(p.Replicas, b.NodeID) {
				data = append(data, a.replicaObj(cid, p, b.NodeID))
			}
		}
	}
	return v3OK(w, 200, v3Coll("KafkaReplicaList", a.curl(cid, "brokers", strconv.Itoa(int(b.NodeID)), "partition-replicas"), data))
}

// topic is topic t's metadata (404 if there is none).
func (a *v3) topic(ctx context.Context, t string) (kadm.TopicDetail, error) {
	if !validTopicName(t) { // no such topic can exist
		return kadm.TopicDetail{}, apiErr(404, 404, "This server does not host this topic-partition.")
	}
	var d kadm.TopicDetail
	err := retryTransient(ctx, func() error {
		ts, err := a.s.kadm(ctx).ListTopicsWithInternal(ctx, t)
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		var found bool
		d, found = ts[t]
		if !found || errors.Is(d.Err, kerr.UnknownTopicOrPartition) || errors.Is(d.Err, kerr.InvalidTopicException) {
			return apiErr(404, 404, "This server does not host this topic-partition.")
		}
		if d.Err != nil {
			return fmt.Errorf("metadata of %s: %w", t, d.Err)
		}
		return nil
	})
	return d, err
}

func (a *v3) topicObj(cid, t string, internal bool, partitions, rf int) obj {
	return obj{
		"kind":                    "KafkaTopic",
		"metadata":                v3Meta(a.curl(cid, "topics", t), "crn:///kafka="+cid+"/topic="+t),
		"cluster_id":              cid,
		"topic_name":              t,
		"is_internal":             internal,
		"replication_factor":      rf,
		"partitions_count":        partitions,
		"partitions":              v3Rel(a.curl(cid, "topics", t, "partitions")),
		"configs":                 v3Rel(a.curl(cid, "topics", t, "configs")),
		"partition_reassignments": v3Rel(a.curl(cid, "topics", t, "partitions", "-", "reassignment")),
		"authorized_operations":   []string{},
	}
}

func (a *v3) topicDetailObj(cid string, d kadm.TopicDetail) obj {
	rf := 0
	if p, found := d.Partitions[0]; found {
		rf = len(p.Replicas)
	}
	return a.topicObj(cid, d.Topic, d.IsInternal, len(d.Partitions), rf)
}

func (a *v3) listTopics(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	ts, err := a.s.kadm(r.Context()).ListTopicsWithInternal(r.Context())
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	data := make([]obj, 0, len(ts))
	for _, name := range ts.Names() {
		data = append(data, a.topicDetailObj(cid, ts[name]))
	}
	return v3OK(w, 200, v3Coll("KafkaTopicList", a.curl(cid, "topics"), data))
}

func (a *v3) getTopic(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, err := a.topic(r.Context(), r.PathValue("t"))
	if err != nil {
		return err
	}
	return v3OK(w, 200, a.topicDetailObj(cid, d))
}

// createTopicBody is the body of POST /topics.
type createTopicBody struct {
	TopicName           string  `json:"topic_name"`
	PartitionsCount     *jInt32 `json:"partitions_count"`
	ReplicationFactor   *jInt16 `json:"replication_factor"`
	ReplicasAssignments []struct {
		PartitionID *jInt32  `json:"partition_id"`
		BrokerIDs   []jInt32 `json:"broker_ids"`
	} `json:"replicas_assignments"`
	Configs []struct {
		Name  string  `json:"name"`
		Value *string `json:"value"`
	} `json:"configs"`
	ValidateOnly bool `json:"validate_only"`
}

func (a *v3) createTopic(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	var b createTopicBody
	if err := a.decodeBody(w, r, &b); err != nil {
		return err
	}
	req, err := b.request()
	if err != nil {
		return err
	}
	resp, err := req.RequestWith(r.Context(), a.s.kclient(r.Context()))
	if err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("create topic: %d topics in the answer", len(resp.Topics))
	}
	rt := resp.Topics[0]
	if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
		msg := err.Error()
		if rt.ErrorMessage != nil {
			msg = *rt.ErrorMessage
		}
		st := kafkaStatus(err.(*kerr.Error))
		if errors.Is(err, kerr.TopicAlreadyExists) {
			msg = fmt.Sprintf("Topic '%s' already exists.", b.TopicName)
		}
		return apiErr(st, st, "%s", msg)
	}
	o := a.topicObj(cid, b.TopicName, false, int(rt.NumPartitions), int(rt.ReplicationFactor))
	if b.ValidateOnly { // nothing was created
		return v3OK(w, 200, o)
	}
	a.awaitTopic(r.Context(), b.TopicName)
	return v3OK(w, 201, o)
}

// awaitTopic waits (a little) until metadata shows topic t, so that what
// the client does next with it finds it.
func (a *v3) awaitTopic(ctx context.Context, t string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if _, err := a.topic(ctx, t); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// request is the CreateTopics request of b, checked.
func (b *createTopicBody) request() (*kmsg.CreateTopicsRequest, error) {
	if b.TopicName == "" {
		return nil, apiErr(400, 400, "topic_name is required")
	}
	if !validTopicName(b.TopicName) { // refused here, before the cluster is asked
		return nil, apiErr(400, 400, "topic_name %q: want 1 to 249 of [a-zA-Z0-9._-], not . or ..", b.TopicName)
	}
	if b.PartitionsCount != nil && (*b.PartitionsCount < 1 || *b.PartitionsCount > maxPartitions) {
		return nil, apiErr(400, 400, "partitions_count must be 1 to %d", maxPartitions)
	}
	if b.ReplicationFactor != nil && *b.ReplicationFactor < 1 {
		return nil, apiErr(400, 400, "replication_factor must be positive")
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.ValidateOnly = b.ValidateOnly
	req.TimeoutMillis = 30000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = b.TopicName, -1, -1
	if b.PartitionsCount != nil {
		t.NumPartitions = int32(*b.PartitionsCount)
	}
	if b.ReplicationFactor != nil {
		t.ReplicationFactor = int16(*b.ReplicationFactor)
	}
	for _, ra := range b.ReplicasAssignments {
		if ra.PartitionID == nil || ra.BrokerIDs == nil {
			return nil, apiErr(400, 400, "a replicas assignment needs partition_id and broker_ids")
		}
		ta := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ta.Partition = int32(*ra.PartitionID)
		for _, id := range ra.BrokerIDs {
			ta.Replicas = append(ta.Replicas, int32(id))
		}
		t.ReplicaAssignment = append(t.ReplicaAssignment, ta)
	}
	for _, c := range b.Configs {
		if c.Name == "" {
			return nil, apiErr(400, 400, "a config without a name")
		}
		tc := kmsg.NewCreateTopicsRequestTopicConfig()
		tc.Name, tc.Value = c.Name, c.Value
		t.Configs = append(t.Configs, tc)
	}
	req.Topics = append(req.Topics, t)
	return req, nil
}

// patchTopic raises the partition count: {"partitions_count": n}.
func (a *v3) patchTopic(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	t := r.PathValue("t")
	if _, err := a.topic(r.Context(), t); err != nil {
		return err
	}
	var b struct {
		PartitionsCount jInt32 `json:"partitions_count"`
	}
	if err := a.decodeBody(w, r, &b); err != nil {
		return err
	}
	if b.PartitionsCount < 1 || b.PartitionsCount > maxPartitions {
		return apiErr(400, 400, "partitions_count must be 1 to %d", maxPartitions)
	}
	rs, err := a.s.kadm(r.Context()).UpdatePartitions(r.Context(), int(b.PartitionsCount), t)
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	if res, err := rs.On(t, nil); err == nil && res.Err != nil {
		msg := res.Err.Error()
		if res.ErrMessage != "" {
			msg = res.ErrMessage
		}
		st := 400
		var ke *kerr.Error
		if errors.As(res.Err, &ke) {
			st = kafkaStatus(ke)
		}
		if errors.Is(res.Err, kerr.InvalidPartitions) { // not above the current count
			st = 409
		}
		return apiErr(st, st, "%s", msg)
	}
	d, err := a.topic(r.Context(), t)
	if err != nil {
		return err
	}
	o := a.topicDetailObj(cid, d)
	o["partitions_count"] = max(int(b.PartitionsCount), len(d.Partitions))
	return v3OK(w, 200, o)
}

func (a *v3) deleteTopic(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.cluster(r); err != nil {
		return err
	}
	t := r.PathValue("t")
	resp, err := a.s.kadm(r.Context()).DeleteTopic(r.Context(), t)
	if err != nil {
		return fmt.Errorf("delete topic: %w", err)
	}
	if resp.Err != nil {
		var ke *kerr.Error
		if errors.As(resp.Err, &ke) {
			if ke == kerr.UnknownTopicOrPartition {
				return apiErr(404, 404, "This server does not host this topic-partition.")
			}
			st := kafkaStatus(ke)
			return apiErr(st, st, "delete topic %s: %v", t, ke)
		}
		return fmt.Errorf("delete topic %s: %w", t, resp.Err)
	}
	return v3NoContent(w)
}

// partition is partition {p} of topic {t} (404 if either is unknown).
func (a *v3) partition(r *http.Request) (kadm.PartitionDetail, error) {
	d, err := a.topic(r.Context(), r.PathValue("t"))
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	p, err := v3PathInt32(r, "p")
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	pd, found := d.Partitions[p]
	if !found {
		return kadm.PartitionDetail{}, apiErr(404, 404, "This server does not host this topic-partition.")
	}
	return pd, nil
}

func (a *v3) partitionObj(cid string, p kadm.PartitionDetail) obj {
	ps := strconv.Itoa(int(p.Partition))
	o := obj{
		"kind":         "KafkaPartition",
		"metadata":     v3Meta(a.curl(cid, "topics", p.Topic, "partitions", ps), "crn:///kafka="+cid+"/topic="+p.Topic+"/partition="+ps),
		"cluster_id":   cid,
		"topic_name":   p.Topic,
		"partition_id": p.Partition,
		"leader":       nil,
		"replicas":     v3Rel(a.curl(cid, "topics", p.Topic, "partitions", ps, "replicas")),
		"reassignment": v3Rel(a.curl(cid, "topics", p.Topic, "partitions", ps, "reassignment")),
	}
	if p.Leader >= 0 {
		o["leader"] = v3Rel(a.curl(cid, "topics", p.Topic, "partitions", ps, "replicas", strconv.Itoa(int(p.Leader))))
	}
	return o
}

func (a *v3) replicaObj(cid string, p kadm.PartitionDetail, broker int32) obj {
	ps, bs := strconv.Itoa(int(p.Partition)), strconv.Itoa(int(broker))
	return obj{
		"kind": "KafkaReplica",
		"metadata": v3Meta(a.curl(cid, "topics", p.Topic, "partitions", ps, "replicas", bs),
			"crn:///kafka="+cid+"/topic="+p.Topic+"/partition="+ps+"/replica="+bs),
		"cluster_id":   cid,
		"topic_name":   p.Topic,
		"partition_id": p.Partition,
		"broker_id":    broker,
		"is_leader":    p.Leader == broker,
		"is_in_sync":   slices.Contains(p.ISR, broker),
		"broker":       v3Rel(a.curl(cid, "brokers", bs)),
	}
}

func (a *v3) listPartitions(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, err := a.topic(r.Context(), r.PathValue("t"))
	if err != nil {
		return err
	}
	var data []obj
	for _, p := range d.Partitions.Sorted() {
		data = append(data, a.partitionObj(cid, p))
	}
	return v3OK(w, 200, v3Coll("KafkaPartitionList", a.curl(cid, "topics", d.Topic, "partitions"), data))
}

func (a *v3) getPartition(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	p, err := a.partition(r)
	if err != nil {
		return err
	}
	return v3OK(w, 200, a.partitionObj(cid, p))
}

func (a *v3) listReplicas(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	p, err := a.partition(r)
	if err != nil {
		return err
	}
	var data []obj
	for _, b := range p.Replicas {
		data = append(data, a.replicaObj(cid, p, b))
	}
	return v3OK(w, 200, v3Coll("KafkaReplicaList", a.curl(cid, "topics", p.Topic, "partitions", strconv.Itoa(int(p.Partition)), "replicas"), data))
}

func (a *v3) getReplica(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	p, err := a.partition(r)
	if err != nil {
		return err
	}
	b, err := v3PathInt32(r, "bid")
	if err != nil {
		return err
	}
	if !slices.Contains(p.Replicas, b) {
		return apiErr(404, 404, "Replica %d of %s-%d cannot be found.", b, p.Topic, p.Partition)
	}
	return v3OK(w, 200, a.replicaObj(cid, p, b))
}

// reassignments answers the ongoing reassignments: of one partition (one
// object, 404 if there is none), of a topic's partitions or of every
// partition (lists).
func (a *v3) reassignments(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	t, p := r.PathValue("t"), r.PathValue("p")
	var set kadm.TopicsSet
	if t != "" {
		d, err := a.topic(r.Context(), t)
		if err != nil {
			return err
		}
		set = kadm.TopicsSet{}
		ps := make([]int32, 0, len(d.Partitions))
		for id := range d.Partitions {
			ps = append(ps, id)
		}
		set.Add(t, ps...)
	}
	rs, err := a.s.kadm(r.Context()).ListPartitionReassignments(r.Context(), set)
	if err != nil {
		return fmt.Errorf("list reassignments: %w", err)
	}
	var data []obj
	for _, topic := range v3SortedKeys(rs) {
		parts := rs[topic]
		ids := make([]int32, 0, len(parts))
		for id := range parts {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			data = append(data, a.reassignmentObj(cid, parts[id]))
		}
	}
	if p != "" {
		pp, err := a.partition(r)
		if err != nil {
			return err
		}
		if ra, found := rs[t][pp.Partition]; found {
			return v3OK(w, 200, a.reassignmentObj(cid, ra))
		}
		return apiErr(404, 404, "No ongoing reassignment of %s-%d.", t, pp.Partition)
	}
	self := a.curl(cid, "topics", "-", "partitions", "-", "reassignment")
	if t != "" {
		self = a.curl(cid, "topics", t, "partitions", "-", "reassignment")
	}
	return v3OK(w, 200, v3Coll("KafkaReassignmentList", self, data))
}

func (a *v3) reassignmentObj(cid string, ra kadm.ListPartitionReassignmentsResponse) obj {
	ps := strconv.Itoa(int(ra.Partition))
	nz := func(s []int32) []int32 {
		if s == nil {
			return []int32{}
		}
		return s
	}
	return obj{
		"kind": "KafkaReassignment",
		"metadata": v3Meta(a.curl(cid, "topics", ra.Topic, "partitions", ps, "reassignment"),
			"crn:///kafka="+cid+"/topic="+ra.Topic+"/partition="+ps),
		"cluster_id":        cid,
		"topic_name":        ra.Topic,
		"partition_id":      ra.Partition,
		"adding_replicas":   nz(ra.AddingReplicas),
		"removing_replicas": nz(ra.RemovingReplicas),
		"replicas":          v3Rel(a.curl(cid, "topics", ra.Topic, "partitions", ps, "replicas")),
	}
}

// v3SortedKeys is m's keys in order.
func v3SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// validTopicName says Kafka could have a topic of that name.
func validTopicName(t string) bool {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
