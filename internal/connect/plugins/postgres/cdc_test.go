package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samsa-streaming/samsa/connect"
)

// pgStructString renders a struct as {a=1 b=x}, nil as null.
func pgStructString(v any) string {
	st, ok := v.(*connect.Struct)
	if !ok || st == nil {
		return "null"
	}
	var parts []string
	for i, f := range st.Schema.Fields {
		val := st.Values[i]
		switch x := val.(type) {
		case []byte:
			val = fmt.Sprintf("%x", x)
		case connect.Decimal:
			val = x.String()
		case *connect.Struct:
			val = pgStructString(x)
		case nil:
			val = "null"
		}
		parts = append(parts, fmt.Sprintf("%s=%v", f.Name, val))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// pgEvent is a change event reduced to what Debezium comparisons check.
func pgEvent(r *connect.Record) string {
	if r.Value == nil {
		return fmt.Sprintf("%s key=%s tombstone", r.Topic, pgStructString(r.Key))
	}
	env := r.Value.(*connect.Struct)
	return fmt.Sprintf("%s key=%s op=%s before=%s after=%s", r.Topic, pgStructString(r.Key), env.Get("op"), pgStructString(env.Get("before")), pgStructString(env.Get("after")))
}

func pgCdcProps(pg *pgCluster, snapshot string) map[string]string {
	return map[string]string{
		"connector.class": DebeziumClass, "database.hostname": "127.0.0.1", "database.port": itoa(pg.Port),
		"database.user": "samsa", "database.dbname": "postgres", "topic.prefix": "dbserver1", "plugin.name": "pgoutput",
		"slot.name": "samsa_slot", "publication.name": "samsa_pub", "publication.autocreate.mode": "filtered",
		"table.include.list": "inventory\\..*", "snapshot.mode": snapshot, "poll.interval.ms": "200",
	}
}

func pgStartCdc(t *testing.T, props map[string]string, off *pgOffsets) *CdcTask {
	t.Helper()
	c := &CdcConnector{}
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(3)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("task configs %v %v", cfgs, err)
	}
	task := c.NewTask().(*CdcTask)
	if err := task.Start(pgSourceCtx{off}, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() }) // a second Stop does nothing
	return task
}

func pgCount(n int) func([]*connect.Record) bool {
	return func(rs []*connect.Record) bool { return len(rs) >= n }
}

func pgCheckEvents(t *testing.T, got []*connect.Record, want []string) {
	t.Helper()
	var g []string
	for _, r := range got {
		g = append(g, pgEvent(r))
	}
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

const pgCdcSchema = `
CREATE SCHEMA inventory;
CREATE TABLE inventory.customers (id int PRIMARY KEY, name text NOT NULL, email varchar(100), balance numeric(10,2),
  born date, created timestamp, updated timestamptz, uid uuid, doc jsonb, raw bytea, flag bool, big bigint, small smallint, ratio float8, amount numeric);
CREATE TABLE inventory.audit (id int PRIMARY KEY, v text);
ALTER TABLE inventory.audit REPLICA IDENTITY FULL;
CREATE TABLE public.ignored (id int PRIMARY KEY);
INSERT INTO inventory.customers (id, name) VALUES (0, 'snap');
`

func TestCdcDebeziumEvents(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, pgCdcSchema)
	off := pgNewOffsets()
	task := pgStartCdc(t, pgCdcProps(pg, "initial"), off)
	defer task.Stop()

	snap := pgPollUntil(t, task, off, true, pgCount(1))
	pgCheckEvents(t, snap, []string{"dbserver1.inventory.customers key={id=0} op=r before=null after={id=0 name=snap email=null balance=null born=null created=null updated=null uid=null doc=null raw=null flag=null big=null small=null ratio=null amount=null}"})
	src := snap[0].Value.(*connect.Struct).Get("source").(*connect.Struct)
	if src.Get("snapshot") != "last" || src.Get("connector") != "postgresql" || src.Get("db") != "postgres" || src.Get("table") != "customers" {
		t.Fatalf("snapshot source = %s", pgStructString(src))
	}

	pgExec(t, db, `BEGIN;
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
TRUNCATE inventory.audit;
UPDATE inventory.customers SET id = 10 WHERE id = 1;`)
	got := pgPollUntil(t, task, off, true, pgCount(12))
	anne := "{id=1 name=Anne email=anne@example.com balance=12.50 born=18321 created=1767323045123456 updated=2026-01-02T01:04:05.500000Z uid=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 doc={\"a\": 1} raw=deadbeef flag=true big=9007199254740993 small=-3 ratio=0.25 amount={scale=3 value=03ed}}"
	anna := strings.Replace(strings.Replace(anne, "Anne", "Anna", 1), "balance=12.50", "balance=-0.01", 1)
	anna10 := strings.Replace(anna, "{id=1 ", "{id=10 ", 1)
	bob := "{id=2 name=Bob email=null balance=null born=null created=null updated=null uid=null doc=null raw=null flag=null big=null small=null ratio=null amount=null}"
	bobKeyOnly := "{id=2 name= email=null balance=null born=null created=null updated=null uid=null doc=null raw=null flag=null big=null small=null ratio=null amount=null}"
	oldKeyOnly := "{id=1 name= email=null balance=null born=null created=null updated=null uid=null doc=null raw=null flag=null big=null small=null ratio=null amount=null}"
	c, a := "dbserver1.inventory.customers", "dbserver1.inventory.audit"
	pgCheckEvents(t, got, []string{
		c + " key={id=1} op=c before=null after=" + anne,
		c + " key={id=2} op=c before=null after=" + bob,
		c + " key={id=1} op=u before=null after=" + anna,
		c + " key={id=2} op=d before=" + bobKeyOnly + " after=null",
		c + " key={id=2} tombstone",
		a + " key={id=1} op=c before=null after={id=1 v=a}",
		a + " key={id=1} op=u before={id=1 v=a} after={id=1 v=b}",
		a + " key={id=1} op=d before={id=1 v=b} after=null",
		a + " key={id=1} tombstone",
		c + " key={id=1} op=d before=" + oldKeyOnly + " after=null",
		c + " key={id=1} tombstone",
		c + " key={id=10} op=c before=null after=" + anna10,
	})

	pgCheckCdcRecord(t, got)
}

// pgCheckCdcRecord checks schema names, column types, the source block and
// offsets as Debezium has them, and that records come in commit order.
func pgCheckCdcRecord(t *testing.T, got []*connect.Record) {
	t.Helper()
	r := got[0]
	if r.KeySchema.Name != "dbserver1.inventory.customers.Key" || r.ValueSchema.Name != "dbserver1.inventory.customers.Envelope" {
		t.Fatalf("schema names %q %q", r.KeySchema.Name, r.ValueSchema.Name)
	}
	env := r.Value.(*connect.Struct)
	if err := env.Validate(); err != nil {
		t.Fatalf("envelope does not fit its schema: %v", err)
	}
	after := env.Schema.Field("after").Schema
	for name, want := range map[string]string{"born": dbzDate, "created": dbzMicroTS, "updated": dbzZonedTS, "uid": dbzUUID, "doc": dbzJSON, "balance": connect.DecimalName, "amount": dbzVarDecimal} {
		if got := after.Field(name).Schema.Name; got != want {
			t.Errorf("column %s schema %q, want %q", name, got, want)
		}
	}
	if after.Field("name").Schema.Optional || !after.Field("email").Schema.Optional || after.Name != "dbserver1.inventory.customers.Value" {
		t.Errorf("value schema optionality/name wrong: %+v", after)
	}
	src := env.Get("source").(*connect.Struct)
	if src.Get("snapshot") != "false" || src.Get("schema") != "inventory" || src.Get("name") != "dbserver1" || src.Get("txId") == nil || src.Get("lsn") == nil {
		t.Fatalf("source = %s", pgStructString(src))
	}
	if got[0].SourcePartition["server"] != "dbserver1" || got[1].SourceOffset["txId"] != got[0].SourceOffset["txId"] {
		t.Fatalf("partition/offset %v %v", got[0].SourcePartition, got[0].SourceOffset)
	}
	// commit order: LSNs of the change events never go back
	var last int64
	for _, r := range got {
		if l := asInt64(r.SourceOffset["lsn_commit"]); l < last {
			t.Fatalf("records out of commit order at %s", pgEvent(r))
		} else {
			last = l
		}
	}
}

func TestCdcRestartFromCommittedOffset(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA inventory; CREATE TABLE inventory.t (id int PRIMARY KEY, v text)`)
	off := pgNewOffsets()
	props := pgCdcProps(pg, "no_data")
	task := pgStartCdc(t, props, off)
	pgExec(t, db, `INSERT INTO inventory.t VALUES (1, 'a')`)
	first := pgPollUntil(t, task, off, true, pgCount(1))
	pgCheckEvents(t, first, []string{"dbserver1.inventory.t key={id=1} op=c before=null after={id=1 v=a}"})
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}

	// while the task is down
	for i := 2; i <= 6; i++ {
		pgExec(t, db, fmt.Sprintf(`INSERT INTO inventory.t VALUES (%d, 'x')`, i))
	}
	pgExec(t, db, `BEGIN; INSERT INTO inventory.t VALUES (7, 'y'); INSERT INTO inventory.t VALUES (8, 'y'); COMMIT`)
	task = pgStartCdc(t, props, off)
	recs := pgPollUntil(t, task, off, false, pgCount(7))
	var ids []string
	for _, r := range recs {
		ids = append(ids, fmt.Sprint(r.Key.(*connect.Struct).Get("id")))
	}
	if strings.Join(ids, ",") != "2,3,4,5,6,7,8" {
		t.Fatalf("after restart got ids %v, want 2..8", ids)
	}
	// offsets reach Kafka in two flushes; the second ends inside the
	// two-row transaction, then the worker dies
	off.commit(recs[:3])
	if err := task.Commit(); err != nil {
		t.Fatal(err)
	}
	pgWaitConfirmed(t, task, off, asInt64(recs[2].SourceOffset["lsn_commit"]), asInt64(recs[2].SourceOffset["lsn_commit"]))
	off.commit(recs[3:6])
	if err := task.Commit(); err != nil {
		t.Fatal(err)
	}
	// the slot confirms the commit LSN of the half-delivered transaction:
	// the server keeps it and drops those before
	pgWaitConfirmed(t, task, off, asInt64(recs[5].SourceOffset["lsn_commit"]), asInt64(recs[5].SourceOffset["lsn_commit"]))
	task.closeConns() // kill -9: no Stop, no further status update

	task = pgStartCdc(t, props, off)
	defer task.Stop()
	pgExec(t, db, `INSERT INTO inventory.t VALUES (9, 'z')`)
	again := pgPollUntil(t, task, off, true, pgCount(2))
	ids = nil
	for _, r := range again {
		ids = append(ids, fmt.Sprint(r.Key.(*connect.Struct).Get("id")))
	}
	// the rest of the half-committed transaction, then the new row: no
	// loss, and nothing before the committed offset again
	if strings.Join(ids, ",") != "8,9" {
		t.Fatalf("after the crash got ids %v, want 8,9", ids)
	}
}

// pgWaitConfirmed polls task (which sends standby status updates) until
// the slot's confirmed_flush_lsn is in [lo, hi]; beyond hi fails.
func pgWaitConfirmed(t *testing.T, task *CdcTask, off *pgOffsets, lo, hi int64) {
	t.Helper()
	db := task.meta
	deadline := time.Now().Add(30 * time.Second)
	for {
		pgPollUntil(t, task, off, false, func([]*connect.Record) bool { return true })
		var confirmed int64
		if err := db.QueryRow(context.Background(), `SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'samsa_slot'`).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		if confirmed >= lo && confirmed <= hi {
			return
		}
		if confirmed > hi || time.Now().After(deadline) {
			t.Fatalf("slot confirmed %d, want %d..%d", confirmed, lo, hi)
		}
	}
}

// A transaction larger than max.batch.size leaves in several polls, and a
// replication connection the server ends midway is replaced without loss
// or repetition.
func TestCdcLargeTransactionAndReconnect(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA inventory; CREATE TABLE inventory.t (id int PRIMARY KEY)`)
	props := pgCdcProps(pg, "never")
	props["max.batch.size"] = "3"
	off := pgNewOffsets()
	task := pgStartCdc(t, props, off)
	defer task.Stop()
	pgExec(t, db, `INSERT INTO inventory.t SELECT generate_series(1, 10)`)
	var got []*connect.Record
	for len(got) < 4 {
		recs := pgPollUntil(t, task, off, false, func(rs []*connect.Record) bool { return len(rs) > 0 })
		if len(recs) > 3 {
			t.Fatalf("a poll returned %d records, max.batch.size is 3", len(recs))
		}
		got = append(got, recs...)
	}
	pgExec(t, db, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'samsa_slot'`)
	pgExec(t, db, `INSERT INTO inventory.t VALUES (11)`)
	got = append(got, pgPollUntil(t, task, off, false, func(rs []*connect.Record) bool { return len(got)+len(rs) >= 11 })...)
	var ids []string
	for _, r := range got {
		ids = append(ids, fmt.Sprint(r.Key.(*connect.Struct).Get("id")))
	}
	if strings.Join(ids, ",") != "1,2,3,4,5,6,7,8,9,10,11" {
		t.Fatalf("ids %v", ids)
	}
}

// A restart before the snapshot's last record was committed repeats the
// snapshot on a new slot, then streams.
func TestCdcSnapshotRestart(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA inventory; CREATE TABLE inventory.t (id int PRIMARY KEY); INSERT INTO inventory.t SELECT generate_series(1, 5)`)
	props := pgCdcProps(pg, "initial")
	props["max.batch.size"] = "2"
	off := pgNewOffsets()
	task := pgStartCdc(t, props, off)
	first := pgPollUntil(t, task, off, true, pgCount(2))
	if got := pgRowIDsOf(first); got != "1,2" {
		t.Fatalf("first snapshot poll %s", got)
	}
	task.closeConns() // dies mid-snapshot
	pgExec(t, db, `INSERT INTO inventory.t VALUES (6)`)
	task = pgStartCdc(t, props, off)
	defer task.Stop()
	all := pgPollUntil(t, task, off, true, pgCount(6))
	if got := pgRowIDsOf(all); got != "1,2,3,4,5,6" {
		t.Fatalf("after restart %s, want the whole snapshot again (6 included)", got)
	}
	last := all[5].Value.(*connect.Struct)
	if last.Get("op") != "r" || last.Get("source").(*connect.Struct).Get("snapshot") != "last" {
		t.Fatalf("last snapshot record %s", pgEvent(all[5]))
	}
	pgExec(t, db, `INSERT INTO inventory.t VALUES (7)`)
	more := pgPollUntil(t, task, off, true, pgCount(1))
	if got := pgRowIDsOf(more); got != "7" || more[0].Value.(*connect.Struct).Get("op") != "c" {
		t.Fatalf("streamed after the snapshot: %s", pgEvent(more[0]))
	}
	// a restart after the snapshot streams on without repeating it
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	pgExec(t, db, `INSERT INTO inventory.t VALUES (8)`)
	task = pgStartCdc(t, props, off)
	again := pgPollUntil(t, task, off, true, pgCount(1))
	if got := pgRowIDsOf(again); got != "8" {
		t.Fatalf("after a restart past the snapshot: %s", got)
	}
}

func pgRowIDsOf(recs []*connect.Record) string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, fmt.Sprint(r.Key.(*connect.Struct).Get("id")))
	}
	return strings.Join(ids, ",")
}

// While captured tables are idle and others are busy, the slot still
// moves on once everything delivered is committed.
func TestCdcIdleSlotAdvances(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA inventory; CREATE TABLE inventory.t (id int PRIMARY KEY); CREATE TABLE public.busy (id int)`)
	off := pgNewOffsets()
	task := pgStartCdc(t, pgCdcProps(pg, "never"), off)
	pgExec(t, db, `INSERT INTO inventory.t VALUES (1)`)
	recs := pgPollUntil(t, task, off, true, pgCount(1))
	captured := asInt64(recs[0].SourceOffset["lsn_commit"])
	pgExec(t, db, `INSERT INTO public.busy SELECT generate_series(1, 10000)`)
	var walNow int64
	if err := db.QueryRow(context.Background(), `SELECT (pg_current_wal_lsn() - '0/0')::bigint`).Scan(&walNow); err != nil {
		t.Fatal(err)
	}
	if walNow <= captured {
		t.Fatalf("WAL did not move: %d <= %d", walNow, captured)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		pgPollUntil(t, task, off, false, func([]*connect.Record) bool { return true })
		if err := task.Commit(); err != nil {
			t.Fatal(err)
		}
		var confirmed int64
		if err := db.QueryRow(context.Background(), `SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'samsa_slot'`).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		if confirmed >= walNow {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot confirmed %d, captured commit %d, WAL now %d", confirmed, captured, walNow)
		}
	}
	// and a restart still neither loses nor repeats
	task.closeConns()
	pgExec(t, db, `INSERT INTO inventory.t VALUES (2)`)
	task = pgStartCdc(t, pgCdcProps(pg, "never"), off)
	if got := pgRowIDsOf(pgPollUntil(t, task, off, true, pgCount(1))); got != "2" {
		t.Fatalf("after restart %s, want 2", got)
	}
}

// Stop from another goroutine ends a Poll waiting for changes.
func TestCdcStopEndsPoll(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	pgExec(t, db, `CREATE SCHEMA inventory; CREATE TABLE inventory.t (id int PRIMARY KEY)`)
	props := pgCdcProps(pg, "never")
	props["poll.interval.ms"] = "600000"
	task := pgStartCdc(t, props, pgNewOffsets())
	done := make(chan error, 1)
	go func() {
		_, err := task.Poll(context.Background())
		done <- err
	}()
	// wait until the poll is streaming (the slot is in use), then stop
	pgWaitSlotInUse(t, db)
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("poll ended with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Stop did not end the waiting Poll")
	}
}

func pgWaitSlotInUse(t *testing.T, db *pgx.Conn) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var active bool
		if err := db.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = 'samsa_slot'`).Scan(&active); err == nil && active {
			return
		}
	}
	t.Fatal("the slot never became active")
}
