package connect

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/plugins"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/verifiable"
)

const (
	plugTopic   = "plug-verifiable"
	plugGroup   = "connect-plug-snk"
	plugPolls   = 3
	plugPerPoll = 1000 // what an unthrottled verifiable source returns per poll
)

// TestPlugVerifiablePipelineOnSamsa moves VerifiableSource records
// through a Samsa broker into VerifiableSink, as a worker would (produce,
// CommitRecord on acknowledgement; consume in a group, Put, PreCommit,
// commit), with a sink that dies between a Put and its commit and a new
// one that takes over from the committed offsets. The ducktape check over
// the printed lines must find every sequence number flushed exactly once.
func TestPlugVerifiablePipelineOnSamsa(t *testing.T) {
	clustertest.SkipInShort(t, "starts samsa serve")
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(n.Client(t)).CreateTopic(ctx, 2, 1, nil, plugTopic); err != nil {
		t.Fatal(err)
	}
	out := &plugLockedBuffer{}
	reg := connect.NewRegistry()
	if err := plugins.RegisterWith(reg, plugins.Options{Stdout: out}); err != nil {
		t.Fatal(err)
	}
	plugRunSources(ctx, t, n, reg)
	total := 2 * plugPolls * plugPerPoll

	// The first sink flushes and commits one poll's worth, then receives
	// more and dies before committing them.
	first := plugSinkTask(t, reg)
	cl := n.Client(t, kgo.ConsumerGroup(plugGroup), kgo.ConsumeTopics(plugTopic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	plugSinkRound(ctx, t, cl, first, total/3, true)
	plugSinkRound(ctx, t, cl, first, total/3, false)
	cl.Close()

	// The second sink resumes from the committed offsets.
	second := plugSinkTask(t, reg)
	cl = n.Client(t, kgo.ConsumerGroup(plugGroup), kgo.ConsumeTopics(plugTopic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	plugSinkRound(ctx, t, cl, second, total-total/3, true)

	var events []verifiable.Event
	for _, l := range plugLines(out.b.Bytes()) {
		e, ok := verifiable.ParseEvent([]byte(l))
		if !ok {
			t.Fatalf("unparsable line %q", l)
		}
		events = append(events, e)
	}
	if errs := verifiable.Check(events, "src", "snk", 2, false); len(errs) != 0 {
		t.Fatalf("check: %v", errs)
	}
	flushed, received := 0, 0
	for _, e := range events {
		switch {
		case e.Sink && e.Flushed:
			flushed++
		case e.Sink:
			received++
		}
	}
	if flushed != total || received != total+total/3 {
		t.Fatalf("%d flushed and %d received lines, want %d and %d (a third received twice)",
			flushed, received, total, total+total/3)
	}
}

// plugRunSources runs two source tasks for plugPolls polls, producing
// each task's records to its own partition (key INT32 and value INT64 as
// Kafka's IntegerSerializer / LongSerializer write them) and calling
// CommitRecord from the producer's callbacks.
func plugRunSources(ctx context.Context, t *testing.T, n *clustertest.Node, reg *connect.Registry) {
	t.Helper()
	p, _ := reg.Lookup("VerifiableSourceConnector")
	conn := p.New().(connect.SourceConnector)
	if err := conn.Start(nil, map[string]string{"name": "src", "topic": plugTopic, "throughput": "-1"}); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := conn.TaskConfigs(2)
	prod := n.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var mu sync.Mutex
	var firstErr error
	for _, cfg := range cfgs {
		task := conn.NewTask()
		if err := task.Start(plugTaskCtx{plugOffsets{}}, cfg); err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.Atoi(cfg["id"])
		for range plugPolls {
			recs, err := task.Poll(ctx)
			if err != nil || len(recs) != plugPerPoll {
				t.Fatalf("poll: %d records, %v", len(recs), err)
			}
			for _, r := range recs {
				kr := &kgo.Record{Topic: r.Topic, Partition: int32(id),
					Key:   binary.BigEndian.AppendUint32(nil, uint32(r.Key.(int32))),
					Value: binary.BigEndian.AppendUint64(nil, uint64(r.Value.(int64)))}
				prod.Produce(ctx, kr, func(kr *kgo.Record, err error) {
					if err == nil {
						err = task.(connect.SourceCommitter).CommitRecord(r, &connect.RecordMetadata{
							Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset})
					}
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				})
			}
		}
		_ = task.Stop()
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func plugSinkTask(t *testing.T, reg *connect.Registry) connect.SinkTask {
	t.Helper()
	p, _ := reg.Lookup("org.apache.kafka.connect.tools.VerifiableSinkConnector")
	conn := p.New().(connect.SinkConnector)
	if err := conn.Start(nil, map[string]string{"name": "snk", "topics": plugTopic}); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := conn.TaskConfigs(1)
	task := conn.NewTask()
	if err := task.Start(nil, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	return task
}

// plugSinkRound consumes want records into task.Put; with commit, it
// then runs PreCommit and commits the offsets PreCommit returns.
func plugSinkRound(ctx context.Context, t *testing.T, cl *kgo.Client, task connect.SinkTask, want int, commit bool) {
	t.Helper()
	next := map[connect.TopicPartition]int64{}
	got := 0
	for got < want {
		fs := cl.PollRecords(ctx, want-got)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll after %d of %d records: %v", got, want, err)
		}
		var recs []*connect.Record
		fs.EachRecord(func(kr *kgo.Record) {
			recs = append(recs, &connect.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset,
				KeySchema: connect.SchemaInt32, Key: int32(binary.BigEndian.Uint32(kr.Key)),
				ValueSchema: connect.SchemaInt64, Value: int64(binary.BigEndian.Uint64(kr.Value))})
			next[connect.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}] = kr.Offset + 1
		})
		if err := task.Put(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got += len(recs)
	}
	if !commit {
		return
	}
	safe, err := task.PreCommit(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	for tp, o := range safe {
		if offs[tp.Topic] == nil {
			offs[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		offs[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err == nil {
			for _, tt := range resp.Topics {
				for _, p := range tt.Partitions {
					if e := kerr.ErrorForCode(p.ErrorCode); e != nil && commitErr == nil {
						commitErr = e
					}
				}
			}
		}
		if err != nil {
			commitErr = err
		}
	})
	if commitErr != nil {
		t.Fatalf("commit: %v", commitErr)
	}
}
