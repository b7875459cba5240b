package connect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRTExactlyOnceSource: with exactly.once.source.support=enabled a
// source's records and offsets are committed in one transaction, so a
// worker killed with kill -9 (long before any periodic offset flush)
// resumes where its last transaction ended: a read_committed consumer
// sees every line exactly once.
func TestRTExactlyOnceSource(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("e1\ne2\ne3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(fmt.Sprintf(`bootstrap.servers=%s
group.id=rt-eos
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
exactly.once.source.support=enabled
offset.flush.interval.ms=600000
`, n.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	w := rtStartWorker(t, props)
	rtWaitWritable(t, w.URL)
	rtExpect(t, 201, "POST", w.URL+"/connectors", map[string]any{"name": "eos", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "rt-eos"}})

	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumeTopics("rt-eos"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	read := func(want int) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for len(got) < want && ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
	}
	read(3)
	rtWaitStates(t, w.URL, "eos", "RUNNING", "RUNNING")
	offs := rtExpect(t, 200, "GET", w.URL+"/connectors/eos/offsets", nil).Map()
	if len(offs["offsets"].([]any)) != 1 {
		t.Fatalf("no offsets in the offsets topic after the transaction: %v", offs)
	}

	w.cmd.Process.Kill()
	<-w.done
	f, err := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("e4\ne5\n")
	f.Close()
	w = rtStartWorker(t, props)
	rtWaitStates(t, w.URL, "eos", "RUNNING", "RUNNING")
	read(5)
	// Anything read twice would be here by now: the source re-reads from
	// its offset before it reads the new lines.
	s := append([]string(nil), got...)
	sort.Strings(s)
	if strings.Join(s, ",") != "e1,e2,e3,e4,e5" {
		t.Fatalf("read_committed saw %q", got)
	}
}
