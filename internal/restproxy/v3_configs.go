package restproxy

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The configs of brokers and topics: list, get, set (PUT), reset (DELETE)
// and configs:alter, for both kinds of resource.

// cfgTarget is the resource whose configs a request is about.
type cfgTarget struct {
	typ   kmsg.ConfigResourceType
	name  string   // the topic name or the broker id ("" = cluster default)
	kind  string   // KafkaTopicConfig, KafkaBrokerConfig, KafkaClusterConfig
	key   string   // topic_name or broker_id
	path  []string // the path of the configs collection under the cluster
	crn   string   // the CRN of the resource
	keyOf any      // the value of key
}

// topicCfg is the config target of topic t.
func topicCfg(cid, t string) cfgTarget {
	return cfgTarget{typ: kmsg.ConfigResourceTypeTopic, name: t, kind: "KafkaTopicConfig", key: "topic_name",
		path: []string{"topics", t, "configs"}, crn: "crn:///kafka=" + cid + "/topic=" + t, keyOf: t}
}

// brokerCfg is the config target of broker id ("" is the cluster-wide
// broker default).
func brokerCfg(cid, id string) cfgTarget {
	if id == "" {
		return cfgTarget{typ: kmsg.ConfigResourceTypeBroker, kind: "KafkaClusterConfig", key: "config_type",
			path: []string{"broker-configs"}, crn: "crn:///kafka=" + cid, keyOf: "BROKER"}
	}
	n, _ := strconv.Atoi(id)
	return cfgTarget{typ: kmsg.ConfigResourceTypeBroker, name: id, kind: "KafkaBrokerConfig", key: "broker_id",
		path: []string{"brokers", id, "configs"}, crn: "crn:///kafka=" + cid + "/broker=" + id, keyOf: n}
}

// describeConfigs describes the configs of one resource (all of them, or
// the names given).
func (a *v3) describeConfigs(ctx context.Context, t cfgTarget, names ...string) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName, res.ConfigNames = t.typ, t.name, names
	req.Resources = append(req.Resources, res)
	req.IncludeSynonyms = true
	resp, err := req.RequestWith(ctx, a.s.kclient(ctx))
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	if len(resp.Resources) != 1 {
		return nil, fmt.Errorf("describe configs: %d resources in the answer", len(resp.Resources))
	}
	r := resp.Resources[0]
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return nil, fmt.Errorf("describe configs of %s: %w", t.name, err)
	}
	return r.Configs, nil
}

// configObj is one config as Confluent's v3 shows it.
func (a *v3) configObj(cid string, t cfgTarget, c kmsg.DescribeConfigsResponseResourceConfig) obj {
	syn := make([]obj, 0, len(c.ConfigSynonyms))
	for _, s := range c.ConfigSynonyms {
		syn = append(syn, obj{"name": s.Name, "value": s.Value, "source": s.Source.String()})
	}
	o := obj{
		"kind":         t.kind,
		"metadata":     v3Meta(a.curl(cid, append(t.path, c.Name)...), t.crn+"/config="+c.Name),
		"cluster_id":   cid,
		t.key:          t.keyOf,
		"name":         c.Name,
		"value":        c.Value,
		"is_default":   c.Source == kmsg.ConfigSourceDefaultConfig || c.IsDefault,
		"is_read_only": c.ReadOnly,
		"is_sensitive": c.IsSensitive,
		"source":       c.Source.String(),
		"synonyms":     syn,
	}
	return o
}

// listConfigs answers every config of t.
func (a *v3) listConfigs(w http.ResponseWriter, r *http.Request, cid string, t cfgTarget) error {
	cs, err := a.describeConfigs(r.Context(), t)
	if err != nil {
		return err
	}
	data := make([]obj, 0, len(cs))
	for _, c := range cs {
		data = append(data, a.configObj(cid, t, c))
	}
	return v3OK(w, 200, v3Coll(t.kind+"List", a.curl(cid, t.path...), data))
}

// getConfig answers config {name} of t.
func (a *v3) getConfig(w http.ResponseWriter, r *http.Request, cid string, t cfgTarget) error {
	name := r.PathValue("name")
	cs, err := a.describeConfigs(r.Context(), t, name)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Name == name {
			return v3OK(w, 200, a.configObj(cid, t, c))
		}
	}
	return apiErr(404, 404, "Config %s cannot be found for %s %v.", name, t.key, t.keyOf)
}

// alterOp is one alteration of configs:alter.
type alterOp struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Operation string  `json:"operation"`
}

// alterConfigs applies ops to t (IncrementalAlterConfigs); a config
// name the resource does not have is 404.
func (a *v3) alterConfigs(ctx context.Context, t cfgTarget, ops []alterOp, validateOnly bool) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = validateOnly
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = t.typ, t.name
	for _, op := range ops {
		if op.Name == "" {
			return apiErr(400, 400, "a config without a name")
		}
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = op.Name, op.Value
		switch op.Operation {
		case "", "SET", "set":
			if op.Value == nil {
				return apiErr(400, 400, "config %s: SET without a value", op.Name)
			}
			c.Op = kmsg.IncrementalAlterConfigOpSet
		case "DELETE", "delete":
			c.Op, c.Value = kmsg.IncrementalAlterConfigOpDelete, nil
		default:
			return apiErr(400, 400, "config %s: unknown operation %q (SET or DELETE)", op.Name, op.Operation)
		}
		res.Configs = append(res.Configs, c)
	}
	req.Resources = append(req.Resources, res)
	if err := a.knownConfigs(ctx, t, ops); err != nil {
		return err
	}
	resp, err := req.RequestWith(ctx, a.s.kclient(ctx))
	if err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	for _, rr := range resp.Resources {
		if err := kerr.ErrorForCode(rr.ErrorCode); err != nil {
			msg := ""
			if rr.ErrorMessage != nil {
				msg = *rr.ErrorMessage
			}
			st := kafkaStatus(err.(*kerr.Error))
			return apiErr(st, st, "alter configs of %v: %v %s", t.keyOf, err, msg)
		}
	}
	return nil
}

// putConfig sets config {name} of t to the body's value.
func (a *v3) putConfig(w http.ResponseWriter, r *http.Request, t cfgTarget) error {
	var body struct {
		Value *string `json:"value"`
	}
	if err := a.decodeBody(w, r, &body); err != nil {
		return err
	}
	if body.Value == nil {
		return apiErr(400, 400, "the body has no value")
	}
	if err := a.alterConfigs(r.Context(), t, []alterOp{{Name: r.PathValue("name"), Value: body.Value}}, false); err != nil {
		return err
	}
	return v3NoContent(w)
}

// deleteConfig resets config {name} of t to its default.
func (a *v3) deleteConfig(w http.ResponseWriter, r *http.Request, t cfgTarget) error {
	if err := a.alterConfigs(r.Context(), t, []alterOp{{Name: r.PathValue("name"), Operation: "DELETE"}}, false); err != nil {
		return err
	}
	return v3NoContent(w)
}

// alterConfigsBatch is configs:alter: {"data":[{"name","value","operation"}],"validate_only"}.
func (a *v3) alterConfigsBatch(w http.ResponseWriter, r *http.Request, t cfgTarget) error {
	var body struct {
		Data         []alterOp `json:"data"`
		ValidateOnly bool      `json:"validate_only"`
	}
	if err := a.decodeBody(w, r, &body); err != nil {
		return err
	}
	if err := a.alterConfigs(r.Context(), t, body.Data, body.ValidateOnly); err != nil {
		return err
	}
	return v3NoContent(w)
}

// knownConfigs checks the resource has every config ops name.
func (a *v3) knownConfigs(ctx context.Context, t cfgTarget, ops []alterOp) error {
	if len(ops) == 0 {
		return nil
	}
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, op.Name)
	}
	cs, err := a.describeConfigs(ctx, t, names...)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range cs {
		have[c.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			return apiErr(404, 404, "Config %s cannot be found for %s %v.", n, t.key, t.keyOf)
		}
	}
	return nil
}
