package broker

import (
	"context"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// DescribeConfigs, versions 1-4.
//
// Version notes:
//   - v1: IncludeSynonyms; ConfigSource and Synonyms replace IsDefault
//     (v0 went with Kafka 4.0)
//   - v2: same as v1 (throttling behavior only)
//   - v3: IncludeDocumentation; ConfigType and Documentation (KIP-569)
//   - v4: flexible versions
func init() { register(int16(kmsg.DescribeConfigs), 1, 4, (*Broker).handleDescribeConfigs) }

func (b *Broker) handleDescribeConfigs(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	img := b.image()
	opts := describeOpts{synonyms: req.IncludeSynonyms, docs: req.IncludeDocumentation}

	for i := range req.Resources {
		rr := &req.Resources[i]
		rs := kmsg.NewDescribeConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		err := c.configResourceAllowed(acl.OpDescribeConfigs, rr.ResourceType, rr.ResourceName)
		switch {
		case err != nil:
		case rr.ResourceType == kmsg.ConfigResourceTypeTopic:
			rs.Configs, err = describeTopicConfigs(b, img, rr.ResourceName, opts)
		case rr.ResourceType == kmsg.ConfigResourceTypeBroker:
			var id int32
			if id, err = b.brokerResourceID(rr.ResourceName); err == nil {
				rs.Configs = describeBrokerConfigs(b, img, id, opts)
			}
		default:
			err = newTopicError(kerr.InvalidRequest, "Unsupported resource type: %d", rr.ResourceType)
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			// Kafka sends UNKNOWN_TOPIC_OR_PARTITION without a message.
			if rs.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				rs.ErrorMessage = errMessage(err)
			}
			rs.Configs = []kmsg.DescribeConfigsResponseResourceConfig{}
		} else {
			rs.Configs = filterConfigNames(rs.Configs, rr.ConfigNames)
		}
		resp.Resources = append(resp.Resources, rs)
	}
	return resp, nil
}

type describeOpts struct {
	synonyms bool
	docs     bool
}

// filterConfigNames keeps the entries named in names; nil or empty names
// keep all, as in Kafka.
func filterConfigNames(cs []kmsg.DescribeConfigsResponseResourceConfig, names []string) []kmsg.DescribeConfigsResponseResourceConfig {
	if len(names) == 0 {
		return cs
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	kept := cs[:0]
	for _, c := range cs {
		if want[c.Name] {
			kept = append(kept, c)
		}
	}
	return kept
}

// brokerResourceID maps a BROKER config resource name to the
// AlterBrokerConfig id: "" is the cluster-wide default (-1); otherwise the
// name must be this node's id.
func (b *Broker) brokerResourceID(name string) (int32, error) {
	if name == "" {
		return metadata.ClusterDefault, nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return 0, newTopicError(kerr.InvalidRequest, "Node id must be an integer, but it is: %s", name)
	}
	if int32(id) != b.cfg.NodeID {
		return 0, newTopicError(kerr.InvalidRequest, "Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, name)
	}
	return int32(id), nil
}

// lookupConfigTopic finds a topic for a config resource, with Kafka's errors.
func lookupConfigTopic(img *metadata.Image, name string) (*metadata.Topic, error) {
	if err := validTopicName(name); err != nil {
		return nil, newTopicError(kerr.InvalidTopicException, "%v", err)
	}
	t, ok := img.Topics[name]
	if !ok {
		return nil, newTopicError(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
	}
	return t, nil
}

// resolvedTopicConfigs resolves every topic setting for a topic whose
// overrides are overrides, in name order.
func resolvedTopicConfigs(b *Broker, img *metadata.Image, overrides map[string]string) []config.Value {
	defs := config.TopicDefs()
	out := make([]config.Value, 0, len(defs))
	for i := range defs {
		if v, ok := b.settings().Lookup(defs[i].Name, partition.DynamicSettings(img, b.cfg.NodeID), overrides); ok {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func describeTopicConfigs(b *Broker, img *metadata.Image, name string, opts describeOpts) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	t, err := lookupConfigTopic(img, name)
	if err != nil {
		return nil, err
	}
	vals := resolvedTopicConfigs(b, img, t.Configs)
	out := make([]kmsg.DescribeConfigsResponseResourceConfig, 0, len(vals))
	for _, v := range vals {
		d, _ := config.TopicDef(v.Name)
		// Topic settings are always dynamic: Kafka reports ReadOnly false.
		out = append(out, configEntry(d, strPtr(v.Value), v.Source, false, v.Synonyms, opts))
	}
	return out, nil
}

func strPtr(s string) *string { return &s }

// configEntry builds one DescribeConfigs entry as Kafka's ConfigHelper does:
// sensitive values are null, IsDefault reflects the source, and synonyms
// are sent only on request.
func configEntry(d *config.Def, value *string, src config.Source, readOnly bool, syns []config.Synonym, opts describeOpts) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name = d.Name
	c.IsSensitive = d.Type == config.TypePassword
	if !c.IsSensitive {
		c.Value = value
	}
	c.ReadOnly = readOnly
	c.Source = kmsg.ConfigSource(src)
	c.IsDefault = src == config.SourceDefault
	c.ConfigType = kmsg.ConfigType(d.Type)
	if opts.docs && d.Doc != "" {
		c.Documentation = strPtr(d.Doc)
	}
	if opts.synonyms {
		c.ConfigSynonyms = []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{}
		for _, s := range syns {
			ks := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			ks.Name, ks.Source = s.Name, kmsg.ConfigSource(s.Source)
			if !c.IsSensitive {
				ks.Value = strPtr(s.Value)
			}
			c.ConfigSynonyms = append(c.ConfigSynonyms, ks)
		}
	}
	return c
}

// brokerSynonyms lists where a broker setting's value can come from, most
// specific first: this broker's dynamic config, the cluster-wide dynamic
// default, the static configuration, Kafka's default. For the cluster
// default resource (id -1) only the dynamic default counts, as in Kafka.
func brokerSynonyms(b *Broker, img *metadata.Image, d *config.Def, id int32) []config.Synonym {
	var syn []config.Synonym
	if id >= 0 {
		if v, ok := img.BrokerConfigs[id][d.Name]; ok {
			syn = append(syn, config.Synonym{Name: d.Name, Value: v, Source: config.SourceDynamicBroker})
		}
	}
	if v, ok := img.BrokerConfigs[metadata.ClusterDefault][d.Name]; ok {
		syn = append(syn, config.Synonym{Name: d.Name, Value: v, Source: config.SourceDynamicDefaultBroker})
	}
	if id < 0 {
		return syn
	}
	st := b.settings()
	if st.Set[d.Name] {
		syn = append(syn, config.Synonym{Name: d.Name, Value: st.Values[d.Name], Source: config.SourceStaticBroker})
	}
	if !(d.Nullable && d.Default == "") {
		syn = append(syn, config.Synonym{Name: d.Name, Value: d.Default, Source: config.SourceDefault})
	}
	return syn
}

// describeBrokerConfigs lists a broker's settings. For id -1 (resource name
// "") Kafka lists only the cluster-wide dynamic defaults; for this node's id
// it lists every setting with its effective value.
func describeBrokerConfigs(b *Broker, img *metadata.Image, id int32, opts describeOpts) []kmsg.DescribeConfigsResponseResourceConfig {
	defs := append([]config.Def(nil), config.BrokerDefs()...)
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	out := []kmsg.DescribeConfigsResponseResourceConfig{}
	for i := range defs {
		d := &defs[i]
		syns := brokerSynonyms(b, img, d, id)
		if id < 0 && len(syns) == 0 {
			continue
		}
		var value *string
		src := config.SourceDefault
		if len(syns) > 0 {
			value, src = strPtr(syns[0].Value), syns[0].Source
		} else if v := b.settings().Values[d.Name]; v != "" || !d.Nullable {
			value = strPtr(v)
		}
		out = append(out, configEntry(d, value, src, !d.Dynamic, syns, opts))
	}
	return out
}
