package connect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRTStandalone runs `samsa connect --standalone worker.properties
// source.properties sink.properties` against a node: the connectors of
// the files run, the source's offsets are kept in
// offset.storage.file.filename, and a restarted worker resumes after
// them (no line is read twice).
func TestRTStandalone(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}})
	dir := t.TempDir()
	in, out, offs := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt"), filepath.Join(dir, "offsets.json")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("in.txt", "a\nb\nc\n")
	worker := write("worker.properties", fmt.Sprintf(`bootstrap.servers=%s
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=%s
offset.flush.interval.ms=200
`, n.Addr, offs))
	src := write("source.properties", "name=file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile="+in+"\ntopic=rt-standalone\n")
	snk := write("sink.properties", "name=file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile="+out+"\ntopics=rt-standalone\n")

	w := rtStartWorker(t, "--standalone", worker, src, snk)
	if l := rtExpect(t, 200, "GET", w.URL+"/connectors", nil).List(); len(l) != 2 {
		t.Fatalf("connectors %v", l)
	}
	rtWaitFile(t, out, 3)
	rtWaitStates(t, w.URL, "file-source", "RUNNING", "RUNNING")
	w.Stop(t)
	b, err := os.ReadFile(offs)
	if err != nil || !strings.Contains(string(b), "file-source") {
		t.Fatalf("offset file: %v %s", err, b)
	}

	f, err := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("d\ne\n")
	f.Close()
	w = rtStartWorker(t, "--standalone", worker, src, snk)
	got := rtWaitFile(t, out, 5)
	if strings.Join(got, ",") != "a,b,c,d,e" {
		t.Fatalf("after the restart the sink has %q", got)
	}
	o := rtExpect(t, 200, "GET", w.URL+"/connectors/file-source/offsets", nil).Map()
	if len(o["offsets"].([]any)) != 1 {
		t.Fatalf("offsets %v", o)
	}
}
