package datagen

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Class name, alias and settings.
const (
	Class   = "io.samsa.connect.datagen.DataGenSourceConnector"
	Alias   = "DataGen"
	Version = "1.0.0"

	TopicConfig       = "topic"
	KafkaTopicConfig  = "kafka.topic"
	QuickstartConfig  = "quickstart"
	KeyFieldConfig    = "schema.keyfield"
	MaxIntervalConfig = "max.interval"
	IterationsConfig  = "iterations"
	SeedConfig        = "random.seed"
	TaskIDConfig      = "task.id"

	TaskIDField    = "task.id"
	IterationField = "current.iteration"

	maxBatch = 1000
	idleWait = time.Second
	// offsetReadTimeout bounds the stored-offset read in Start.
	offsetReadTimeout = time.Minute
)

// Plugins returns the connector.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: Class, Aliases: []string{Alias}, Kind: connect.KindSource, Version: Version,
		New: func() any { return &Connector{} }, Config: ConfigDef}}
}

// ConfigDef is the connector's configuration.
func ConfigDef() *connect.ConfigDef {
	names := slices.Sorted(maps.Keys(quickstarts()))
	const group = "Datagen"
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: TopicConfig, Type: connect.TypeString, Importance: connect.High, Group: group,
			OrderInGroup: 1, Documentation: "Topic to write to (kafka.topic is accepted too)"}).
		Define(connect.ConfigKey{Name: KafkaTopicConfig, Type: connect.TypeString, Importance: connect.Low, Group: group,
			OrderInGroup: 2, Documentation: "Synonym of topic, as Confluent's datagen names it"}).
		Define(connect.ConfigKey{Name: QuickstartConfig, Type: connect.TypeString, Default: "users", Importance: connect.High,
			Group: group, OrderInGroup: 3, Validator: connect.InList(true, names...),
			Recommended:   func(map[string]any) []any { return anys(names) },
			Documentation: "Which data to generate: " + strings.Join(names, ", ")}).
		Define(connect.ConfigKey{Name: KeyFieldConfig, Type: connect.TypeString, Importance: connect.Medium, Group: group,
			OrderInGroup: 4, Documentation: "Field whose value is the record key (the quickstart's natural key when empty)"}).
		Define(connect.ConfigKey{Name: MaxIntervalConfig, Type: connect.TypeLong, Default: "500", Importance: connect.Medium,
			Group: group, OrderInGroup: 5, Validator: connect.AtLeast(0),
			Documentation: "Maximum milliseconds between records (0: no wait)"}).
		Define(connect.ConfigKey{Name: IterationsConfig, Type: connect.TypeLong, Default: "1000000", Importance: connect.Medium,
			Group: group, OrderInGroup: 6, Documentation: "Records per task (negative: endless)"}).
		Define(connect.ConfigKey{Name: SeedConfig, Type: connect.TypeLong, Importance: connect.Low, Group: group,
			OrderInGroup: 7, Documentation: "Seed making the data reproducible (random when unset)"})
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// config is the parsed configuration.
type config struct {
	topic       string
	quick       quickstart
	keyField    string
	maxInterval time.Duration
	iterations  int64
	seed        uint64
	seeded      bool
}

func parse(props map[string]string) (config, error) {
	v, err := ConfigDef().Parse(props)
	if err != nil {
		return config{}, fmt.Errorf("datagen: %w", err)
	}
	var c config
	c.topic, _ = v[TopicConfig].(string)
	if c.topic == "" {
		c.topic, _ = v[KafkaTopicConfig].(string)
	}
	if c.topic == "" {
		return c, fmt.Errorf("datagen: Missing required configuration \"%s\" which has no default value.", TopicConfig)
	}
	qs, _ := v[QuickstartConfig].(string)
	c.quick = quickstarts()[strings.ToLower(qs)]
	c.keyField, _ = v[KeyFieldConfig].(string)
	if c.keyField == "" {
		c.keyField = c.quick.key
	}
	if c.quick.schema.Field(c.keyField) == nil {
		return c, fmt.Errorf("datagen: schema.keyfield %q is not a field of %s", c.keyField, qs)
	}
	ms, _ := v[MaxIntervalConfig].(int64)
	c.maxInterval = time.Duration(ms) * time.Millisecond
	c.iterations, _ = v[IterationsConfig].(int64)
	if s, ok := v[SeedConfig].(int64); ok {
		c.seed, c.seeded = uint64(s), true
	}
	return c, nil
}

// Connector is the data generator connector.
type Connector struct{ props map[string]string }

// Version implements connect.Versioned.
func (c *Connector) Version() string { return Version }

// Config implements connect.Configurable.
func (c *Connector) Config() *connect.ConfigDef { return ConfigDef() }

// ValidateConfig reports a missing topic and an unknown key field.
func (c *Connector) ValidateConfig(props map[string]string, values map[string]*connect.ConfigValue) {
	if props[TopicConfig] == "" && props[KafkaTopicConfig] == "" && values[TopicConfig] != nil {
		values[TopicConfig].Errors = append(values[TopicConfig].Errors,
			fmt.Sprintf("Missing required configuration \"%s\" which has no default value.", TopicConfig))
	}
	qs, ok := quickstarts()[strings.ToLower(props[QuickstartConfig])]
	if props[QuickstartConfig] == "" {
		qs, ok = quickstarts()["users"]
	}
	if k := props[KeyFieldConfig]; ok && k != "" && qs.schema.Field(k) == nil && values[KeyFieldConfig] != nil {
		values[KeyFieldConfig].Errors = append(values[KeyFieldConfig].Errors,
			fmt.Sprintf("%q is not a field of %s", k, qs.schema.Name))
	}
}

// Start implements connect.Connector.
func (c *Connector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := parse(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs gives each task its task.id.
func (c *Connector) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, 0, max)
	for i := range max {
		p := maps.Clone(c.props)
		p[TaskIDConfig] = strconv.Itoa(i)
		out = append(out, p)
	}
	return out, nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

// ExactlyOnceSupport: generated records are a function of their
// iteration, so re-running from a committed offset is exact.
func (c *Connector) ExactlyOnceSupport(map[string]string) connect.ExactlyOnce {
	return connect.ExactlyOnceSupported
}

// Task generates one task's records.
type Task struct {
	cfg       config
	id        int64
	next      int64 // the next iteration
	partition map[string]any
	waitRng   *rand.Rand

	stopOnce sync.Once
	stop     chan struct{}
}

// Version implements connect.Versioned.
func (t *Task) Version() string { return Version }

// Start reads the configuration and continues after the stored
// iteration.
func (t *Task) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parse(props)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(props[TaskIDConfig], 10, 32)
	if err != nil {
		return fmt.Errorf("datagen: bad %s %q: %w", TaskIDConfig, props[TaskIDConfig], err)
	}
	if !cfg.seeded {
		cfg.seed = rand.Uint64()
	}
	t.cfg, t.id = cfg, id
	t.partition = map[string]any{TaskIDField: int32(id)}
	t.waitRng = rand.New(rand.NewPCG(cfg.seed, ^uint64(id)))
	t.stop = make(chan struct{})
	rctx, cancel := context.WithTimeout(context.Background(), offsetReadTimeout)
	defer cancel()
	prev, err := ctx.Offsets().Offset(rctx, t.partition)
	if err != nil {
		return fmt.Errorf("datagen: read offset: %w", err)
	}
	if prev != nil {
		n, ok := integer(prev[IterationField])
		if !ok {
			return fmt.Errorf("datagen: stored offset %v has no integer %s", prev, IterationField)
		}
		t.next = n + 1
	}
	return nil
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// Poll waits up to max.interval (random) and returns the next record, or
// a batch of up to 1000 when max.interval is 0. After iterations records
// it returns nil.
func (t *Task) Poll(ctx context.Context) ([]*connect.Record, error) {
	if t.cfg.iterations >= 0 && t.next >= t.cfg.iterations {
		t.wait(ctx, idleWait)
		return nil, nil
	}
	n := int64(maxBatch)
	if t.cfg.maxInterval > 0 {
		n = 1
		if !t.wait(ctx, time.Duration(t.waitRng.Int64N(int64(t.cfg.maxInterval)+1))) {
			return nil, nil
		}
	}
	if t.cfg.iterations >= 0 {
		n = min(n, t.cfg.iterations-t.next)
	}
	now := time.Now()
	recs := make([]*connect.Record, 0, n)
	for range n {
		recs = append(recs, t.Generate(t.next, now))
		t.next++
	}
	return recs, nil
}

// Generate returns the record of iteration n: a function of the seed,
// the task and n only (besides its timestamp).
func (t *Task) Generate(n int64, now time.Time) *connect.Record {
	rng := rand.New(rand.NewPCG(t.cfg.seed, uint64(t.id)<<40^uint64(n)))
	st := connect.NewStruct(t.cfg.quick.schema)
	t.cfg.quick.fill(st, rng, n)
	f := t.cfg.quick.schema.Field(t.cfg.keyField)
	return &connect.Record{Topic: t.cfg.topic, Partition: -1, KeySchema: f.Schema, Key: st.Values[f.Index],
		ValueSchema: st.Schema, Value: st, Timestamp: now,
		SourcePartition: t.partition, SourceOffset: map[string]any{IterationField: n}}
}

// wait sleeps d unless ctx ends or Stop comes first (then false).
func (t *Task) wait(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.stop:
		return false
	case <-tm.C:
		return true
	}
}

// Stop wakes a waiting Poll.
func (t *Task) Stop() error {
	if t.stop != nil {
		t.stopOnce.Do(func() { close(t.stop) })
	}
	return nil
}
