package connect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/plugins"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/verifiable"
)

// TestPlugVerifiableMatchesJava feeds Kafka's VerifiableSourceTask and
// VerifiableSinkTask (run by test/connect/plugjava/VerifiableHarness.java)
// and Samsa's the same inputs, and requires the same standard output,
// byte for byte once time_ms is masked, and the same parsed events.
func TestPlugVerifiableMatchesJava(t *testing.T) {
	clustertest.SkipInShort(t, "runs Kafka's Verifiable tasks on a JVM")
	java := plugLines(plugJava(t, "VerifiableHarness.java"))
	samsa := plugSamsaOutput(t)
	mask := regexp.MustCompile(`"time_ms":\d+`)
	if len(java) != len(samsa) {
		t.Fatalf("Java printed %d lines, Samsa %d:\n%s\n--\n%s", len(java), len(samsa),
			strings.Join(java, "\n"), strings.Join(samsa, "\n"))
	}
	for i := range java {
		j := mask.ReplaceAllString(java[i], `"time_ms":0`)
		s := mask.ReplaceAllString(samsa[i], `"time_ms":0`)
		if j != s {
			t.Errorf("line %d:\n java  %s\n samsa %s", i, j, s)
		}
		je, jok := verifiable.ParseEvent([]byte(java[i]))
		se, sok := verifiable.ParseEvent([]byte(samsa[i]))
		je.TimeMs, se.TimeMs = 0, 0
		if !jok || !sok || je != se {
			t.Errorf("line %d parses to %+v (%v) and %+v (%v)", i, je, jok, se, sok)
		}
	}
}

// plugRequireTool skips when a tool is missing, except under CI.
func plugRequireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (make deps-java installs it): %v", name, err)
	}
	t.Skipf("%s unavailable (run make deps-java): %v", name, err)
	return ""
}

// plugJava runs a harness of plugjava/ with args on the classpath of
// plugjava/pom.xml and returns its standard output.
func plugJava(t *testing.T, harness string, args ...string) []byte {
	t.Helper()
	mvn := plugRequireTool(t, "mvn")
	javaBin := plugRequireTool(t, "java")
	cpFile := filepath.Join(t.TempDir(), "classpath.txt")
	mvnArgs := []string{"-q", "-B", "-Dstyle.color=never", "-f", filepath.Join("plugjava", "pom.xml"),
		"dependency:build-classpath", "-Dmdep.outputFile=" + cpFile}
	// Offline first (the jars are usually in ~/.m2), then from Maven Central.
	if _, err := exec.Command(mvn, append([]string{"-o"}, mvnArgs...)...).CombinedOutput(); err != nil {
		if out, err := exec.Command(mvn, mvnArgs...).CombinedOutput(); err != nil {
			t.Fatalf("mvn dependency:build-classpath: %v\n%s", err, out)
		}
	}
	cp, err := os.ReadFile(cpFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(javaBin, append([]string{"-cp", strings.TrimSpace(string(cp)),
		filepath.Join("plugjava", harness)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java %s: %v\n%s", harness, err, stderr.String())
	}
	return out
}

func plugLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

type plugOffsets map[string]map[string]any

func (o plugOffsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	k, _ := json.Marshal(p)
	return o[string(k)], nil
}

type plugTaskCtx struct{ off plugOffsets }

func (c plugTaskCtx) Offsets() connect.OffsetReader { return c.off }
func (c plugTaskCtx) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

type plugLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *plugLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// plugSamsaOutput does what the harness does, with Samsa's connectors
// from the registry. Samsa's source polls up to 1000 records at once, so
// the lines of records past the third are dropped before comparing.
func plugSamsaOutput(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	out := &plugLockedBuffer{}
	reg := connect.NewRegistry()
	if err := plugins.RegisterWith(reg, plugins.Options{Stdout: out}); err != nil {
		t.Fatal(err)
	}
	src, _ := reg.Lookup("org.apache.kafka.connect.tools.VerifiableSourceConnector")
	off := plugOffsets{`{"id":1}`: {"seqno": float64(4)}}
	var lines []string
	for id := range 2 {
		task := src.New().(connect.SourceConnector).NewTask()
		props := map[string]string{"name": "src", "id": string(rune('0' + id)), "topic": "vt", "throughput": "-1"}
		if err := task.Start(plugTaskCtx{off}, props); err != nil {
			t.Fatal(err)
		}
		recs, err := task.Poll(ctx)
		if err != nil || len(recs) < 3 {
			t.Fatalf("poll: %d records, %v", len(recs), err)
		}
		for _, r := range recs[:3] {
			if err := task.(connect.SourceCommitter).CommitRecord(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		_ = task.Stop()
		all := plugLines(out.b.Bytes())
		out.b.Reset()
		lines = append(append(lines, all[:3]...), all[len(all)-3:]...)
	}
	snk, _ := reg.Lookup("VerifiableSinkConnector")
	task := snk.New().(connect.SinkConnector).NewTask()
	if err := task.Start(nil, map[string]string{"name": "snk", "id": "0"}); err != nil {
		t.Fatal(err)
	}
	var in []*connect.Record
	for p := range int32(2) {
		for i := range int64(3) {
			in = append(in, &connect.Record{Topic: "vt", Partition: p, KeySchema: connect.SchemaInt32, Key: p,
				ValueSchema: connect.SchemaInt64, Value: i, Offset: 10 + i})
		}
	}
	if err := task.Put(ctx, in); err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if _, err := task.PreCommit(ctx, map[connect.TopicPartition]int64{{Topic: "vt", Partition: p}: 13}); err != nil {
			t.Fatal(err)
		}
	}
	return append(lines, plugLines(out.b.Bytes())...)
}
