package connect

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/plugins"
)

// TestPlugFileSourceMatchesJava reads one file with Kafka's
// FileStreamSourceTask and Samsa's, from the start and from stored
// positions, and requires the same records with the same offsets
// ({"filename"} -> {"position"}), so either worker resumes the other's.
func TestPlugFileSourceMatchesJava(t *testing.T) {
	clustertest.SkipInShort(t, "runs Kafka's FileStream tasks on a JVM")
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte("one\r\ntwo\nthree\rfour\nfive\n\nseven"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int64{-1, 9, 26} {
		java := string(plugJava(t, "FileHarness.java", "source", path, strconv.FormatInt(pos, 10), "2000"))
		samsa := plugFileSource(t, path, pos)
		if java != samsa {
			t.Errorf("from position %d:\njava:\n%s\nsamsa:\n%s", pos, java, samsa)
		}
		if pos == -1 && strings.Count(samsa, "\n") != 6 {
			t.Errorf("from the start: %q, want six lines", samsa)
		}
	}
}

// plugFileSource prints what FileHarness prints, with Samsa's task.
func plugFileSource(t *testing.T, path string, pos int64) string {
	t.Helper()
	reg := connect.NewRegistry()
	if err := plugins.Register(reg); err != nil {
		t.Fatal(err)
	}
	p, _ := reg.Lookup("FileStreamSource")
	task := p.New().(connect.SourceConnector).NewTask()
	off := plugOffsets{}
	if pos >= 0 {
		off[`{"filename":"`+path+`"}`] = map[string]any{"position": float64(pos)}
	}
	if err := task.Start(plugTaskCtx{off}, map[string]string{"file": path, "topic": "lines", "batch.size": "2000"}); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	var b strings.Builder
	for poll := 0; ; poll++ {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if recs == nil {
			return b.String()
		}
		for _, r := range recs {
			fmt.Fprintf(&b, "%d\t%s\t%s\t%d\n", poll, r.Value, r.SourcePartition["filename"], r.SourceOffset["position"])
		}
	}
}

// TestPlugFileSinkMatchesJava writes the same values with Kafka's
// FileStreamSinkTask and Samsa's and requires the same file.
func TestPlugFileSinkMatchesJava(t *testing.T) {
	clustertest.SkipInShort(t, "runs Kafka's FileStream tasks on a JVM")
	dir := t.TempDir()
	javaFile, samsaFile := filepath.Join(dir, "java.txt"), filepath.Join(dir, "samsa.txt")
	plugJava(t, "FileHarness.java", "sink", javaFile)

	reg := connect.NewRegistry()
	if err := plugins.Register(reg); err != nil {
		t.Fatal(err)
	}
	p, _ := reg.Lookup("FileStreamSink")
	task := p.New().(connect.SinkConnector).NewTask()
	if err := task.Start(nil, map[string]string{"file": samsaFile}); err != nil {
		t.Fatal(err)
	}
	st := connect.NewStruct(&connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "a", Index: 0, Schema: connect.SchemaInt32},
		{Name: "b", Index: 1, Schema: connect.OptionalString},
		{Name: "c", Index: 2, Schema: connect.SchemaString}}})
	st.Values = []any{int32(1), nil, "x"}
	values := []any{"text", nil, int64(42), 1.0, 1.5e10, 0.001, 1.25e-4, -3.5, true, st,
		[]any{"p", int32(2)}, map[string]any{"k": true}, connect.Decimal{Unscaled: big.NewInt(12345), Scale: 2}}
	for _, v := range values {
		if err := task.Put(context.Background(), []*connect.Record{{Topic: "t", Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	java, err := os.ReadFile(javaFile)
	if err != nil {
		t.Fatal(err)
	}
	samsa, err := os.ReadFile(samsaFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(java) != string(samsa) || strings.Count(string(java), "\n") != len(values) {
		t.Fatalf("java wrote\n%s\nsamsa wrote\n%s", java, samsa)
	}
}
