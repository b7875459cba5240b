package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/postgres"
)

const pgDbzSchema = `
CREATE SCHEMA inventory;
CREATE TABLE inventory.customers (id int PRIMARY KEY, name text NOT NULL, email varchar(100), balance numeric(10,2),
  born date, created timestamp, updated timestamptz, uid uuid, doc jsonb, raw bytea, flag bool, big bigint, small smallint,
  ratio float8, amount numeric);
CREATE TABLE inventory.audit (id int PRIMARY KEY, v text);
ALTER TABLE inventory.audit REPLICA IDENTITY FULL;
CREATE TABLE public.ignored (id int PRIMARY KEY);
CREATE TABLE inventory.docs (id int PRIMARY KEY, body text, n int);
INSERT INTO inventory.customers VALUES (0, 'Zed', NULL, 1000.00, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59.999999-05',
  NULL, '[1, 2]', '\x00', false, -1, 0, -1.5, -12345678901234567890.123);`

var pgDbzTopics = []string{"dbz.inventory.customers", "dbz.inventory.audit", "dbz.inventory.docs"}

// pgDbzScript inserts, updates (also a primary key) and deletes rows under
// default and FULL replica identity, in and out of explicit transactions,
// and updates a row around a TOASTed value it leaves unchanged.
const pgDbzScript = `BEGIN;
INSERT INTO inventory.customers VALUES (1, 'Anne', 'anne@example.com', 12.50, '2020-02-29', '2026-01-02 03:04:05.123456',
  '2026-01-02 03:04:05.5+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '\xdeadbeef', true, 9007199254740993, -3, 0.25, 1.005);
INSERT INTO inventory.customers (id, name) VALUES (2, 'Bob');
INSERT INTO public.ignored VALUES (1);
COMMIT;
UPDATE inventory.customers SET name = 'Anna', balance = -0.01 WHERE id = 1;
DELETE FROM inventory.customers WHERE id = 2;
BEGIN;
INSERT INTO inventory.audit VALUES (1, 'a');
UPDATE inventory.audit SET v = 'b' WHERE id = 1;
DELETE FROM inventory.audit WHERE id = 1;
COMMIT;
UPDATE inventory.customers SET id = 10 WHERE id = 1;
INSERT INTO inventory.docs SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 400) i;
UPDATE inventory.docs SET n = 1 WHERE id = 1;`

// TestPgDebeziumSameEvents runs Debezium 3.6.1's PostgresConnector in the
// Java worker on Samsa's broker and Samsa's CDC task side by side on one
// database, each with its own slot, runs one SQL script, sends Samsa's
// records to the broker too, and compares what both put in Samsa:
// every event's key, op, before and after, topic by topic in order (the
// initial snapshot's read event first), and the first events' schemas.
func TestPgDebeziumSameEvents(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, pgDbzSchema)
	broker := javaStartBroker(t)
	pgStartDebezium(t, pg, db, broker)
	ours := pgDbzConfig(pg, "dbz", "samsa_slot", "samsa_pub")
	delete(ours, "connector.class")
	ours["poll.interval.ms"] = "200"

	task := pgStartOurCdc(t, ours)
	defer task.Stop()
	pgExec(t, db, pgDbzScript)

	got := pgPollN(t, task, 15) // a snapshot read, then the script's 14 events
	want := pgConsume(t, broker.Client(t, kgo.ConsumeTopics(pgDbzTopics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), len(got))
	pgCompareSchemas(t, got, broker.Client(t, kgo.ConsumeTopics(pgDbzTopics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	for _, r := range got { // the script's TOAST case did reach the unchanged-value path
		if env, ok := r.Value.(*connect.Struct); ok && r.Topic == "dbz.inventory.docs" && env.Get("op") == "u" {
			if body := env.Get("after").(*connect.Struct).Get("body"); body != "__debezium_unavailable_value" {
				t.Errorf("unchanged TOASTed body = %.40v…, want Debezium's placeholder", body)
			}
		}
	}
	inSamsa := pgSendToSamsa(t, broker, got)
	for _, topic := range pgDbzTopics {
		g := inSamsa["samsa."+topic]
		if direct := pgOurEvents(t, got, topic); strings.Join(direct, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: the records read back from Samsa differ from those polled", topic)
		}
		pgDiffEvents(t, topic, g, want[topic])
	}
}

// pgDbzConfig is a Debezium-style config of the PostgreSQL connector
// (class, database.*, topic.prefix, pgoutput, filtered publication of
// the inventory schema, initial snapshot).
func pgDbzConfig(pg *pgCluster, prefix, slot, publication string) map[string]string {
	return map[string]string{
		"connector.class": postgres.DebeziumClass, "tasks.max": "1",
		"database.hostname": "127.0.0.1", "database.port": strconv.Itoa(pg.Port), "database.user": "samsa",
		"database.password": "unused", "database.dbname": "postgres", "topic.prefix": prefix, "plugin.name": "pgoutput",
		"slot.name": slot, "publication.name": publication,
		"publication.autocreate.mode": "filtered", "table.include.list": `inventory\..*`, "snapshot.mode": "initial",
	}
}

// pgStartDebezium runs Debezium 3.6.1's PostgresConnector (topic prefix
// dbz, slot dbz_slot) in a Java worker on broker, and returns the worker
// once the slot streams.
func pgStartDebezium(t *testing.T, pg *pgCluster, db *pgx.Conn, broker *clustertest.Node) *javaWorker {
	t.Helper()
	w := javaStartWorker(t, javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "connect-pg"})
	body, _ := json.Marshal(map[string]any{"name": "dbz", "config": pgDbzConfig(pg, "dbz", "dbz_slot", "dbz_pub")})
	if a := javaCall(t, http.MethodPost, w.URL+"/connectors", string(body)); a.Status != http.StatusCreated {
		t.Fatalf("create Debezium connector: %d %s", a.Status, a.Body)
	}
	javaWaitFor(t, w.URL+"/connectors/dbz/status", 90*time.Second, javaAllRunning(1))
	pgWaitSlotActive(t, db, "dbz_slot")
	return w
}

// pgDiffEvents fails the test unless Samsa's events of a topic (as
// pgConsume renders them) are Debezium's, in the same order.
func pgDiffEvents(t *testing.T, topic string, ours, debezium []string) {
	t.Helper()
	if strings.Join(ours, "\n") != strings.Join(debezium, "\n") {
		t.Errorf("%s: Samsa's events\n%s\nDebezium's\n%s", topic, strings.Join(ours, "\n"), strings.Join(debezium, "\n"))
	}
	t.Logf("%s: %d events compared", topic, len(ours))
	if len(ours) == 0 {
		t.Errorf("%s: no events", topic)
	}
}

// pgSendToSamsa sends Samsa's records to the broker as a worker would
// (JsonConverter, in poll order) under samsa.<topic>, and reads them back.
func pgSendToSamsa(t *testing.T, broker *clustertest.Node, got []*connect.Record) map[string][]string {
	t.Helper()
	var ourTopics []string
	for _, topic := range pgDbzTopics {
		ourTopics = append(ourTopics, "samsa."+topic)
	}
	if _, err := kadm.NewClient(broker.Client(t)).CreateTopics(context.Background(), 1, 1, nil, ourTopics...); err != nil {
		t.Fatal(err)
	}
	prod := broker.Client(t)
	for _, r := range got {
		kr := &kgo.Record{Topic: "samsa." + r.Topic, Key: pgToJSON(t, r, true), Value: pgToJSON(t, r, false)}
		if err := prod.ProduceSync(context.Background(), kr).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return pgConsume(t, broker.Client(t, kgo.ConsumeTopics(ourTopics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), len(got))
}

// pgWaitSlotActive waits until a replication slot is being read.
func pgWaitSlotActive(t *testing.T, db *pgx.Conn, slot string) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var active bool
		err := db.QueryRow(context.Background(), `SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&active)
		if err != nil {
			t.Fatal(err)
		}
		if active {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication slot %s not active after 90s", slot)
		}
	}
}

// pgStartOurCdc starts Samsa's CDC connector and its one task.
func pgStartOurCdc(t *testing.T, props map[string]string) connect.SourceTask {
	t.Helper()
	reg := connect.NewRegistry()
	if err := postgres.Register(reg); err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Lookup(postgres.DebeziumClass)
	if !ok {
		t.Fatal("Debezium's class is not registered")
	}
	c := p.New().(connect.SourceConnector)
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(1)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("task configs %v %v", cfgs, err)
	}
	task := c.NewTask()
	if err := task.Start(pgSourceCtx{&pgOffsets{}}, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	return task
}

// pgPollN polls until n records arrived.
func pgPollN(t *testing.T, task connect.SourceTask, n int) []*connect.Record {
	t.Helper()
	var all []*connect.Record
	for deadline := time.Now().Add(60 * time.Second); len(all) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("Samsa's CDC task gave %d records in 60s, want %d", len(all), n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	return all
}

// pgConsume reads n records and renders each as pgEvent does, by topic.
func pgConsume(t *testing.T, cl *kgo.Client, n int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of Debezium's %d records: %v", got, n, out)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			got++
			key, value := pgPayload(t, r.Key), pgPayload(t, r.Value)
			ev := map[string]any{"key": key}
			if value == nil {
				ev["tombstone"] = true
			} else {
				v := value.(map[string]any)
				ev["op"], ev["before"], ev["after"] = v["op"], v["before"], v["after"]
			}
			out[r.Topic] = append(out[r.Topic], pgCanon(t, ev))
		})
	}
	return out
}

// pgPayload decodes JsonConverter output (with schemas) to its payload.
func pgPayload(t *testing.T, b []byte) any {
	t.Helper()
	if b == nil {
		return nil
	}
	var env struct {
		Payload any `json:"payload"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&env); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return env.Payload
}

// pgOurEvents renders Samsa's records of a topic through Samsa's
// JsonConverter (schemas enabled, as the Java worker's) the way pgConsume
// renders Debezium's.
func pgOurEvents(t *testing.T, recs []*connect.Record, topic string) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		if r.Topic != topic {
			continue
		}
		kb, vb := pgToJSON(t, r, true), pgToJSON(t, r, false)
		ev := map[string]any{"key": pgPayload(t, kb)}
		if vb == nil {
			ev["tombstone"] = true
		} else {
			v := pgPayload(t, vb).(map[string]any)
			ev["op"], ev["before"], ev["after"] = v["op"], v["before"], v["after"]
		}
		out = append(out, pgCanon(t, ev))
	}
	return out
}

// pgToJSON converts a record's key or value with Samsa's JsonConverter.
func pgToJSON(t *testing.T, r *connect.Record, key bool) []byte {
	t.Helper()
	c := convert.NewJSONConverter(convert.JSONConfig{}.Defaults())
	if err := c.Configure(map[string]string{}, key); err != nil {
		t.Fatal(err)
	}
	s, v := r.ValueSchema, r.Value
	if key {
		s, v = r.KeySchema, r.Key
	}
	if v == nil {
		return nil
	}
	b, err := c.FromConnect(r.Topic, nil, s, v)
	if err != nil {
		t.Fatalf("JsonConverter: %v", err)
	}
	return b
}

// pgCanon is v as JSON with sorted keys and numbers as written.
func pgCanon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(out)
}

// pgCompareSchemas checks that the first change event of each topic has
// the key and value schemas Debezium's has, as JsonConverter writes them.
func pgCompareSchemas(t *testing.T, ours []*connect.Record, cl *kgo.Client) {
	t.Helper()
	theirs := map[string][2]any{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(theirs) < len(pgDbzTopics) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if _, ok := theirs[r.Topic]; !ok && r.Value != nil {
				theirs[r.Topic] = [2]any{pgSchemaOf(t, r.Key), pgSchemaOf(t, r.Value)}
			}
		})
	}
	for topic, want := range theirs {
		for _, r := range ours {
			if r.Topic != topic || r.Value == nil {
				continue
			}
			if k, w := pgCanon(t, pgSchemaOf(t, pgToJSON(t, r, true))), pgCanon(t, want[0]); k != w {
				t.Errorf("%s key schema:\n%s\nDebezium's:\n%s", topic, k, w)
			}
			if v, w := pgCanon(t, pgSchemaOf(t, pgToJSON(t, r, false))), pgCanon(t, want[1]); v != w {
				t.Errorf("%s value schema:\n%s\nDebezium's:\n%s", topic, v, w)
			}
			break
		}
	}
	if len(theirs) != len(pgDbzTopics) {
		t.Fatalf("Debezium's records of %d topics, want %d", len(theirs), len(pgDbzTopics))
	}
}

func pgSchemaOf(t *testing.T, b []byte) any {
	t.Helper()
	var env struct {
		Schema any `json:"schema"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&env); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return env.Schema
}
