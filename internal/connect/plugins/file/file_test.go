package file

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

// memOffsets is an OffsetReader over a map, keyed by the partition's
// JSON, holding offsets as a JSON round trip leaves them (as the
// runtime's offset store would).
type memOffsets struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func (o *memOffsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	k, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[string(k)], nil
}

// commit stores the last offset of each partition in recs.
func (o *memOffsets) commit(t *testing.T, recs []*connect.Record) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]map[string]any{}
	}
	for _, r := range recs {
		k, _ := json.Marshal(r.SourcePartition)
		v, _ := json.Marshal(r.SourceOffset)
		var back map[string]any
		if err := json.Unmarshal(v, &back); err != nil {
			t.Fatal(err)
		}
		o.m[string(k)] = back
	}
}

type srcCtx struct{ off *memOffsets }

func (c srcCtx) Offsets() connect.OffsetReader { return c.off }
func (c srcCtx) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

type connCtx struct{}

func (connCtx) RequestTaskReconfiguration() {}
func (connCtx) RaiseError(error)            {}
func (connCtx) Logger() *slog.Logger        { return slog.New(slog.DiscardHandler) }

func startSource(t *testing.T, off *memOffsets, props map[string]string, stdin *os.File) *SourceTask {
	t.Helper()
	var c SourceConnector
	if stdin != nil {
		c.stdin = stdin
	}
	if err := c.Start(connCtx{}, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(3)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("task configs %v, %v: want exactly one", cfgs, err)
	}
	task := c.NewTask().(*SourceTask)
	if err := task.Start(srcCtx{off}, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	return task
}

func values(recs []*connect.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Value.(string))
	}
	return out
}

func TestSourceLinesOffsetsAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte("one\r\ntwo\nthree\rfour\nfiv"), 0o644); err != nil {
		t.Fatal(err)
	}
	off := &memOffsets{}
	props := map[string]string{"file": path, "topic": "lines", "batch.size": "2"}
	task := startSource(t, off, props, nil)

	first, err := task.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := task.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := values(append(first, second...))
	if strings.Join(got, ",") != "one,two,three,four" || len(first) != 2 {
		t.Fatalf("got %q in batches of %d: want one,two,three,four in batches of 2", got, len(first))
	}
	wantPos := []int64{5, 9, 15, 20}
	for i, r := range append(first, second...) {
		if r.Topic != "lines" || r.ValueSchema != connect.SchemaString || r.SourcePartition["filename"] != path {
			t.Fatalf("record %d: %+v", i, r)
		}
		if r.SourceOffset["position"] != wantPos[i] {
			t.Fatalf("record %d position %v, want %d", i, r.SourceOffset["position"], wantPos[i])
		}
	}
	off.commit(t, first) // only the first batch's offsets reach the store
	_ = task.Stop()

	// A new task resumes after "two": "three" and "four" come again
	// (at-least-once, as Java), then the completed "five".
	appendFile(t, path, "e\nsix\n")
	task = startSource(t, off, props, nil)
	var again []*connect.Record
	for len(again) < 4 {
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if recs == nil {
			t.Fatalf("poll returned nothing after %q", values(again))
		}
		again = append(again, recs...)
	}
	if got := strings.Join(values(again), ","); got != "three,four,five,six" {
		t.Fatalf("after restart: %q", got)
	}
	if p := again[3].SourceOffset["position"]; p != int64(29) {
		t.Fatalf("last position %v, want 29", p)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestSourceWaitsForMissingFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "later.txt")
	task := startSource(t, &memOffsets{}, map[string]string{"file": path, "topic": "t"}, nil)
	recs, err := task.Poll(ctx)
	if err != nil || recs != nil {
		t.Fatalf("poll of a missing file: %v, %v", recs, err)
	}
	if err := os.WriteFile(path, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err = task.Poll(ctx)
	if err != nil || len(recs) != 1 || recs[0].Value != "hello" {
		t.Fatalf("poll after create: %v, %v", values(recs), err)
	}
}

func TestSourceStdinAndStop(t *testing.T) {
	ctx := context.Background()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	task := startSource(t, &memOffsets{}, map[string]string{"topic": "t"}, r)
	if _, err := w.WriteString("a\nb\n"); err != nil {
		t.Fatal(err)
	}
	recs, err := task.Poll(ctx)
	if err != nil || strings.Join(values(recs), ",") != "a,b" {
		t.Fatalf("stdin poll: %q, %v", values(recs), err)
	}
	if recs[0].SourcePartition["filename"] != nil || recs[0].SourceOffset["position"] != nil {
		t.Fatalf("stdin offsets are not tracked: %v %v", recs[0].SourcePartition, recs[0].SourceOffset)
	}
	// Stop makes a waiting Poll return.
	done := make(chan error, 1)
	go func() { _, err := task.Poll(ctx); done <- err }()
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("poll after stop: %v", err)
	}
}

func TestSourceConfigAndOffsetsAPI(t *testing.T) {
	def := SourceConfigDef()
	vals := def.Validate(map[string]string{"file": "/x"})
	for _, v := range vals {
		if v.Name == "topic" && len(v.Errors) == 0 {
			t.Fatalf("missing topic passes validation")
		}
		if v.Name != "topic" && len(v.Errors) != 0 {
			t.Fatalf("%s: %v", v.Name, v.Errors)
		}
	}
	if _, err := def.Parse(map[string]string{"topic": ""}); err == nil {
		t.Fatal("empty topic accepted")
	}
	var c SourceConnector
	if c.ExactlyOnceSupport(map[string]string{"file": "/x", "topic": "t"}) != connect.ExactlyOnceSupported ||
		c.ExactlyOnceSupport(map[string]string{"topic": "t"}) != connect.ExactlyOnceUnsupported {
		t.Fatal("exactly-once support differs from Java's")
	}
	props := map[string]string{"file": "/x", "topic": "t"}
	part := map[string]any{"filename": "/x"}
	cases := []struct {
		offsets []connect.SourcePartitionOffset
		ok      bool
	}{
		{[]connect.SourcePartitionOffset{{Partition: part, Offset: map[string]any{"position": float64(10)}}}, true},
		{[]connect.SourcePartitionOffset{{Partition: part, Offset: nil}}, true},
		{[]connect.SourcePartitionOffset{{Partition: part, Offset: map[string]any{"position": -1.0}}}, false},
		{[]connect.SourcePartitionOffset{{Partition: part, Offset: map[string]any{"position": "10"}}}, false},
		{[]connect.SourcePartitionOffset{{Partition: part, Offset: map[string]any{"pos": 1.0}}}, false},
		{[]connect.SourcePartitionOffset{{Partition: map[string]any{}, Offset: map[string]any{"position": 1.0}}}, false},
	}
	for i, tc := range cases {
		ok, err := c.AlterSourceOffsets(props, tc.offsets)
		if ok != tc.ok || (err == nil) != tc.ok {
			t.Errorf("case %d: %v, %v", i, ok, err)
		}
	}
	if _, err := c.AlterSourceOffsets(map[string]string{"topic": "t"}, nil); err == nil {
		t.Error("stdin offsets can be altered")
	}
}

func TestSinkWritesJavaStrings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c SinkConnector
	if err := c.Start(connCtx{}, map[string]string{"file": path, "topics": "a"}); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := c.TaskConfigs(2)
	if len(cfgs) != 2 {
		t.Fatalf("%d task configs, want 2", len(cfgs))
	}
	task := c.NewTask()
	if err := task.Start(nil, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	st := connect.NewStruct(&connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "a", Index: 0, Schema: connect.SchemaInt32},
		{Name: "b", Index: 1, Schema: connect.OptionalString},
		{Name: "c", Index: 2, Schema: connect.SchemaString}}})
	_ = st.Put("a", int32(1))
	_ = st.Put("c", "x")
	recs := []*connect.Record{{Value: "text"}, {Value: nil}, {Value: int64(42)}, {Value: 1.0}, {Value: 1.5e10},
		{Value: st}, {Value: []any{"p", int32(2)}}, {Value: map[string]any{"k": true, "j": nil}},
		{Value: connect.Decimal{Unscaled: big.NewInt(12345), Scale: 2}}}
	if err := task.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	cur := map[connect.TopicPartition]int64{{Topic: "a", Partition: 0}: 9}
	if got, err := task.PreCommit(ctx, cur); err != nil || got[connect.TopicPartition{Topic: "a"}] != 9 {
		t.Fatalf("precommit %v, %v", got, err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "kept\ntext\nnull\n42\n1.0\n1.5E10\nStruct{a=1,c=x}\n[p, 2]\n{j=null, k=true}\n123.45\n"
	if string(b) != want {
		t.Fatalf("file holds\n%q\nwant\n%q", b, want)
	}
	if ok, err := c.AlterSinkOffsets(nil, nil); !ok || err != nil {
		t.Fatal("sink offsets alteration refused")
	}
}

func TestSinkStdout(t *testing.T) {
	var out bytes.Buffer
	p := Plugins(nil, &out)
	c := p[1].New().(*SinkConnector)
	if p[1].Class != SinkClass || p[1].Aliases[0] != "FileStreamSink" || p[0].Aliases[0] != "FileStreamSource" {
		t.Fatalf("plugins %+v", p)
	}
	task := c.NewTask()
	if err := task.Start(nil, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(context.Background(), []*connect.Record{{Value: "x"}, {Value: "y"}}); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "x\ny\n" {
		t.Fatalf("stdout %q", out.String())
	}
}

func TestJavaFloats(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0", 100: "100.0", 0.001: "0.001", 1e7: "1.0E7",
		1.25e-4: "1.25E-4", -3.5: "-3.5"} {
		if got := string(appendJavaFloat(nil, f, 64)); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}
