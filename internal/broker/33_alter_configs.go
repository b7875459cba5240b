package broker

import (
	"context"
	"maps"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// AlterConfigs, versions 0-2.
//
// Version notes:
//   - v1: same as v0 (throttling behavior only)
//   - v2: flexible versions
func init() { register(int16(kmsg.AlterConfigs), 0, 2, (*Broker).handleAlterConfigs) }

// handleAlterConfigs is the legacy, non-incremental AlterConfigs: each
// resource's dynamic configs become exactly the ones given.
func (b *Broker) handleAlterConfigs(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)

	dups := duplicateResources(len(req.Resources), func(i int) configResource {
		return configResource{req.Resources[i].ResourceType, req.Resources[i].ResourceName}
	})
	changed := false
	for i := range req.Resources {
		rr := &req.Resources[i]
		rs := kmsg.NewAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		var err error
		switch dups[configResource{rr.ResourceType, rr.ResourceName}] {
		case -1:
			continue // answered at its first occurrence
		case 2:
			err = newTopicError(kerr.InvalidRequest, "Each resource must appear at most once.")
			dups[configResource{rr.ResourceType, rr.ResourceName}] = -1
		default:
			if err = c.configResourceAllowed(acl.OpAlterConfigs, rr.ResourceType, rr.ResourceName); err != nil {
				break
			}
			var did bool
			did, err = b.alterConfigsResource(ctx, rr, req.ValidateOnly)
			changed = changed || did
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			rs.ErrorMessage = errMessage(err)
		}
		resp.Resources = append(resp.Resources, rs)
	}
	if changed {
		b.syncPartitions(ctx)
	}
	return resp, nil
}

func (b *Broker) alterConfigsResource(ctx context.Context, rr *kmsg.AlterConfigsRequestResource, validateOnly bool) (bool, error) {
	tg, err := resolveConfigTarget(b, b.image(), rr.ResourceType, rr.ResourceName)
	if err != nil {
		return false, err
	}
	next := make(map[string]string, len(rr.Configs))
	var nulls []string
	for _, c := range rr.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
			continue
		}
		next[c.Name] = *c.Value
	}
	if len(nulls) > 0 {
		return false, newTopicError(kerr.InvalidRequest, "Null value not supported for : %s", strings.Join(nulls, ", "))
	}
	return tg.apply(ctx, b, next, validateOnly)
}

// configResource identifies a resource in an alter request.
type configResource struct {
	typ  kmsg.ConfigResourceType
	name string
}

// duplicateResources marks resources that appear more than once with 2 and
// the rest with 1.
func duplicateResources(n int, at func(int) configResource) map[configResource]int {
	m := make(map[configResource]int, n)
	for i := 0; i < n; i++ {
		if m[at(i)] > 0 {
			m[at(i)] = 2
		} else {
			m[at(i)] = 1
		}
	}
	return m
}

// configTarget is the resource an alter request changes, with its current
// dynamic configs.
type configTarget struct {
	img      *metadata.Image
	topic    *metadata.Topic // a TOPIC resource; nil for BROKER
	brokerID int32           // a BROKER resource: ClusterDefault or this node
	current  map[string]string
}

func resolveConfigTarget(b *Broker, img *metadata.Image, typ kmsg.ConfigResourceType, name string) (*configTarget, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		if name == "" {
			return nil, newTopicError(kerr.InvalidRequest, "Default topic resources are not allowed.")
		}
		t, err := lookupConfigTopic(img, name)
		if err != nil {
			return nil, err
		}
		return &configTarget{img: img, topic: t, current: t.Configs}, nil
	case kmsg.ConfigResourceTypeBroker:
		id, err := b.brokerResourceID(name)
		if err != nil {
			return nil, err
		}
		return &configTarget{img: img, brokerID: id, current: img.BrokerConfigs[id]}, nil
	}
	return nil, newTopicError(kerr.InvalidRequest, "Unsupported resource type: %d", typ)
}

// def returns a setting's definition for this resource.
func (tg *configTarget) def(name string) (*config.Def, error) {
	if tg.topic != nil {
		if d, ok := config.TopicDef(name); ok {
			return d, nil
		}
		return nil, newTopicError(kerr.InvalidConfig, "Unknown topic config name: %s", name)
	}
	if d, ok := config.BrokerDef(name); ok {
		return d, nil
	}
	return nil, newTopicError(kerr.InvalidConfig, "Unknown broker config name: %s", name)
}

// baseValue is a list setting's value before an APPEND or SUBTRACT when the
// resource has no override for it: what the resource would inherit.
func (tg *configTarget) baseValue(b *Broker, name string) string {
	if tg.topic != nil {
		v, _ := b.settings().Lookup(name, partition.DynamicSettings(tg.img, b.cfg.NodeID), nil)
		return v.Value
	}
	if tg.brokerID >= 0 {
		if v, ok := tg.img.BrokerConfigs[metadata.ClusterDefault][name]; ok {
			return v
		}
	}
	return b.settings().Values[name]
}

// apply validates the resource's new dynamic configs, next, and unless
// validateOnly proposes the difference. It reports whether the metadata
// changed.
func (tg *configTarget) apply(ctx context.Context, b *Broker, next map[string]string, validateOnly bool) (bool, error) {
	set := map[string]string{}
	for k, v := range next {
		if old, ok := tg.current[k]; !ok || old != v {
			set[k] = v
		}
	}
	var del []string
	for k := range tg.current {
		if _, ok := next[k]; !ok {
			del = append(del, k)
		}
	}
	sort.Strings(del)
	if err := tg.validate(set); err != nil {
		return false, err
	}
	if validateOnly || (len(set) == 0 && len(del) == 0) {
		return false, nil
	}
	var rec metadata.Record
	if tg.topic != nil {
		rec = metadata.AlterTopicConfig{TopicID: tg.topic.ID, Set: set, Delete: del}
	} else {
		rec = metadata.AlterBrokerConfig{BrokerID: tg.brokerID, Set: set, Delete: del}
	}
	if _, err := b.ctl.Propose(ctx, rec); err != nil {
		return false, err
	}
	return true, nil
}

// validate checks new values. Topic settings fail with INVALID_CONFIG, as
// Kafka's controller reports them. Broker settings fail with
// INVALID_REQUEST, as Kafka's broker-side validation reports them
// (KAFKA-13609); only dynamic ones may change.
func (tg *configTarget) validate(set map[string]string) error {
	if tg.topic != nil {
		if err := config.ValidateTopicConfigs(set); err != nil {
			return newTopicError(kerr.InvalidConfig, "%v", err)
		}
		return nil
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var static []string
	for _, k := range keys {
		d, err := tg.def(k)
		if err != nil {
			return err
		}
		if !d.Dynamic {
			static = append(static, k)
		}
	}
	if len(static) > 0 {
		return newTopicError(kerr.InvalidRequest, "Cannot update these configs dynamically: Set(%s)", strings.Join(static, ", "))
	}
	for _, k := range keys {
		d, _ := tg.def(k)
		if err := d.Check(set[k]); err != nil {
			return newTopicError(kerr.InvalidRequest, "Invalid value %s for configuration %s: %v", set[k], k, err)
		}
	}
	return nil
}

// listOp applies an APPEND (add) or SUBTRACT to a comma-separated list
// value, as Kafka's ConfigurationControlManager does.
func listOp(base, value string, add bool) string {
	var parts []string
	for _, p := range strings.Split(base, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	for _, v := range strings.Split(value, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		i := indexOf(parts, v)
		switch {
		case add && i < 0:
			parts = append(parts, v)
		case !add && i >= 0:
			parts = append(parts[:i], parts[i+1:]...)
		}
	}
	return strings.Join(parts, ",")
}

func indexOf(s []string, v string) int {
	for i := range s {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// cloneConfigs copies a config map, never returning nil.
func cloneConfigs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
