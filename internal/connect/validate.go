package connect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	pub "github.com/samsa-streaming/samsa/connect"
)

// ConfigInfos is Java's ConfigInfos (PUT …/config/validate).
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// ConfigInfo is one setting's definition and validated value.
type ConfigInfo struct {
	Definition ConfigKeyInfo   `json:"definition"`
	Value      ConfigValueInfo `json:"value"`
}

// ConfigKeyInfo is Java's ConfigKeyInfo (also GET
// /connector-plugins/{p}/config).
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Order         int      `json:"order_in_group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ConfigValueInfo is Java's ConfigValueInfo.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

func keyInfo(k pub.ConfigKey) ConfigKeyInfo {
	ki := ConfigKeyInfo{Name: k.Name, Type: string(k.Type), Required: k.Required, Importance: string(k.Importance),
		Documentation: k.Documentation, Order: k.OrderInGroup, Width: string(k.Width), DisplayName: k.DisplayName,
		Dependents: append([]string{}, k.Dependents...)}
	if ki.Order == 0 {
		ki.Order = -1
	}
	if k.Group != "" {
		g := k.Group
		ki.Group = &g
	}
	if !k.Required && (k.Default != "" || k.Type == pub.TypeString || k.Type == pub.TypeList || k.Type == pub.TypePassword) {
		d := k.Default
		if k.Type == pub.TypePassword && d != "" {
			d = "[hidden]"
		}
		ki.DefaultValue = &d
	}
	return ki
}

// pluginDef is a plugin's own configuration definition (never nil).
func pluginDef(p *pub.Plugin) *pub.ConfigDef {
	var d *pub.ConfigDef
	if p.Config != nil {
		d = p.Config()
	} else if c, ok := p.New().(pub.Configurable); ok {
		d = c.Config()
	}
	if d == nil {
		d = pub.NewConfigDef()
	}
	return d
}

// lookupPlugin finds a plugin as Java's plugin loader does: by class,
// alias or simple name, or by the simple name without its kind's suffix
// (VerifiableSource for VerifiableSourceConnector).
func lookupPlugin(reg *pub.Registry, name string) (*pub.Plugin, bool) {
	if p, ok := reg.Lookup(name); ok {
		return p, true
	}
	for _, suffix := range []string{"Connector", "Converter", "HeaderConverter"} {
		if p, ok := reg.Lookup(name + suffix); ok {
			return p, true
		}
	}
	return nil, false
}

// nameValidator is Java's nonEmptyStringWithoutControlChars.
func nameValidator(v any) error {
	s, _ := v.(string)
	if s == "" {
		return errors.New("String may not be empty")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("String may not contain control sequences but had the following ASCII chars: " + fmt.Sprint(int(r)))
		}
	}
	return nil
}

// connectorDef is the runtime's own connector settings (Java's
// ConnectorConfig, with SinkConnectorConfig's or SourceConnectorConfig's).
func connectorDef(kind pub.Kind) *pub.ConfigDef {
	d := pub.NewConfigDef()
	common := func(name string, t pub.ConfigType, def string, req bool, imp pub.Importance, doc, group string, order int, w pub.Width, disp string) {
		d.Define(pub.ConfigKey{Name: name, Type: t, Default: def, Required: req, Importance: imp, Documentation: doc,
			Group: group, OrderInGroup: order, Width: w, DisplayName: disp})
	}
	common("name", pub.TypeString, "", true, pub.High, "Globally unique name to use for this connector.", "Common", 1, pub.WidthMedium, "Connector name")
	d.Key("name").Validator = nameValidator
	common("connector.class", pub.TypeString, "", true, pub.High, "Name or alias of the class for this connector.", "Common", 2, pub.WidthLong, "Connector class")
	common("tasks.max", pub.TypeInt, "1", false, pub.High, "Maximum number of tasks to use for this connector.", "Common", 3, pub.WidthShort, "Tasks max")
	d.Key("tasks.max").Validator = pub.AtLeast(1)
	common("tasks.max.enforce", pub.TypeBoolean, "true", false, pub.Low, "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector.", "Common", 4, pub.WidthShort, "Enforce tasks max")
	common("key.converter", pub.TypeClass, "", false, pub.Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", "Common", 5, pub.WidthShort, "Key converter class")
	common("value.converter", pub.TypeClass, "", false, pub.Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", "Common", 6, pub.WidthShort, "Value converter class")
	common("header.converter", pub.TypeClass, "org.apache.kafka.connect.storage.SimpleHeaderConverter", false, pub.Low, "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", "Common", 7, pub.WidthShort, "Header converter class")
	common("transforms", pub.TypeList, "", false, pub.Low, "Aliases for the transformations to be applied to records.", "Transforms", 8, pub.WidthLong, "Transforms")
	common("predicates", pub.TypeList, "", false, pub.Low, "Aliases for the predicates used by transformations.", "Predicates", 9, pub.WidthLong, "Predicates")
	common("config.action.reload", pub.TypeString, "restart", false, pub.Low, "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.", "Common", 10, pub.WidthMedium, "Reload Action")
	d.Key("config.action.reload").Validator = pub.InList(true, "none", "restart")
	common("errors.retry.timeout", pub.TypeLong, "0", false, pub.Medium, "The maximum duration in milliseconds that a failed operation will be reattempted.", "Error Handling", 1, pub.WidthMedium, "Retry Timeout for Errors")
	common("errors.retry.delay.max.ms", pub.TypeLong, "60000", false, pub.Medium, "The maximum duration in milliseconds between consecutive retry attempts.", "Error Handling", 2, pub.WidthMedium, "Maximum Delay Between Retries for Errors")
	common("errors.tolerance", pub.TypeString, "none", false, pub.Medium, "Behavior for tolerating errors during connector operation.", "Error Handling", 3, pub.WidthShort, "Error Tolerance")
	d.Key("errors.tolerance").Validator = pub.InList(true, "none", "all")
	common("errors.log.enable", pub.TypeBoolean, "false", false, pub.Medium, "If true, write each error and the details of the failed operation and problematic record to the Connect application log.", "Error Handling", 4, pub.WidthShort, "Log Errors")
	common("errors.log.include.messages", pub.TypeBoolean, "false", false, pub.Medium, "Whether to include in the log the Connect record that resulted in a failure.", "Error Handling", 5, pub.WidthShort, "Log Error Details")
	if kind == pub.KindSink {
		common("topics", pub.TypeList, "", false, pub.High, "List of topics to consume, separated by commas", "Common", 4, pub.WidthLong, "Topics")
		common("topics.regex", pub.TypeString, "", false, pub.High, "Regular expression giving topics to consume.", "Common", 4, pub.WidthLong, "Topics regex")
		common("errors.deadletterqueue.topic.name", pub.TypeString, "", false, pub.Medium, "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters.", "Error Handling", 6, pub.WidthMedium, "Dead Letter Queue Topic Name")
		common("errors.deadletterqueue.topic.replication.factor", pub.TypeShort, "3", false, pub.Medium, "Replication factor used to create the dead letter queue topic when it doesn't already exist.", "Error Handling", 7, pub.WidthMedium, "Dead Letter Queue Topic Replication Factor")
		common("errors.deadletterqueue.context.headers.enable", pub.TypeBoolean, "false", false, pub.Medium, "If true, add headers containing error context to the messages written to the dead letter queue.", "Error Handling", 8, pub.WidthMedium, "Enable Error Context Headers")
	} else {
		common("exactly.once.support", pub.TypeString, "requested", false, pub.Medium, "Permitted values are requested, required.", "Exactly Once Support", 1, pub.WidthShort, "Exactly once support")
		d.Key("exactly.once.support").Validator = pub.InList(true, "requested", "required")
		common("transaction.boundary", pub.TypeString, "poll", false, pub.Medium, "Permitted values are: poll, interval, connector.", "Exactly Once Support", 2, pub.WidthShort, "Transaction Boundary")
		d.Key("transaction.boundary").Validator = pub.InList(true, "poll", "interval", "connector")
		common("offsets.storage.topic", pub.TypeString, "", false, pub.Low, "The name of a separate offsets topic to use for this connector.", "offsets.topic", 1, pub.WidthLong, "Offsets topic")
		common("topic.creation.groups", pub.TypeList, "", false, pub.Low, "Groups of configurations for topics created by source connectors", "Topic Creation", 1, pub.WidthLong, "Topic Creation Groups")
	}
	return d
}

// Validate is PUT /connector-plugins/{p}/config/validate and the check
// before a connector is created: the runtime's settings, the
// transformations' and the connector's own.
func (h *Herder) Validate(props map[string]string) (ConfigInfos, error) {
	class, ok := props["connector.class"]
	if !ok {
		return ConfigInfos{}, badRequest("Connector config %s contains no connector type", javaMap(props))
	}
	p, err := lookupConnector(h.cfg.Plugins, props)
	if err != nil {
		return ConfigInfos{}, err
	}
	defs := []*pub.ConfigDef{connectorDef(p.Kind), h.transformDef(props), pluginDef(p)}
	out := ConfigInfos{Name: class, Groups: []string{}, Configs: []ConfigInfo{}}
	values := map[string]*pub.ConfigValue{}
	var keys []pub.ConfigKey
	seen := map[string]bool{}
	for _, d := range defs {
		for i, v := range d.Validate(props) {
			k := d.Keys()[i]
			if seen[k.Name] {
				continue
			}
			seen[k.Name] = true
			keys = append(keys, k)
			values[k.Name] = v
		}
	}
	if p.Kind == pub.KindSink {
		sinkTopicsCheck(props, values)
	}
	if cv, ok := p.New().(pub.ConfigValidator); ok {
		_ = safeCall("connector validate", func() error { cv.ValidateConfig(props, values); return nil })
	}
	groups := map[string]bool{}
	for _, k := range keys {
		if k.Group != "" && !groups[k.Group] {
			groups[k.Group] = true
			out.Groups = append(out.Groups, k.Group)
		}
		v := values[k.Name]
		out.ErrorCount += len(v.Errors)
		out.Configs = append(out.Configs, ConfigInfo{Definition: keyInfo(k), Value: valueInfo(k, v)})
	}
	overrideInfos(&out, h.cfg.Props, props, p.Kind)
	return out, nil
}

func valueInfo(k pub.ConfigKey, v *pub.ConfigValue) ConfigValueInfo {
	vi := ConfigValueInfo{Name: k.Name, RecommendedValues: []string{}, Errors: append([]string{}, v.Errors...), Visible: v.Visible}
	if v.Value != nil {
		s := fmt.Sprint(v.Value)
		if k.Type == pub.TypePassword {
			s = "[hidden]"
		}
		vi.Value = &s
	}
	for _, r := range v.RecommendedValues {
		vi.RecommendedValues = append(vi.RecommendedValues, fmt.Sprint(r))
	}
	return vi
}

func sinkTopicsCheck(props map[string]string, values map[string]*pub.ConfigValue) {
	topics, regex := strings.TrimSpace(props["topics"]), strings.TrimSpace(props["topics.regex"])
	add := func(msg string) {
		for _, k := range []string{"topics", "topics.regex"} {
			if v := values[k]; v != nil {
				v.Errors = append(v.Errors, msg)
			}
		}
	}
	switch {
	case topics == "" && regex == "":
		add("Must configure one of topics or topics.regex")
	case topics != "" && regex != "":
		add("topics and topics.regex are mutually exclusive options, but both are set.")
	}
}

// transformDef defines transforms.<alias>.type (and the
// transformation's own settings, prefixed) for each alias given.
func (h *Herder) transformDef(props map[string]string) *pub.ConfigDef {
	d := pub.NewConfigDef()
	for _, kind := range []struct {
		list, group string
		kind        pub.Kind
	}{{"transforms", "Transforms", pub.KindTransformation}, {"predicates", "Predicates", pub.KindPredicate}} {
		for _, a := range strings.Split(props[kind.list], ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			prefix := kind.list + "." + a + "."
			reg, want := h.cfg.Plugins, kind.kind
			d.Define(pub.ConfigKey{Name: prefix + "type", Type: pub.TypeClass, Required: true, Importance: pub.High,
				Documentation: "Class for the '" + a + "' " + strings.TrimSuffix(kind.list, "s") + ".",
				Group:         kind.group + ": " + a, OrderInGroup: 0, Width: pub.WidthLong,
				Validator: func(v any) error {
					p, ok := reg.Lookup(fmt.Sprint(v))
					if !ok || p.Kind != want {
						return fmt.Errorf("Class %v could not be found", v)
					}
					return nil
				}})
			if p, ok := h.cfg.Plugins.Lookup(props[prefix+"type"]); ok && p.Config != nil {
				for _, k := range p.Config().Keys() {
					k.Name = prefix + k.Name
					k.Group = kind.group + ": " + a
					d.Define(k)
				}
			}
		}
	}
	return d
}

// checkConfig refuses a connector configuration with errors (400 with
// Java's message).
func (h *Herder) checkConfig(props map[string]string) error {
	ci, err := h.Validate(props)
	if err != nil {
		return err
	}
	if ci.ErrorCount == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", ci.ErrorCount)
	for _, c := range ci.Configs {
		for _, e := range c.Value.Errors {
			b.WriteString("\n" + e)
		}
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return &Error{Code: 400, Msg: b.String()}
}

// javaMap renders a map as Java's Map.toString.
func javaMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
