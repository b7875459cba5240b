package datagen

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

type offsets map[string]map[string]any

func (o offsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	k, _ := json.Marshal(p)
	return o[string(k)], nil
}

type srcCtx struct{ off offsets }

func (c srcCtx) Offsets() connect.OffsetReader { return c.off }
func (c srcCtx) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

func startTask(t *testing.T, off offsets, props map[string]string, n int) *Task {
	t.Helper()
	c := Plugins()[0].New().(*Connector)
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := c.TaskConfigs(n + 1)
	task := c.NewTask().(*Task)
	if err := task.Start(srcCtx{off}, cfgs[n]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	return task
}

// pollAll polls until the task has given all its records: a poll with
// an ended context then returns nothing.
func pollAll(t *testing.T, task *Task) []*connect.Record {
	t.Helper()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	var out []*connect.Record
	for task.cfg.iterations < 0 || task.next < task.cfg.iterations {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	if recs, err := task.Poll(done); recs != nil || err != nil {
		t.Fatalf("poll after the last iteration: %d records, %v", len(recs), err)
	}
	return out
}

func TestDeterministicAcrossRestart(t *testing.T) {
	props := map[string]string{"topic": "orders", "quickstart": "Orders", "max.interval": "0",
		"iterations": "2500", "random.seed": "42"}
	all := pollAll(t, startTask(t, offsets{}, props, 1))
	if len(all) != 2500 {
		t.Fatalf("%d records, want 2500", len(all))
	}
	for i, r := range all {
		st := r.Value.(*connect.Struct)
		if err := st.Validate(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Key != int32(i) || st.Get("orderid") != int32(i) || r.Topic != "orders" || r.KeySchema != connect.SchemaInt32 {
			t.Fatalf("record %d: key %v value %v", i, r.Key, st.Values)
		}
		if r.SourcePartition["task.id"] != int32(1) || r.SourceOffset["current.iteration"] != int64(i) {
			t.Fatalf("record %d offsets %v %v", i, r.SourcePartition, r.SourceOffset)
		}
	}
	// A task resuming after iteration 1199 (as decoded JSON) continues
	// with the very same records.
	off := offsets{`{"task.id":1}`: {"current.iteration": float64(1199)}}
	rest := pollAll(t, startTask(t, off, props, 1))
	if len(rest) != 1300 {
		t.Fatalf("%d records after restart, want 1300", len(rest))
	}
	for i, r := range rest {
		if !reflect.DeepEqual(r.Value, all[1200+i].Value) {
			t.Fatalf("record %d differs after restart: %v vs %v", 1200+i, r.Value, all[1200+i].Value)
		}
	}
	// Another seed, other data; another task, other data.
	props["random.seed"] = "43"
	other := pollAll(t, startTask(t, offsets{}, props, 1))
	task0 := pollAll(t, startTask(t, offsets{}, map[string]string{"topic": "orders", "quickstart": "orders",
		"max.interval": "0", "iterations": "10", "random.seed": "42"}, 0))
	if reflect.DeepEqual(other[5].Value, all[5].Value) || reflect.DeepEqual(task0[5].Value, all[5].Value) {
		t.Fatal("seed or task does not change the data")
	}
}

func TestQuickstartsAndKeyField(t *testing.T) {
	for _, qs := range []string{"users", "pageviews"} {
		task := startTask(t, offsets{}, map[string]string{"kafka.topic": qs, "quickstart": qs, "max.interval": "1",
			"iterations": "3", "schema.keyfield": "userid"}, 0)
		recs := pollAll(t, task)
		if len(recs) != 3 {
			t.Fatalf("%s: %d records", qs, len(recs))
		}
		for _, r := range recs {
			st := r.Value.(*connect.Struct)
			if err := st.Validate(); err != nil || st.Schema.Name != "ksql."+qs {
				t.Fatalf("%s: %v %v", qs, st.Schema.Name, err)
			}
			if k, _ := r.Key.(string); !strings.HasPrefix(k, "User_") || k != st.Get("userid") || r.Topic != qs {
				t.Fatalf("%s: key %v of %v", qs, r.Key, st.Values)
			}
		}
	}
	c := &Connector{}
	if err := c.Start(nil, map[string]string{"topic": "x", "schema.keyfield": "nope"}); err == nil {
		t.Fatal("unknown key field accepted")
	}
	if err := c.Start(nil, map[string]string{"quickstart": "users"}); err == nil {
		t.Fatal("missing topic accepted")
	}
	if err := c.Start(nil, map[string]string{"topic": "x", "quickstart": "stocks"}); err == nil {
		t.Fatal("unknown quickstart accepted")
	}
	vals := map[string]*connect.ConfigValue{}
	props := map[string]string{"schema.keyfield": "nope"}
	for _, v := range ConfigDef().Validate(props) {
		vals[v.Name] = v
	}
	c.ValidateConfig(props, vals)
	if len(vals["topic"].Errors) != 1 || len(vals["schema.keyfield"].Errors) != 1 {
		t.Fatalf("validation: topic %v, keyfield %v", vals["topic"].Errors, vals["schema.keyfield"].Errors)
	}
}
