package restproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Consumer groups: list, get, consumers and their assignments, lags and
// the lag summary.

func (a *v3) routesGroups(h func(string, v3Handler)) {
	const g = "/v3/clusters/{cid}/consumer-groups"
	h("GET "+g, a.listGroups)
	h("GET "+g+"/{g}", a.getGroup)
	h("GET "+g+"/{g}/consumers", a.listConsumers)
	h("GET "+g+"/{g}/consumers/{c}", a.getConsumer)
	h("GET "+g+"/{g}/consumers/{c}/assignments", a.listAssignments)
	h("GET "+g+"/{g}/lags", a.listLags)
	h("GET "+g+"/{g}/lags/{t}/partitions/{p}", a.getLag)
	h("GET "+g+"/{g}/lag-summary", a.lagSummary)
	h("POST "+g+"/{g}/offsets", a.commitOffsets)
}

// commitOffsets is POST .../consumer-groups/{g}/offsets (beyond
// Confluent): {"offsets":[{"topic_name","partition_id","offset","metadata"?}]}
// commits those offsets for the group, as a simple consumer does; a group
// with active members refuses it (409).
func (a *v3) commitOffsets(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.cluster(r); err != nil {
		return err
	}
	var body struct {
		Offsets []struct {
			TopicName   string  `json:"topic_name"`
			PartitionID *jInt32 `json:"partition_id"`
			Offset      *jInt64 `json:"offset"`
			Metadata    string  `json:"metadata"`
		} `json:"offsets"`
	}
	if err := a.decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Offsets) == 0 {
		return apiErr(400, 400, "offsets: none")
	}
	os := kadm.Offsets{}
	for i, o := range body.Offsets {
		if !validTopicName(o.TopicName) || o.PartitionID == nil || o.Offset == nil || *o.PartitionID < 0 || *o.Offset < 0 {
			return apiErr(400, 400, "offsets[%d]: want a Kafka topic_name, partition_id and a non-negative offset", i)
		}
		os.Add(kadm.Offset{Topic: o.TopicName, Partition: int32(*o.PartitionID), At: int64(*o.Offset), LeaderEpoch: -1, Metadata: o.Metadata})
	}
	g := r.PathValue("g")
	resp, err := a.s.kadm(r.Context()).CommitOffsets(r.Context(), g, os)
	if err != nil {
		return fmt.Errorf("commit offsets of %s: %w", g, err)
	}
	if err := resp.Error(); err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			st := kafkaStatus(ke)
			switch ke {
			case kerr.UnknownMemberID, kerr.IllegalGeneration, kerr.RebalanceInProgress:
				st = 409 // the group has members of its own
			}
			return apiErr(st, st, "commit offsets of %s: %v", g, ke)
		}
		return fmt.Errorf("commit offsets of %s: %w", g, err)
	}
	return v3NoContent(w)
}

// groupState is a Kafka group state as Confluent writes it:
// PreparingRebalance is PREPARING_REBALANCE.
func groupState(s string) string {
	if s == "" {
		return "UNKNOWN"
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// group describes group {g} (404 if it does not exist).
func (a *v3) group(ctx context.Context, g string) (kadm.DescribedGroup, error) {
	ds, err := a.s.kadm(ctx).DescribeGroups(ctx, g)
	if err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("describe group: %w", err)
	}
	d, found := ds[g]
	if !found || d.State == "Dead" {
		return kadm.DescribedGroup{}, apiErr(404, 404, "Consumer group %s cannot be found.", g)
	}
	if d.Err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("describe group %s: %w", g, d.Err)
	}
	return d, nil
}

func (a *v3) groupObj(cid string, d kadm.DescribedGroup) obj {
	return obj{
		"kind":               "KafkaConsumerGroup",
		"metadata":           v3Meta(a.curl(cid, "consumer-groups", d.Group), "crn:///kafka="+cid+"/consumer-group="+d.Group),
		"cluster_id":         cid,
		"consumer_group_id":  d.Group,
		"is_simple":          d.ProtocolType == "",
		"partition_assignor": d.Protocol,
		"state":              groupState(d.State),
		"type":               "CLASSIC",
		"coordinator":        v3Rel(a.curl(cid, "brokers", strconv.Itoa(int(d.Coordinator.NodeID)))),
		"consumers":          v3Rel(a.curl(cid, "consumer-groups", d.Group, "consumers")),
		"lag_summary":        v3Rel(a.curl(cid, "consumer-groups", d.Group, "lag-summary")),
	}
}

func (a *v3) listGroups(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	ls, err := a.s.kadm(r.Context()).ListGroups(r.Context())
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	var data []obj
	if names := ls.Groups(); len(names) > 0 {
		ds, err := a.s.kadm(r.Context()).DescribeGroups(r.Context(), names...)
		if err != nil {
			return fmt.Errorf("describe groups: %w", err)
		}
		for _, d := range ds.Sorted() {
			if d.Err == nil {
				data = append(data, a.groupObj(cid, d))
			}
		}
	}
	return v3OK(w, 200, v3Coll("KafkaConsumerGroupList", a.curl(cid, "consumer-groups"), data))
}

func (a *v3) getGroup(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, err := a.group(r.Context(), r.PathValue("g"))
	if err != nil {
		return err
	}
	return v3OK(w, 200, a.groupObj(cid, d))
}

func (a *v3) consumerObj(cid, g string, m kadm.DescribedGroupMember) obj {
	return obj{
		"kind":              "KafkaConsumer",
		"metadata":          v3Meta(a.curl(cid, "consumer-groups", g, "consumers", m.MemberID), "crn:///kafka="+cid+"/consumer-group="+g+"/consumer="+m.MemberID),
		"cluster_id":        cid,
		"consumer_group_id": g,
		"consumer_id":       m.MemberID,
		"instance_id":       m.InstanceID,
		"client_id":         m.ClientID,
		"assignments":       v3Rel(a.curl(cid, "consumer-groups", g, "consumers", m.MemberID, "assignments")),
	}
}

func (a *v3) listConsumers(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, err := a.group(r.Context(), r.PathValue("g"))
	if err != nil {
		return err
	}
	var data []obj
	for _, m := range d.Members {
		data = append(data, a.consumerObj(cid, d.Group, m))
	}
	return v3OK(w, 200, v3Coll("KafkaConsumerList", a.curl(cid, "consumer-groups", d.Group, "consumers"), data))
}

// member is consumer {c} of group {g}.
func (a *v3) member(r *http.Request) (kadm.DescribedGroup, kadm.DescribedGroupMember, error) {
	d, err := a.group(r.Context(), r.PathValue("g"))
	if err != nil {
		return d, kadm.DescribedGroupMember{}, err
	}
	c := r.PathValue("c")
	for _, m := range d.Members {
		if m.MemberID == c {
			return d, m, nil
		}
	}
	return d, kadm.DescribedGroupMember{}, apiErr(404, 404, "Consumer %s cannot be found in group %s.", c, d.Group)
}

func (a *v3) getConsumer(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, m, err := a.member(r)
	if err != nil {
		return err
	}
	return v3OK(w, 200, a.consumerObj(cid, d.Group, m))
}

func (a *v3) listAssignments(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	d, m, err := a.member(r)
	if err != nil {
		return err
	}
	var data []obj
	if c, isConsumer := m.Assigned.AsConsumer(); isConsumer {
		for _, t := range c.Topics {
			for _, p := range t.Partitions {
				ps := strconv.Itoa(int(p))
				data = append(data, obj{
					"kind":              "KafkaConsumerAssignment",
					"metadata":          v3Meta(a.curl(cid, "consumer-groups", d.Group, "consumers", m.MemberID, "assignments", t.Topic, "partitions", ps), ""),
					"cluster_id":        cid,
					"consumer_group_id": d.Group,
					"consumer_id":       m.MemberID,
					"topic_name":        t.Topic,
					"partition_id":      p,
					"partition":         v3Rel(a.curl(cid, "topics", t.Topic, "partitions", ps)),
					"lag":               v3Rel(a.curl(cid, "consumer-groups", d.Group, "lags", t.Topic, "partitions", ps)),
				})
			}
		}
	}
	return v3OK(w, 200, v3Coll("KafkaConsumerAssignmentList", a.curl(cid, "consumer-groups", d.Group, "consumers", m.MemberID, "assignments"), data))
}

// lags computes the lag of group {g} on every partition it committed or
// is assigned, in topic and partition order.
func (a *v3) lags(ctx context.Context, g string) ([]kadm.GroupMemberLag, error) {
	if _, err := a.group(ctx, g); err != nil {
		return nil, err
	}
	ls, err := a.s.kadm(ctx).Lag(ctx, g)
	if err != nil {
		return nil, fmt.Errorf("lag of %s: %w", g, err)
	}
	l, found := ls[g]
	if !found {
		return nil, apiErr(404, 404, "Consumer group %s cannot be found.", g)
	}
	if err := l.Error(); err != nil {
		return nil, fmt.Errorf("lag of %s: %w", g, err)
	}
	var out []kadm.GroupMemberLag
	for _, t := range v3SortedKeys(l.Lag) {
		ps := l.Lag[t]
		ids := make([]int32, 0, len(ps))
		for p := range ps {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		for _, p := range ids {
			out = append(out, ps[p])
		}
	}
	return out, nil
}

func (a *v3) lagObj(cid, g string, l kadm.GroupMemberLag) obj {
	ps := strconv.Itoa(int(l.Partition))
	o := obj{
		"kind":              "KafkaConsumerLag",
		"metadata":          v3Meta(a.curl(cid, "consumer-groups", g, "lags", l.Topic, "partitions", ps), "crn:///kafka="+cid+"/consumer-group="+g+"/lag="+l.Topic+"/partition="+ps),
		"cluster_id":        cid,
		"consumer_group_id": g,
		"topic_name":        l.Topic,
		"partition_id":      l.Partition,
		"current_offset":    l.Commit.At,
		"log_end_offset":    l.End.Offset,
		"lag":               max(l.Lag, 0),
		"consumer_id":       "",
		"instance_id":       nil,
		"client_id":         "",
	}
	if l.Member != nil {
		o["consumer_id"], o["instance_id"], o["client_id"] = l.Member.MemberID, l.Member.InstanceID, l.Member.ClientID
	}
	return o
}

func (a *v3) listLags(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	g := r.PathValue("g")
	ls, err := a.lags(r.Context(), g)
	if err != nil {
		return err
	}
	var data []obj
	for _, l := range ls {
		data = append(data, a.lagObj(cid, g, l))
	}
	return v3OK(w, 200, v3Coll("KafkaConsumerLagList", a.curl(cid, "consumer-groups", g, "lags"), data))
}

func (a *v3) getLag(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	g, t := r.PathValue("g"), r.PathValue("t")
	p, err := v3PathInt32(r, "p")
	if err != nil {
		return err
	}
	ls, err := a.lags(r.Context(), g)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Topic == t && l.Partition == p {
			return v3OK(w, 200, a.lagObj(cid, g, l))
		}
	}
	return apiErr(404, 404, "Consumer group %s has no lag on %s-%d.", g, t, p)
}

func (a *v3) lagSummary(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	g := r.PathValue("g")
	ls, err := a.lags(r.Context(), g)
	if err != nil {
		return err
	}
	o := obj{
		"kind":                 "KafkaConsumerGroupLagSummary",
		"metadata":             v3Meta(a.curl(cid, "consumer-groups", g, "lag-summary"), "crn:///kafka="+cid+"/consumer-group="+g+"/lag-summary"),
		"cluster_id":           cid,
		"consumer_group_id":    g,
		"max_lag_consumer_id":  "",
		"max_lag_instance_id":  nil,
		"max_lag_client_id":    "",
		"max_lag_topic_name":   "",
		"max_lag_partition_id": 0,
		"max_lag":              int64(0),
		"total_lag":            int64(0),
		"max_lag_consumer":     nil,
		"max_lag_partition":    nil,
	}
	var total, maxLag int64 = 0, -1
	for _, l := range ls {
		lag := max(l.Lag, 0)
		total += lag
		if lag <= maxLag {
			continue
		}
		maxLag = lag
		ps := strconv.Itoa(int(l.Partition))
		o["max_lag"], o["max_lag_topic_name"], o["max_lag_partition_id"] = lag, l.Topic, l.Partition
		o["max_lag_partition"] = v3Rel(a.curl(cid, "topics", l.Topic, "partitions", ps))
		o["max_lag_consumer_id"], o["max_lag_instance_id"], o["max_lag_client_id"], o["max_lag_consumer"] = "", nil, "", nil
		if l.Member != nil {
			o["max_lag_consumer_id"], o["max_lag_instance_id"], o["max_lag_client_id"] = l.Member.MemberID, l.Member.InstanceID, l.Member.ClientID
			o["max_lag_consumer"] = v3Rel(a.curl(cid, "consumer-groups", g, "consumers", l.Member.MemberID))
		}
	}
	o["total_lag"] = total
	return v3OK(w, 200, o)
}
