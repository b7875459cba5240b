package config

import (
	"strconv"
	"strings"
)

// Source says where a setting's value came from, numbered as
// DescribeConfigs numbers config sources.
type Source int8

// Config sources.
const (
	SourceDynamicTopic         Source = 1
	SourceDynamicBroker        Source = 2
	SourceDynamicDefaultBroker Source = 3
	SourceStaticBroker         Source = 4
	SourceDefault              Source = 5
)

// Topic is a topic's effective settings: its overrides resolved against the
// cluster-wide dynamic broker settings and the broker's static ones.
type Topic struct {
	CleanupDelete        bool
	CleanupCompact       bool
	CompressionType      string
	DeleteRetentionMs    int64
	MinCleanableRatio    float64
	MinCompactionLagMs   int64
	MaxCompactionLagMs   int64
	FileDeleteDelayMs    int64
	FlushMessages        int64
	FlushMs              int64
	IndexIntervalBytes   int32
	MaxMessageBytes      int32
	LogAppendTime        bool
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	MinInsyncReplicas    int32
	RetentionBytes       int64
	RetentionMs          int64
	SegmentBytes         int64
	SegmentIndexBytes    int32
	SegmentMs            int64
	UncleanElection      bool
	// SchemaValidation is samsa.schema.validation (schema.go).
	SchemaValidation SchemaValidation
}

// Value is one resolved topic setting, as DescribeConfigs reports it.
type Value struct {
	Name     string
	Value    string
	Source   Source
	Synonyms []Synonym
}

// Synonym is where else a setting's value could have come from.
type Synonym struct {
	Name   string
	Value  string
	Source Source
}

// Dynamic holds the broker settings changed at run time through the
// metadata log: this broker's own, and the cluster-wide defaults.
type Dynamic struct {
	PerBroker      map[string]string
	ClusterDefault map[string]string
}

// Lookup resolves one topic setting against the topic's overrides, the
// dynamic broker settings and the static ones, in that order.
func (b *Broker) Lookup(name string, dyn Dynamic, overrides map[string]string) (Value, bool) {
	d, ok := TopicDef(name)
	if !ok {
		return Value{}, false
	}
	var syn []Synonym
	if v, ok := overrides[name]; ok {
		syn = append(syn, Synonym{name, v, SourceDynamicTopic})
	}
	if v, ok := dyn.PerBroker[d.Broker]; ok && d.Broker != "" {
		syn = append(syn, Synonym{d.Broker, v, SourceDynamicBroker})
	}
	if v, ok := dyn.ClusterDefault[d.Broker]; ok && d.Broker != "" {
		syn = append(syn, Synonym{d.Broker, v, SourceDynamicDefaultBroker})
	}
	bv, bk := b.TopicDefault(name)
	src := SourceDefault
	if d.Broker != "" && b.Set[bk] {
		src = SourceStaticBroker
	}
	syn = append(syn, Synonym{bk, bv, src})
	top := syn[0]
	return Value{Name: name, Value: top.Value, Source: top.Source, Synonyms: syn}, true
}

// ResolveTopic computes a topic's effective settings.
func (b *Broker) ResolveTopic(dyn Dynamic, overrides map[string]string) Topic {
	get := func(name string) string {
		v, _ := b.Lookup(name, dyn, overrides)
		return v.Value
	}
	i64 := func(name string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(get(name)), 10, 64)
		if err != nil {
			def, _ := b.TopicDefault(name)
			n, _ = strconv.ParseInt(def, 10, 64)
		}
		return n
	}
	var t Topic
	for _, p := range strings.Split(get("cleanup.policy"), ",") {
		switch strings.TrimSpace(p) {
		case "delete":
			t.CleanupDelete = true
		case "compact":
			t.CleanupCompact = true
		}
	}
	t.CompressionType = get("compression.type")
	t.DeleteRetentionMs = i64("delete.retention.ms")
	t.MinCleanableRatio, _ = strconv.ParseFloat(strings.TrimSpace(get("min.cleanable.dirty.ratio")), 64)
	t.MinCompactionLagMs = i64("min.compaction.lag.ms")
	t.MaxCompactionLagMs = i64("max.compaction.lag.ms")
	t.FileDeleteDelayMs = i64("file.delete.delay.ms")
	t.FlushMessages = i64("flush.messages")
	t.FlushMs = i64("flush.ms")
	t.IndexIntervalBytes = int32(i64("index.interval.bytes"))
	t.MaxMessageBytes = int32(i64("max.message.bytes"))
	t.LogAppendTime = get("message.timestamp.type") == "LogAppendTime"
	t.TimestampBeforeMaxMs = i64("message.timestamp.before.max.ms")
	t.TimestampAfterMaxMs = i64("message.timestamp.after.max.ms")
	t.MinInsyncReplicas = int32(i64("min.insync.replicas"))
	t.RetentionBytes = i64("retention.bytes")
	t.RetentionMs = i64("retention.ms")
	t.SegmentBytes = i64("segment.bytes")
	t.SegmentIndexBytes = int32(i64("segment.index.bytes"))
	t.SegmentMs = i64("segment.ms")
	t.UncleanElection = strings.EqualFold(get("unclean.leader.election.enable"), "true")
	t.SchemaValidation = ParseSchemaValidation(get(SchemaValidationConfig))
	return t
}

// Setting returns a broker setting's effective value: dynamic per-broker,
// then dynamic cluster default, then static.
func (b *Broker) Setting(name string, dyn Dynamic) string {
	if v, ok := dyn.PerBroker[name]; ok {
		return v
	}
	if v, ok := dyn.ClusterDefault[name]; ok {
		return v
	}
	return b.Values[name]
}
