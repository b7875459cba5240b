package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// distImpl starts one worker of an implementation ("samsa" or "java") and
// returns it with a clean stop.
func distStartOne(t *testing.T, impl string, cfg javaWorkerConfig) (distWorker, func()) {
	t.Helper()
	if impl == "samsa" {
		w := distStartSamsa(t, distSamsaProps(cfg))[0]
		return w, w.Stop
	}
	w := javaStartWorker(t, cfg)
	return w, w.Stop
}

// TestDistTopicsCrossover is issue 16's acceptance item 3 (Topic
// formats): connectors created on one implementation's worker are seen,
// with the same config, state (RUNNING, PAUSED, STOPPED) and source
// offsets, by the other implementation's worker started afterwards on the
// same three topics and group.id (the first stopped before); the
// FileStreamSource resumes at the position the first committed. Both
// directions: Samsa then Java, Java then Samsa.
func TestDistTopicsCrossover(t *testing.T) {
	broker := javaStartBroker(t)
	for _, dir := range [][2]string{{"samsa", "java"}, {"java", "samsa"}} {
		t.Run(dir[0]+"-then-"+dir[1], func(t *testing.T) {
			distCrossover(t, broker, dir[0], dir[1])
		})
	}
}

func distCrossover(t *testing.T, broker *clustertest.Node, first, second string) {
	group := "dist-x-" + first
	data := group + "-data"
	distCreateTopic(t, broker.Client(t), data, 1)
	dir := t.TempDir()
	in, in2, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "in2.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("a1\na2\na3\na4\na5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in2, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := javaWorkerConfig{Bootstrap: broker.Addr, GroupID: group}
	w, stop := distStartOne(t, first, cfg)
	str := `"key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.storage.StringConverter"`
	distPost(t, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"fsrc","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"`+in+`","topic":"`+data+`",`+str+`}}`, http.StatusCreated)
	distPost(t, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"fsink","config":{"connector.class":"FileStreamSink","tasks.max":"1","file":"`+out+`","topics":"`+data+`",`+str+`}}`, http.StatusCreated)
	distPost(t, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"fstop","initial_state":"STOPPED","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"`+in2+`","topic":"`+data+`",`+str+`}}`, http.StatusCreated)
	javaWaitFor(t, w.RESTURL()+"/connectors/fsink/status", 60*time.Second, javaAllRunning(1))
	distPost(t, http.MethodPut, w.RESTURL()+"/connectors/fsink/pause", "", http.StatusAccepted)
	javaWaitFor(t, w.RESTURL()+"/connectors/fsrc/status", 60*time.Second, javaAllRunning(1))
	want := map[string]string{"fsrc": "RUNNING", "fsink": "PAUSED", "fstop": "STOPPED"}
	for c, state := range want {
		javaWaitFor(t, w.RESTURL()+"/connectors/"+c+"/status", 60*time.Second, distConnectorIn(state))
	}
	if got := distConsume(t, broker, data, 5); strings.Join(got, ",") != "a1,a2,a3,a4,a5" {
		t.Fatalf("%s's FileStreamSource wrote %q", first, got)
	}
	// The source's position (all five lines) is committed.
	offsets := javaWaitFor(t, w.RESTURL()+"/connectors/fsrc/offsets", 60*time.Second, func(a javaAnswer) bool {
		return a.Status == http.StatusOK && strings.Contains(string(a.Body), `"position":15`)
	})
	configs := map[string]any{}
	for c := range want {
		configs[c] = javaCall(t, http.MethodGet, w.RESTURL()+"/connectors/"+c+"/config", "").JSON
	}
	stop()

	w2, _ := distStartOne(t, second, cfg)
	var names []string
	if err := json.Unmarshal(javaWaitFor(t, w2.RESTURL()+"/connectors", 60*time.Second, func(a javaAnswer) bool {
		return a.Status == http.StatusOK && strings.Count(string(a.Body), `"f`) == 3
	}).Body, &names); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "fsink,fsrc,fstop" {
		t.Fatalf("%s lists %v", second, names)
	}
	for c, state := range want {
		if got := javaCall(t, http.MethodGet, w2.RESTURL()+"/connectors/"+c+"/config", "").JSON; !reflect.DeepEqual(got, configs[c]) {
			t.Fatalf("%s's config of %s: %v; %s had %v", second, c, got, first, configs[c])
		}
		javaWaitFor(t, w2.RESTURL()+"/connectors/"+c+"/status", 90*time.Second, distConnectorIn(state))
	}
	javaWaitFor(t, w2.RESTURL()+"/connectors/fsrc/status", 60*time.Second, javaAllRunning(1))
	if got := javaCall(t, http.MethodGet, w2.RESTURL()+"/connectors/fsrc/offsets", ""); !reflect.DeepEqual(got.JSON, offsets.JSON) {
		t.Fatalf("%s's offsets of fsrc: %d %s; %s committed %s", second, got.Status, got.Body, first, offsets.Body)
	}
	// The second resumes the file where the first left it.
	f, err := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("a6\na7\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := distConsume(t, broker, data, 7)
	time.Sleep(3 * time.Second) // a re-read file would show up by now
	if got = distConsume(t, broker, data, 7); strings.Join(got, ",") != "a1,a2,a3,a4,a5,a6,a7" {
		t.Fatalf("after %s took over from %s the topic holds %q, want a1..a7 once each", second, first, got)
	}
	// The paused sink, resumed on the second, writes every line.
	distPost(t, http.MethodPut, w2.RESTURL()+"/connectors/fsink/resume", "", http.StatusAccepted)
	lines := rtWaitFile(t, out, 7)
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for i := 1; i <= 7; i++ {
		if !seen[fmt.Sprintf("a%d", i)] {
			t.Fatalf("the sink's file lacks a%d: %q", i, lines)
		}
	}
}

// distConnectorIn accepts a status whose connector is in state.
func distConnectorIn(state string) func(javaAnswer) bool {
	return func(a javaAnswer) bool {
		s, ok := javaDecodeStatus(a)
		return ok && s.Connector.State == state
	}
}

// distConsume reads a one-partition topic from the start until it has at
// least n records (failing after a minute) and returns every value read.
func distConsume(t *testing.T, broker *clustertest.Node, topic string, n int) []string {
	t.Helper()
	cl := broker.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records %q, want %d", topic, len(got), got, n)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	// Whatever else is already there.
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	cl.PollFetches(short).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	return got
}
