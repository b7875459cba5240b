package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
)

// The pgrt tests run the PostgreSQL connectors in real `samsa connect`
// workers (distributed mode, JsonConverter) and kill them with kill -9.

const pgrtJSON = "org.apache.kafka.connect.json.JsonConverter"

// pgrtWorkerProps writes a distributed worker's properties (group and
// internal topics named after group; quick flushes and rebalances) and
// returns the file's path.
func pgrtWorkerProps(t *testing.T, bootstrap, group string) string {
	t.Helper()
	props := fmt.Sprintf(`bootstrap.servers=%[1]s
group.id=%[2]s
config.storage.topic=%[2]s-configs
offset.storage.topic=%[2]s-offsets
status.storage.topic=%[2]s-status
key.converter=%[3]s
value.converter=%[3]s
offset.flush.interval.ms=500
scheduled.rebalance.max.delay.ms=1000
session.timeout.ms=6000
heartbeat.interval.ms=1000
consumer.session.timeout.ms=6000
consumer.heartbeat.interval.ms=500
`, bootstrap, group, pgrtJSON)
	path := filepath.Join(t.TempDir(), group+".properties")
	if err := os.WriteFile(path, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pgrtKill kills a worker with SIGKILL (kill -9) and waits for its end.
func pgrtKill(t *testing.T, w *rtWorker) {
	t.Helper()
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-w.done
}

// TestPgrtCdcThroughWorker runs the Debezium-named CDC connector, with a
// Debezium-style config, in a `samsa connect` worker and Debezium 3.6.1 in
// the Java worker on one database and broker, runs one SQL script, and
// compares what both put in Samsa (key, op, before, after, in order,
// topic by topic). Then, while single-row transactions stream, the
// worker is killed with kill -9 and another started: every change
// arrives, in commit order, and only changes after the offset committed
// before the kill come twice.
func TestPgrtCdcThroughWorker(t *testing.T) {
	t.Parallel()
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, pgDbzSchema)
	broker := javaStartBroker(t)
	var ours []string
	for _, topic := range pgDbzTopics {
		ours = append(ours, "rt"+strings.TrimPrefix(topic, "dbz"))
	}
	// one partition each: a topic's order is the commit order
	if _, err := kadm.NewClient(broker.Client(t)).CreateTopics(context.Background(), 1, 1, nil, append(ours, pgDbzTopics...)...); err != nil {
		t.Fatal(err)
	}
	props := pgrtWorkerProps(t, broker.Addr, "pgrt-cdc")
	w := rtStartWorker(t, props)
	rtWaitWritable(t, w.URL)
	cfg := pgDbzConfig(pg, "rt", "rt_slot", "rt_pub")
	cfg["key.converter"], cfg["value.converter"], cfg["poll.interval.ms"] = pgrtJSON, pgrtJSON, "100"
	rtExpect(t, 201, "POST", w.URL+"/connectors", map[string]any{"name": "pgcdc", "config": cfg})
	rtWaitStates(t, w.URL, "pgcdc", "RUNNING", "RUNNING")
	pgWaitSlotActive(t, db, "rt_slot")
	dbz := pgStartDebezium(t, pg, db, broker)

	pgExec(t, db, pgDbzScript)
	const events = 15 // a snapshot read, then the script's 14 events
	fromStart := kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())
	want := pgConsume(t, broker.Client(t, kgo.ConsumeTopics(pgDbzTopics...), fromStart), events)
	got := pgConsume(t, broker.Client(t, kgo.ConsumeTopics(ours...), fromStart), events)
	dbz.Kill() // its part is done; spare the CPU
	for i, topic := range pgDbzTopics {
		pgDiffEvents(t, topic, got[ours[i]], want[topic])
	}

	pgrtKillMidStream(t, pg, broker, w, props)
}

// pgrtEvent is a streamed insert into inventory.docs: the row's id and
// its transaction.
type pgrtEvent struct{ ID, TxID int64 }

// pgrtKillMidStream inserts rows into inventory.docs, one transaction
// each, until the worker was killed (kill -9) and a new one streams;
// then checks the topic: every row once, in commit order, except one
// replay of changes whose offsets were not committed before the kill.
func pgrtKillMidStream(t *testing.T, pg *pgCluster, broker *clustertest.Node, w *rtWorker, props string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	gen := pg.pgConn(t)
	inserted := make(chan int64, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		inserted <- pgrtInsertDocs(ctx, gen)
	}()

	cl := broker.Client(t, kgo.ConsumeTopics("rt.inventory.docs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var evs []pgrtEvent
	pgrtReadDocs(t, cl, &evs, func() bool { return len(evs) >= 40 })
	pgrtKill(t, w)
	committed := pgrtCommittedTx(t, broker, "pgrt-cdc-offsets", "pgcdc")
	before := len(evs)
	maxBefore := evs[before-1].ID
	t.Logf("killed the worker after %d streamed changes (last id %d); committed offset: txId %d", before, maxBefore, committed)
	rtStartWorker(t, props)
	pgrtReadDocs(t, cl, &evs, func() bool { return evs[len(evs)-1].ID >= maxBefore+20 })
	cancel()
	last := <-inserted
	if last < maxBefore+20 {
		t.Fatalf("the inserts stopped at id %d: %v", last, ctx.Err())
	}
	pgrtReadDocs(t, cl, &evs, func() bool {
		for _, e := range evs[before:] {
			if e.ID == last {
				return true
			}
		}
		return false
	})
	pgrtCheckReplay(t, evs, last, committed)
}

const pgrtFirstDoc = 100

// pgrtInsertDocs inserts rows 100, 101, … one transaction each, every
// 10 ms, until ctx ends, and returns the last id inserted.
func pgrtInsertDocs(ctx context.Context, conn *pgx.Conn) int64 {
	id := int64(pgrtFirstDoc - 1)
	for ctx.Err() == nil {
		if _, err := conn.Exec(context.Background(), `INSERT INTO inventory.docs VALUES ($1, 'streamed', $1)`, id+1); err != nil {
			return id
		}
		id++
		pgrtIdle(ctx, 10*time.Millisecond)
	}
	return id
}

// pgrtIdle waits d or until ctx ends.
func pgrtIdle(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// pgrtReadDocs appends the streamed inserts read from cl until done
// holds (60 s at most).
func pgrtReadDocs(t *testing.T, cl *kgo.Client, evs *[]pgrtEvent, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(*evs) == 0 || !done() {
		if time.Now().After(deadline) {
			t.Fatalf("streamed changes: %d in Samsa after 60s, condition unmet; last %v", len(*evs), (*evs)[max(0, len(*evs)-3):])
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			v, ok := pgPayload(t, r.Value).(map[string]any)
			if !ok || v["op"] != "c" {
				return
			}
			after, _ := v["after"].(map[string]any)
			src, _ := v["source"].(map[string]any)
			idNum, _ := after["id"].(json.Number)
			txNum, _ := src["txId"].(json.Number)
			id, err1 := idNum.Int64()
			tx, err2 := txNum.Int64()
			if err1 != nil || err2 != nil {
				t.Fatalf("a docs event without after.id or source.txId: %v", v)
			}
			if id >= pgrtFirstDoc {
				*evs = append(*evs, pgrtEvent{ID: id, TxID: tx})
			}
		})
	}
}

// pgrtCommittedTx reads a source connector's committed offset from the
// offsets topic and returns its txId (-1 if none).
func pgrtCommittedTx(t *testing.T, broker *clustertest.Node, topic, connector string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(broker.Client(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	cl := broker.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	tx := int64(-1)
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
			var key []any
			if json.Unmarshal(r.Key, &key) != nil || len(key) != 2 || key[0] != connector {
				return
			}
			var off map[string]any
			if err := json.Unmarshal(r.Value, &off); err != nil {
				t.Fatalf("offset %s: %v", r.Value, err)
			}
			if n, ok := off["txId"].(float64); ok {
				tx = int64(n)
			}
		})
	}
	return tx
}

// pgrtCheckReplay checks that the streamed ids are first..last in order,
// each once, but for one contiguous replay of changes of transactions
// after the committed one.
func pgrtCheckReplay(t *testing.T, evs []pgrtEvent, last, committedTx int64) {
	t.Helper()
	next, prev, replays, dups := int64(pgrtFirstDoc), int64(0), 0, 0
	for i, e := range evs {
		switch {
		case e.ID == next:
			next++
		case e.ID > next:
			t.Fatalf("change lost: event %d is id %d, want %d", i, e.ID, next)
		default: // delivered before
			dups++
			if e.TxID <= committedTx {
				t.Fatalf("id %d (txId %d) came again although its offset (txId %d) was committed", e.ID, e.TxID, committedTx)
			}
			if e.ID != prev+1 {
				replays++
			}
		}
		prev = e.ID
	}
	if replays > 1 {
		t.Fatalf("%d replays; want at most the one after the kill", replays)
	}
	if next != last+1 {
		t.Fatalf("ids %d..%d in Samsa, %d inserted", pgrtFirstDoc, next-1, last)
	}
	t.Logf("%d streamed changes, all in commit order; %d delivered again after the kill", last-pgrtFirstDoc+1, dups)
}

const (
	pgrtSinkTopic = "pgrt_orders"
	pgrtSinkN     = 600
)

// TestPgrtSinkExactlyOnceAcrossKill runs the PostgreSQL sink (upsert by
// record key, auto-created table) in a `samsa connect` worker, kills it
// with kill -9 while it consumes keyed JsonConverter records, and resumes
// in a new worker: the table holds every produced record once.
func TestPgrtSinkExactlyOnceAcrossKill(t *testing.T) {
	t.Parallel()
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	broker := javaStartBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(broker.Client(t))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, pgrtSinkTopic); err != nil {
		t.Fatal(err)
	}
	props := pgrtWorkerProps(t, broker.Addr, "pgrt-sink")
	w := rtStartWorker(t, props)
	rtWaitWritable(t, w.URL)
	rtExpect(t, 201, "POST", w.URL+"/connectors", map[string]any{"name": "orders", "config": map[string]string{
		"connector.class": "io.samsa.connect.jdbc.PostgresSinkConnector", "tasks.max": "1", "topics": pgrtSinkTopic,
		"connection.url": pg.URL, "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true",
		"key.converter": pgrtJSON, "value.converter": pgrtJSON}})
	rtWaitStates(t, w.URL, "orders", "RUNNING", "RUNNING")
	prod := broker.Client(t)

	// A third is written and its offsets committed; the rest streams in
	// while the worker dies.
	pgrtProduceOrders(ctx, t, prod, 0, pgrtSinkN/3, 0)
	pgrtWaitRows(t, db, pgrtSinkN/3)
	pgrtWaitCommitted(t, adm, "connect-orders", pgrtSinkN/3)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { // paced, so the kill lands mid-stream
		defer wg.Done()
		pgrtProduceOrders(ctx, t, prod, pgrtSinkN/3, pgrtSinkN, 5*time.Millisecond)
	}()
	rowsAtKill := pgrtWaitRows(t, db, pgrtSinkN/2)
	pgrtKill(t, w)
	committed := pgrtCommitted(t, adm, "connect-orders")
	t.Logf("killed the worker at %d rows, %d offsets committed", rowsAtKill, committed)
	if committed < pgrtSinkN/3 || rowsAtKill >= pgrtSinkN {
		t.Fatalf("kill at %d rows with %d committed: not mid-stream", rowsAtKill, committed)
	}
	rtStartWorker(t, props)
	wg.Wait()
	pgrtWaitRows(t, db, pgrtSinkN)
	pgrtWaitCommitted(t, adm, "connect-orders", pgrtSinkN)
	var rows, distinct, wrong int
	err := db.QueryRow(ctx, `SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE qty <> id * 7 OR note <> 'order ' || id OR id NOT BETWEEN 0 AND $1)
		FROM `+pgrtSinkTopic, pgrtSinkN-1).Scan(&rows, &distinct, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if rows != pgrtSinkN || distinct != pgrtSinkN || wrong != 0 {
		t.Fatalf("%s: %d rows (%d distinct ids, %d wrong), want each of the %d records once", pgrtSinkTopic, rows, distinct, wrong, pgrtSinkN)
	}
}

// pgrtProduceOrders produces records from..to-1, record i with key {id:
// i} and value {id: i, qty: 7i, note: "order i"} (JsonConverter with
// schemas), pausing pace between records.
func pgrtProduceOrders(ctx context.Context, t *testing.T, prod *kgo.Client, from, to int, pace time.Duration) {
	kc, vc := convert.NewJSONConverter(convert.JSONConfig{}.Defaults()), convert.NewJSONConverter(convert.JSONConfig{}.Defaults())
	if err := kc.Configure(map[string]string{}, true); err != nil {
		t.Error(err)
		return
	}
	if err := vc.Configure(map[string]string{}, false); err != nil {
		t.Error(err)
		return
	}
	for i := from; i < to; i++ {
		k, v := connect.NewStruct(pgOrderKey), connect.NewStruct(pgOrderVal)
		k.Values[0] = int32(i)
		v.Values = []any{int32(i), int64(7 * i), "order " + strconv.Itoa(i)}
		kb, err := kc.FromConnect(pgrtSinkTopic, nil, pgOrderKey, k)
		if err == nil {
			var vb []byte
			if vb, err = vc.FromConnect(pgrtSinkTopic, nil, pgOrderVal, v); err == nil {
				err = prod.ProduceSync(ctx, &kgo.Record{Topic: pgrtSinkTopic, Key: kb, Value: vb}).FirstErr()
			}
		}
		if err != nil {
			t.Errorf("produce record %d: %v", i, err)
			return
		}
		pgrtIdle(ctx, pace)
	}
}

// pgrtWaitRows waits until the table has at least n rows and returns
// the count.
func pgrtWaitRows(t *testing.T, db *pgx.Conn, n int) int {
	t.Helper()
	var rows int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := db.QueryRow(context.Background(), `SELECT count(*) FROM `+pgrtSinkTopic).Scan(&rows)
		if err == nil && rows >= n {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d rows after 60s (%v), want %d", pgrtSinkTopic, rows, err, n)
		}
	}
}

// pgrtCommitted is the sum of a group's committed offsets.
func pgrtCommitted(t *testing.T, adm *kadm.Client, group string) int {
	t.Helper()
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At > 0 {
			sum += int(o.At)
		}
	})
	return sum
}

// pgrtWaitCommitted waits until a group committed n offsets in all.
func pgrtWaitCommitted(t *testing.T, adm *kadm.Client, group string, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := pgrtCommitted(t, adm, group)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %d offsets after 60s, want %d", group, got, n)
		}
	}
}
