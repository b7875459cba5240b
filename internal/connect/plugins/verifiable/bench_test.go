package verifiable

import (
	"context"
	"io"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

// BenchmarkSourcePollCommit is the source task's cost per record: the
// poll with its printed line, then CommitRecord's line.
func BenchmarkSourcePollCommit(b *testing.B) {
	c := Plugins(io.Discard)[0].New().(connect.SourceConnector)
	task := c.NewTask().(*SourceTask)
	if err := task.Start(srcCtx{offsets{}}, map[string]string{"name": "s", "id": "0", "topic": "t", "throughput": "-1"}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for n := 0; n < b.N; {
		recs, err := task.Poll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := task.CommitRecord(r, nil); err != nil {
				b.Fatal(err)
			}
		}
		n += len(recs)
	}
}

// BenchmarkSinkPutFlush is the sink task's cost per record.
func BenchmarkSinkPutFlush(b *testing.B) {
	c := Plugins(io.Discard)[1].New().(connect.SinkConnector)
	task := c.NewTask()
	if err := task.Start(nil, map[string]string{"name": "k", "id": "0"}); err != nil {
		b.Fatal(err)
	}
	recs := make([]*connect.Record, 500)
	for i := range recs {
		recs[i] = &connect.Record{Topic: "t", KeySchema: connect.SchemaInt32, Key: int32(0),
			ValueSchema: connect.SchemaInt64, Value: int64(i), Offset: int64(i)}
	}
	cur := map[connect.TopicPartition]int64{{Topic: "t"}: 500}
	ctx := context.Background()
	b.ReportAllocs()
	for n := 0; n < b.N; n += len(recs) {
		if err := task.Put(ctx, recs); err != nil {
			b.Fatal(err)
		}
		if _, err := task.PreCommit(ctx, cur); err != nil {
			b.Fatal(err)
		}
	}
}
