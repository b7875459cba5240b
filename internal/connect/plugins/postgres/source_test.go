package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

func pgStartSource(t *testing.T, props map[string]string, off *pgOffsets) []connect.SourceTask {
	t.Helper()
	c := &SourceConnector{}
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(1)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []connect.SourceTask
	for _, cfg := range cfgs {
		task := c.NewTask()
		if err := task.Start(pgSourceCtx{off}, cfg); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

func pgRowIDs(recs []*connect.Record, col string) string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, fmt.Sprint(r.Value.(*connect.Struct).Get(col)))
	}
	return strings.Join(ids, ",")
}

func TestSourceIncrementingAcrossRestart(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(8,2), added date, seen timestamp)`)
	for i := 1; i <= 5; i++ {
		pgExec(t, db, `INSERT INTO items (name, price, added, seen) VALUES ($1, 1.25, '2026-03-04', '2026-03-04 05:06:07')`, fmt.Sprint("item", i))
	}
	props := map[string]string{"connection.url": pg.URL, "mode": "incrementing", "incrementing.column.name": "id",
		"table.whitelist": "items", "topic.prefix": "pg-", "poll.interval.ms": "100", "batch.max.rows": "2"}
	off := pgNewOffsets()
	task := pgStartSource(t, props, off)[0]
	recs := pgPollUntil(t, task, off, true, pgCount(5))
	if got := pgRowIDs(recs, "id"); got != "1,2,3,4,5" {
		t.Fatalf("ids %s", got)
	}
	r := recs[0]
	v := r.Value.(*connect.Struct)
	if r.Topic != "pg-items" || r.SourcePartition["table"] != "items" || asInt64(recs[4].SourceOffset["incrementing"]) != 5 {
		t.Fatalf("record %s %v %v", r.Topic, r.SourcePartition, recs[4].SourceOffset)
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := v.Get("price").(connect.Decimal); d.String() != "1.25" || v.Schema.Field("name").Schema.Optional || !v.Schema.Field("price").Schema.Optional {
		t.Fatalf("price %v schema %+v", d, v.Schema)
	}
	if added := v.Get("added").(time.Time); !added.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) || v.Schema.Field("added").Schema.Name != connect.DateName {
		t.Fatalf("added %v", added)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}

	// restart: only rows after the committed offset
	pgExec(t, db, `INSERT INTO items (name) VALUES ('item6'), ('item7')`)
	task = pgStartSource(t, props, off)[0]
	defer task.Stop()
	more := pgPollUntil(t, task, off, true, pgCount(2))
	if got := pgRowIDs(more, "id"); got != "6,7" {
		t.Fatalf("after restart ids %s, want 6,7", got)
	}
}

func TestSourceTimestampIncrementingAndQuery(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE TABLE ev (id int PRIMARY KEY, at timestamptz NOT NULL, v text)`)
	pgExec(t, db, `INSERT INTO ev VALUES (1, '2026-01-01 00:00:00+00', 'a'), (2, '2026-01-01 00:00:00+00', 'b'), (3, '2026-01-01 00:00:01+00', 'c')`)
	off := pgNewOffsets()
	props := map[string]string{"connection.url": pg.URL, "mode": "timestamp+incrementing", "incrementing.column.name": "id",
		"timestamp.column.name": "at", "table.include.list": "public.ev", "topic.prefix": "t.", "poll.interval.ms": "100", "batch.max.rows": "1"}
	task := pgStartSource(t, props, off)[0]
	recs := pgPollUntil(t, task, off, true, pgCount(3))
	if got := pgRowIDs(recs, "id"); got != "1,2,3" {
		t.Fatalf("ids %s", got)
	}
	if recs[0].Topic != "t.ev" || recs[2].SourceOffset["timestamp"] != time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC).UnixMilli() {
		t.Fatalf("topic %s offset %v", recs[0].Topic, recs[2].SourceOffset)
	}
	task.Stop()
	// a row with the same timestamp but a larger id, and an older one that is never read
	pgExec(t, db, `INSERT INTO ev VALUES (4, '2026-01-01 00:00:01+00', 'd'), (0, '2025-01-01 00:00:00+00', 'old')`)
	task = pgStartSource(t, props, off)[0]
	more := pgPollUntil(t, task, off, true, pgCount(1))
	if got := pgRowIDs(more, "id"); got != "4" {
		t.Fatalf("after restart ids %s, want 4", got)
	}
	task.Stop()

	// query mode, incrementing
	qprops := map[string]string{"connection.url": pg.URL, "connection.user": "samsa", "mode": "incrementing", "incrementing.column.name": "id",
		"query": "SELECT id, upper(v) AS v FROM ev", "topic.prefix": "evq", "poll.interval.ms": "100"}
	qtask := pgStartSource(t, qprops, off)[0]
	defer qtask.Stop()
	q := pgPollUntil(t, qtask, off, true, pgCount(5))
	if got := pgRowIDs(q, "v"); got != "OLD,A,B,C,D" || q[0].Topic != "evq" || q[0].SourcePartition["query"] == nil {
		t.Fatalf("query rows %s topic %s partition %v", got, q[0].Topic, q[0].SourcePartition)
	}
}

func TestSourceConfigErrors(t *testing.T) {
	for _, props := range []map[string]string{
		{"connection.url": "postgres://x/y", "mode": "incrementing", "topic.prefix": "p", "table.whitelist": "a"},
		{"connection.url": "postgres://x/y", "mode": "timestamp", "topic.prefix": "p", "table.whitelist": "a"},
		{"connection.url": "postgres://x/y", "mode": "bulk", "topic.prefix": "p", "table.whitelist": "a", "query": "SELECT 1"},
		{"connection.url": "postgres://x/y", "mode": "sometimes", "topic.prefix": "p", "table.whitelist": "a"},
		{"connection.url": "postgres://x/y", "mode": "bulk", "table.whitelist": "a"},
	} {
		if err := (&SourceConnector{}).Start(nil, props); err == nil {
			t.Errorf("Start(%v) accepted a bad configuration", props)
		}
	}
}

// bulk mode reads the whole table every interval, batch.max.rows rows per
// poll, without offsets.
func TestSourceBulk(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA shop; CREATE TABLE shop.tags (id int, tag text, uid uuid, doc jsonb)`)
	pgExec(t, db, `INSERT INTO shop.tags VALUES (1, 'x', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1]}'), (2, 'y', NULL, NULL), (3, 'z', NULL, NULL)`)
	off := pgNewOffsets()
	task := pgStartSource(t, map[string]string{"connection.url": pg.URL, "mode": "bulk", "table.whitelist": "shop.tags",
		"topic.prefix": "bulk-", "poll.interval.ms": "100", "batch.max.rows": "2"}, off)[0]
	defer task.Stop()
	var polls int
	recs := pgPollUntil(t, task, off, false, func(rs []*connect.Record) bool { polls++; return len(rs) >= 6 })
	if got := pgRowIDs(recs[:6], "id"); got != "1,2,3,1,2,3" {
		t.Fatalf("bulk rows %s", got)
	}
	if polls < 4 || recs[0].SourceOffset != nil || recs[0].Topic != "bulk-tags" {
		t.Fatalf("polls %d offset %v topic %s", polls, recs[0].SourceOffset, recs[0].Topic)
	}
	v := recs[0].Value.(*connect.Struct)
	if v.Get("uid") != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || v.Get("doc") != `{"k":[1]}` {
		t.Fatalf("uuid/json columns: %v %v", v.Get("uid"), v.Get("doc"))
	}
}
