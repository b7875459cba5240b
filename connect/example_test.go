package connect_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"

	"github.com/samsa-streaming/samsa/connect"
)

// counterConfig is the connector's configuration: what validate and
// GET /connector-plugins/{p}/config show.
func counterConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "topic", Type: connect.TypeString, Required: true,
			Importance: connect.High, Documentation: "Topic to write to"}).
		Define(connect.ConfigKey{Name: "count.to", Type: connect.TypeLong, Default: "3",
			Validator: connect.AtLeast(0), Documentation: "How many records each task writes"})
}

// counter is a source connector whose tasks count up.
type counter struct{ props map[string]string }

func (c *counter) Version() string             { return "1.0.0" }
func (c *counter) Config() *connect.ConfigDef  { return counterConfig() }
func (c *counter) Stop() error                 { return nil }
func (c *counter) NewTask() connect.SourceTask { return &counterTask{} }

func (c *counter) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs gives every task the connector's settings and its number.
func (c *counter) TaskConfigs(max int) ([]map[string]string, error) {
	var out []map[string]string
	for i := range max {
		p := maps.Clone(c.props)
		p["task"] = strconv.Itoa(i)
		out = append(out, p)
	}
	return out, nil
}

// counterTask writes 0, 1, 2, … and resumes after its stored offset.
type counterTask struct {
	topic     string
	next, end int64
	partition map[string]any
}

func (t *counterTask) Version() string { return "1.0.0" }
func (t *counterTask) Stop() error     { return nil }

func (t *counterTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := counterConfig().Parse(props)
	if err != nil {
		return err
	}
	t.topic, t.end = cfg["topic"].(string), cfg["count.to"].(int64)
	t.partition = map[string]any{"task": props["task"]}
	off, err := ctx.Offsets().Offset(context.Background(), t.partition)
	if err != nil {
		return err
	}
	if n, ok := off["next"].(float64); ok { // offsets come back as decoded JSON
		t.next = int64(n)
	}
	return nil
}

func (t *counterTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	if t.next >= t.end {
		<-ctx.Done() // nothing more: block until the runtime stops us
		return nil, nil
	}
	r := &connect.Record{Topic: t.topic, Partition: -1,
		ValueSchema: connect.SchemaInt64, Value: t.next,
		SourcePartition: t.partition, SourceOffset: map[string]any{"next": t.next + 1}}
	t.next++
	return []*connect.Record{r}, nil
}

// noOffsets and taskContext stand in for the runtime in this example.
type noOffsets struct{}

func (noOffsets) Offset(context.Context, map[string]any) (map[string]any, error) { return nil, nil }

type taskContext struct{}

func (taskContext) Offsets() connect.OffsetReader { return noOffsets{} }
func (taskContext) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

// Example registers a connector under a class name and an alias, as a
// worker's registry holds it, and then drives it the way the runtime
// does: Start, TaskConfigs, and per task Start and Poll.
func Example() {
	reg := connect.NewRegistry()
	err := reg.Register(connect.Plugin{
		Class:   "com.example.CounterSourceConnector",
		Aliases: []string{"Counter"},
		Kind:    connect.KindSource,
		Version: "1.0.0",
		New:     func() any { return &counter{} },
		Config:  counterConfig,
	})
	if err != nil {
		panic(err)
	}

	p, _ := reg.Lookup("Counter")
	conn := p.New().(connect.SourceConnector)
	props := map[string]string{"connector.class": "Counter", "topic": "numbers", "count.to": "2"}
	for _, v := range conn.Config().Validate(props) {
		if len(v.Errors) > 0 {
			fmt.Println(v.Name, v.Errors)
		}
	}
	_ = conn.Start(nil, props)
	cfgs, _ := conn.TaskConfigs(1)
	task := conn.NewTask()
	_ = task.Start(taskContext{}, cfgs[0])
	for range 2 {
		recs, _ := task.Poll(context.Background())
		for _, r := range recs {
			fmt.Println(r.Topic, r.Value, r.SourcePartition, r.SourceOffset)
		}
	}
	// Output:
	// numbers 0 map[task:0] map[next:1]
	// numbers 1 map[task:0] map[next:2]
}
