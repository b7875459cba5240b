package connect

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/postgres"
)

const (
	pgSinkTopic = "pg-orders"
	pgSinkGroup = "connect-pg-orders"
	pgSinkN     = 300
)

// pgSinkCtx is a SinkTaskContext failing on bad records (errors.tolerance=none).
type pgSinkCtx struct{}

func (pgSinkCtx) Assignment() []connect.TopicPartition      { return nil }
func (pgSinkCtx) ResetOffset(connect.TopicPartition, int64) {}
func (pgSinkCtx) Pause(...connect.TopicPartition)           {}
func (pgSinkCtx) Resume(...connect.TopicPartition)          {}
func (pgSinkCtx) RequestCommit()                            {}
func (pgSinkCtx) Logger() *slog.Logger                      { return slog.New(slog.NewTextHandler(os.Stderr, nil)) }
func (pgSinkCtx) ReportError(_ context.Context, _ *connect.Record, err error) error {
	return err
}

// TestPgSinkExactlyOnceThroughSamsa produces JsonConverter records to
// Samsa, consumes them as a sink worker does (consumer group, offsets
// committed after Put), lets the first consumer die with a third of what
// it wrote uncommitted, and resumes with a second one: the upsert tables
// hold every record once (by key, and by topic/partition/offset).
func TestPgSinkExactlyOnceThroughSamsa(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	broker := javaStartBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(broker.Client(t))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, pgSinkTopic); err != nil {
		t.Fatal(err)
	}
	pgProduceOrders(ctx, t, broker)

	tasks := map[string]connect.SinkTask{}
	for table, props := range map[string]map[string]string{
		"orders_state": {"pk.mode": "record_key"},
		"orders_log":   {"pk.mode": "kafka"},
	} {
		props["connection.url"], props["insert.mode"], props["auto.create"], props["table.name.format"] = pg.URL, "upsert", "true", table
		task := (&postgres.SinkConnector{}).NewTask()
		if err := task.Start(pgSinkCtx{}, props); err != nil {
			t.Fatal(err)
		}
		defer task.Stop()
		tasks[table] = task
	}
	first := pgSinkRound(ctx, t, broker, tasks, 2*pgSinkN/3, pgSinkN/3)
	second := pgSinkRound(ctx, t, broker, tasks, -1, -1)
	if first+second <= pgSinkN {
		t.Fatalf("consumed %d then %d: nothing was delivered twice, the test proves nothing", first, second)
	}
	var logRows, stateRows, wrong int
	if err := db.QueryRow(ctx, `SELECT count(*), count(DISTINCT (__connect_partition, __connect_offset)) FROM orders_log`).Scan(&logRows, &wrong); err != nil {
		t.Fatal(err)
	}
	if logRows != pgSinkN || wrong != pgSinkN {
		t.Fatalf("orders_log: %d rows (%d distinct), want %d", logRows, wrong, pgSinkN)
	}
	if err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE qty <> id + 200) FROM orders_state`).Scan(&stateRows, &wrong); err != nil {
		t.Fatal(err)
	}
	if stateRows != 100 || wrong != 0 {
		t.Fatalf("orders_state: %d rows, %d with a stale qty; want 100 and 0", stateRows, wrong)
	}
}

var (
	pgOrderKey = &connect.Schema{Type: connect.StructT, Name: "orders.Key", Fields: []connect.Field{{Name: "id", Index: 0, Schema: connect.SchemaInt32}}}
	pgOrderVal = &connect.Schema{Type: connect.StructT, Name: "orders.Value", Fields: []connect.Field{
		{Name: "id", Index: 0, Schema: connect.SchemaInt32}, {Name: "qty", Index: 1, Schema: connect.SchemaInt64},
		{Name: "note", Index: 2, Schema: connect.OptionalString}}}
)

// pgProduceOrders writes record i as key {id: i%100}, value {id, qty: i}.
func pgProduceOrders(ctx context.Context, t *testing.T, broker *clustertest.Node) {
	t.Helper()
	kc, vc := convert.NewJSONConverter(convert.JSONConfig{}.Defaults()), convert.NewJSONConverter(convert.JSONConfig{}.Defaults())
	if err := kc.Configure(map[string]string{}, true); err != nil {
		t.Fatal(err)
	}
	if err := vc.Configure(map[string]string{}, false); err != nil {
		t.Fatal(err)
	}
	prod := broker.Client(t)
	for i := 0; i < pgSinkN; i++ {
		k, v := connect.NewStruct(pgOrderKey), connect.NewStruct(pgOrderVal)
		k.Values[0] = int32(i % 100)
		v.Values = []any{int32(i % 100), int64(i), "order " + strconv.Itoa(i)}
		kb, err := kc.FromConnect(pgSinkTopic, nil, pgOrderKey, k)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := vc.FromConnect(pgSinkTopic, nil, pgOrderVal, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: pgSinkTopic, Key: kb, Value: vb}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// pgSinkRound consumes as the sink runner would: convert, Put to every
// task, commit. It stops after stopAfter records, having committed only
// the batches that ended within commitUpTo (the rest is lost with the
// worker); with -1 it reads to the end and commits everything.
func pgSinkRound(ctx context.Context, t *testing.T, broker *clustertest.Node, tasks map[string]connect.SinkTask, stopAfter, commitUpTo int) int {
	t.Helper()
	kc, vc := convert.NewJSONConverter(convert.JSONConfig{}.Defaults()), convert.NewJSONConverter(convert.JSONConfig{}.Defaults())
	_ = kc.Configure(map[string]string{}, true)
	_ = vc.Configure(map[string]string{}, false)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr), kgo.ConsumerGroup(pgSinkGroup), kgo.ConsumeTopics(pgSinkTopic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(4<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := 0
	for {
		if stopAfter >= 0 && seen >= stopAfter {
			return seen
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollRecords(pctx, 40)
		cancel()
		if fs.Empty() {
			if stopAfter < 0 {
				return seen // drained
			}
			t.Fatalf("no records after %d, want %d", seen, stopAfter)
		}
		var batch []*connect.Record
		for _, r := range fs.Records() {
			ks, kv, err := kc.ToConnect(r.Topic, nil, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			vs, vv, err := vc.ToConnect(r.Topic, nil, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, &connect.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
				KeySchema: ks, Key: kv, ValueSchema: vs, Value: vv})
		}
		for _, task := range tasks {
			if err := task.Put(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		seen += len(batch)
		if stopAfter < 0 || seen <= commitUpTo {
			if err := cl.CommitRecords(ctx, fs.Records()...); err != nil {
				t.Fatal(err)
			}
		}
	}
}
