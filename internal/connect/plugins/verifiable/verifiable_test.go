package verifiable

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

// lockedBuffer is a worker stdout shared by tasks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(&l.b)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	l.b.Reset()
	return out
}

// offsets is an OffsetReader over a map keyed by the partition's JSON,
// holding offsets as decoded JSON (as a runtime's store gives them back).
type offsets map[string]map[string]any

func (o offsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	k, _ := json.Marshal(p)
	return o[string(k)], nil
}

func (o offsets) put(t *testing.T, r *connect.Record) {
	k, _ := json.Marshal(r.SourcePartition)
	v, _ := json.Marshal(r.SourceOffset)
	var back map[string]any
	if err := json.Unmarshal(v, &back); err != nil {
		t.Fatal(err)
	}
	o[string(k)] = back
}

type srcCtx struct{ off offsets }

func (c srcCtx) Offsets() connect.OffsetReader { return c.off }
func (c srcCtx) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

func startSources(t *testing.T, out *lockedBuffer, off offsets, props map[string]string, n int) []*SourceTask {
	t.Helper()
	p := Plugins(out)
	c := p[0].New().(connect.SourceConnector)
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := c.TaskConfigs(n)
	var tasks []*SourceTask
	for i, cfg := range cfgs {
		if cfg["id"] != string(rune('0'+i)) {
			t.Fatalf("task %d config %v", i, cfg)
		}
		task := c.NewTask().(*SourceTask)
		if err := task.Start(srcCtx{off}, cfg); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

var (
	sentLine      = regexp.MustCompile(`^\{"task":\d+,"seqno":\d+,"time_ms":\d+,"name":"src","topic":"vt"\}$`)
	committedLine = regexp.MustCompile(`^\{"committed":true,"task":\d+,"seqno":\d+,"time_ms":\d+,"name":"src","topic":"vt"\}$`)
	receivedLine  = regexp.MustCompile(`^\{"task":\d+,"seqno":\d+,"offset":\d+,"time_ms":\d+,"name":"snk","topic":"vt","sinkTask":\d+\}$`)
	flushedLine   = regexp.MustCompile(`^\{"task":\d+,"seqno":\d+,"offset":\d+,"time_ms":\d+,"name":"snk","topic":"vt","sinkTask":\d+,"flushed":true\}$`)
)

// pipe runs source tasks into a pretend topic (one partition per source
// task) and the sink task over it, as a runtime would: poll, "write"
// (assign offsets), CommitRecord, then Put and PreCommit.
func pipe(t *testing.T, srcs []*SourceTask, sink connect.SinkTask, off offsets, logEnd map[int32]int64, polls int) {
	t.Helper()
	ctx := context.Background()
	for range polls {
		for _, s := range srcs {
			recs, err := s.Poll(ctx)
			if err != nil || len(recs) == 0 {
				t.Fatalf("poll: %d records, %v", len(recs), err)
			}
			var sunk []*connect.Record
			for _, r := range recs {
				p := r.Key.(int32)
				md := &connect.RecordMetadata{Topic: r.Topic, Partition: p, Offset: logEnd[p]}
				logEnd[p]++
				if err := s.CommitRecord(r, md); err != nil {
					t.Fatal(err)
				}
				off.put(t, r)
				sunk = append(sunk, &connect.Record{Topic: r.Topic, Partition: p, Offset: md.Offset,
					KeySchema: r.KeySchema, Key: r.Key, ValueSchema: r.ValueSchema, Value: r.Value})
			}
			if err := sink.Put(ctx, sunk); err != nil {
				t.Fatal(err)
			}
		}
		cur := map[connect.TopicPartition]int64{}
		for p, o := range logEnd {
			cur[connect.TopicPartition{Topic: "vt", Partition: p}] = o
		}
		if _, err := sink.PreCommit(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifiableOutputAndCheck(t *testing.T) {
	out := &lockedBuffer{}
	off := offsets{}
	props := map[string]string{"name": "src", "topic": "vt", "throughput": "-1", "tasks.max": "2"}
	srcs := startSources(t, out, off, props, 2)
	sc := Plugins(out)[1].New().(connect.SinkConnector)
	if err := sc.Start(nil, map[string]string{"name": "snk", "topics": "vt"}); err != nil {
		t.Fatal(err)
	}
	scfg, _ := sc.TaskConfigs(1)
	sink := sc.NewTask()
	if err := sink.Start(nil, scfg[0]); err != nil {
		t.Fatal(err)
	}
	logEnd := map[int32]int64{}
	pipe(t, srcs, sink, off, logEnd, 2)

	// A restart resumes after the last stored seqno of each task.
	for _, s := range srcs {
		_ = s.Stop()
	}
	srcs = startSources(t, out, off, props, 2)
	if srcs[0].seq != 2*maxBatch || srcs[1].seq != 2*maxBatch {
		t.Fatalf("restarted at %d/%d, want %d", srcs[0].seq, srcs[1].seq, 2*maxBatch)
	}
	pipe(t, srcs, sink, off, logEnd, 1)

	lines := out.take()
	var events []Event
	kinds := map[string]int{}
	for _, l := range lines {
		switch {
		case sentLine.MatchString(l):
			kinds["sent"]++
		case committedLine.MatchString(l):
			kinds["committed"]++
		case receivedLine.MatchString(l):
			kinds["received"]++
		case flushedLine.MatchString(l):
			kinds["flushed"]++
		default:
			t.Fatalf("line not in Java's format: %s", l)
		}
		e, ok := ParseEvent([]byte(l))
		if !ok {
			t.Fatalf("unparsed: %s", l)
		}
		events = append(events, e)
	}
	n := 2 * 3 * maxBatch
	for _, k := range []string{"sent", "committed", "received", "flushed"} {
		if kinds[k] != n {
			t.Fatalf("%d %s lines, want %d (%v)", kinds[k], k, n, kinds)
		}
	}
	if errs := Check(events, "src", "snk", 2, false); len(errs) != 0 {
		t.Fatalf("check: %v", errs)
	}
	// The check finds a lost record and a duplicate.
	var damaged []Event
	for _, e := range events {
		if e.Sink && e.Flushed && e.Task == 1 && e.Seqno == 17 {
			continue
		}
		damaged = append(damaged, e)
		if e.Sink && e.Flushed && e.Task == 0 && e.Seqno == 5 {
			damaged = append(damaged, e)
		}
	}
	errs := Check(damaged, "src", "snk", 2, false)
	if len(errs) != 2 || !strings.Contains(errs[0], "duplicate sink sequence numbers for task 0: [5]") ||
		!strings.Contains(errs[1], "missing sink sequence numbers for task 1: [17]") {
		t.Fatalf("check of damaged run: %q", errs)
	}
}

func TestVerifiableThrottleAndStop(t *testing.T) {
	out := &lockedBuffer{}
	srcs := startSources(t, out, offsets{}, map[string]string{"name": "src", "topic": "vt", "throughput": "10"}, 1)
	recs, err := srcs[0].Poll(context.Background())
	if err != nil || len(recs) != 1 || recs[0].Value != int64(0) || recs[0].SourceOffset["seqno"] != int64(0) {
		t.Fatalf("first throttled poll: %v, %v", recs, err)
	}
	// Throughput 0 never sends: Poll waits until Stop.
	srcs = startSources(t, out, offsets{}, map[string]string{"name": "src", "topic": "vt", "throughput": "0"}, 1)
	done := make(chan int, 1)
	go func() {
		recs, _ := srcs[0].Poll(context.Background())
		done <- len(recs)
	}()
	_ = srcs[0].Stop()
	if n := <-done; n != 0 {
		t.Fatalf("throughput 0 sent %d records", n)
	}
	bad := Plugins(out)[0].New().(connect.SourceConnector).NewTask()
	if err := bad.Start(srcCtx{offsets{}}, map[string]string{"id": "0"}); err == nil ||
		!strings.Contains(err.Error(), "Invalid VerifiableSourceTask configuration") {
		t.Fatalf("missing throughput: %v", err)
	}
}

func TestVerifiableCompleteRecordData(t *testing.T) {
	out := &lockedBuffer{}
	srcs := startSources(t, out, offsets{}, map[string]string{"name": "src", "topic": "vt", "throughput": "-1",
		"complete.record.data": "TRUE"}, 1)
	recs, err := srcs[0].Poll(context.Background())
	if err != nil || len(recs) == 0 {
		t.Fatal(err)
	}
	st, ok := recs[3].Value.(*connect.Struct)
	if !ok || st.Get("seqno") != int64(3) || st.Get("name") != "src" || st.Get("task") != int32(0) {
		t.Fatalf("complete value %#v", recs[3].Value)
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := srcs[0].CommitRecord(recs[3], nil); err != nil {
		t.Fatal(err)
	}
	lines := out.take()
	if last := lines[len(lines)-1]; !committedLine.MatchString(last) || !strings.Contains(last, `"seqno":3,`) {
		t.Fatalf("commit line %s", last)
	}
}
