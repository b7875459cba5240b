package postgres

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samsa-streaming/samsa/connect"
)

func pgSinkRecord(keySchema, valSchema *connect.Schema, id int32, name string, cents int64, offset int64) *connect.Record {
	k := connect.NewStruct(keySchema)
	k.Values[0] = id
	r := &connect.Record{Topic: "orders", Partition: 0, Offset: offset, KeySchema: keySchema, Key: k}
	if valSchema != nil {
		v := connect.NewStruct(valSchema)
		_ = v.Put("id", id)
		_ = v.Put("name", name)
		_ = v.Put("amount", connect.Decimal{Unscaled: big.NewInt(cents), Scale: 2})
		_ = v.Put("at", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		r.ValueSchema, r.Value = valSchema, v
	}
	return r
}

func TestSinkUpsertDeleteAutoCreate(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	keySchema := &connect.Schema{Type: connect.StructT, Name: "orders.Key", Fields: []connect.Field{{Name: "id", Index: 0, Schema: connect.SchemaInt32}}}
	valSchema := &connect.Schema{Type: connect.StructT, Name: "orders.Value", Fields: []connect.Field{
		{Name: "id", Index: 0, Schema: connect.SchemaInt32},
		{Name: "name", Index: 1, Schema: connect.OptionalString},
		{Name: "amount", Index: 2, Schema: &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Parameters: map[string]string{"scale": "2"}}},
		{Name: "at", Index: 3, Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Optional: true}},
	}}
	props := map[string]string{
		"connection.url": "jdbc:postgresql://127.0.0.1:" + itoa(pg.Port) + "/postgres", "connection.user": "samsa",
		"insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "auto.evolve": "true",
		"delete.enabled": "true", "table.name.format": "sink_${topic}", "batch.size": "2",
	}
	conn := &SinkConnector{}
	if err := conn.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := conn.TaskConfigs(2)
	if err != nil || len(cfgs) != 2 {
		t.Fatalf("task configs: %v %v", cfgs, err)
	}
	task := conn.NewTask()
	if err := task.Start(pgSinkCtx{}, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	ctx := context.Background()
	batch := []*connect.Record{
		pgSinkRecord(keySchema, valSchema, 1, "one", 100, 0),
		pgSinkRecord(keySchema, valSchema, 2, "two", 250, 1),
		pgSinkRecord(keySchema, valSchema, 3, "three", 399, 2),
		pgSinkRecord(keySchema, valSchema, 1, "uno", 101, 3),
		pgSinkRecord(keySchema, nil, 2, "", 0, 4), // tombstone
	}
	// delivered twice, as after a worker died before committing offsets
	for round := 0; round < 2; round++ {
		if err := task.Put(ctx, batch); err != nil {
			t.Fatalf("put round %d: %v", round, err)
		}
	}
	pgCheckOrders(t, db)
	var pk string
	if err := db.QueryRow(ctx, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'sink_orders'::regclass AND i.indisprimary`).Scan(&pk); err != nil || pk != "id" {
		t.Fatalf("primary key = %q, %v", pk, err)
	}
	pgCheckEvolve(t, db, task, keySchema, valSchema)
}

// pgCheckOrders checks sink_orders after the upserts and the delete.
func pgCheckOrders(t *testing.T, db *pgx.Conn) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id, name, amount::text, at FROM sink_orders ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     int32
		name   string
		amount string
		at     time.Time
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name, &r.amount, &r.at); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	want := []row{{1, "uno", "1.01", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, {3, "three", "3.99", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	if len(got) != len(want) {
		t.Fatalf("rows = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].name != want[i].name || got[i].amount != want[i].amount || !got[i].at.Equal(want[i].at) {
			t.Fatalf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// pgCheckEvolve checks auto.evolve: a new optional field becomes a column.
func pgCheckEvolve(t *testing.T, db *pgx.Conn, task connect.SinkTask, keySchema, valSchema *connect.Schema) {
	t.Helper()
	ctx := context.Background()
	evolved := &connect.Schema{Type: connect.StructT, Name: "orders.Value", Fields: append(append([]connect.Field{}, valSchema.Fields...),
		connect.Field{Name: "note", Index: 4, Schema: connect.OptionalString})}
	r := pgSinkRecord(keySchema, evolved, 4, "four", 400, 5)
	_ = r.Value.(*connect.Struct).Put("note", "new column")
	if err := task.Put(ctx, []*connect.Record{r}); err != nil {
		t.Fatal(err)
	}
	var note string
	if err := db.QueryRow(ctx, `SELECT note FROM sink_orders WHERE id = 4`).Scan(&note); err != nil || note != "new column" {
		t.Fatalf("evolved column: %q %v", note, err)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	for _, props := range []map[string]string{
		{"connection.url": "postgres://x/y", "insert.mode": "upsert"},
		{"connection.url": "postgres://x/y", "delete.enabled": "true", "pk.mode": "record_value"},
		{"connection.url": "mysql:nothing"},
		{"connection.url": "postgres://x/y", "insert.mode": "merge"},
		{},
	} {
		if err := (&SinkConnector{}).Start(nil, props); err == nil {
			t.Errorf("Start(%v) accepted a bad configuration", props)
		}
	}
}

// pk.mode=kafka with upsert keys rows by topic, partition and offset, so a
// redelivered batch of keyless records still lands once.
func TestSinkKafkaKeyAndRecordValue(t *testing.T) {
	pg := pgStartCluster(t)
	db := pg.pgConn(t)
	val := &connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "sku", Index: 0, Schema: connect.SchemaString}, {Name: "qty", Index: 1, Schema: connect.OptionalInt64},
		{Name: "ok", Index: 2, Schema: connect.OptionalBoolean}, {Name: "w", Index: 3, Schema: connect.OptionalFloat64},
		{Name: "blob", Index: 4, Schema: connect.OptionalBytes}, {Name: "tiny", Index: 5, Schema: connect.OptionalInt8}}}
	rec := func(sku string, qty int64, offset int64) *connect.Record {
		v := connect.NewStruct(val)
		v.Values = []any{sku, qty, true, 1.5, []byte{1, 2}, int8(-1)}
		return &connect.Record{Topic: "stock", Partition: 3, Offset: offset, ValueSchema: val, Value: v}
	}
	ctx := context.Background()
	for _, mode := range []struct{ pk, table string }{{"kafka", "by_offset"}, {"record_value", "by_sku"}} {
		task := &SinkTask{}
		props := map[string]string{"connection.url": pg.URL, "insert.mode": "upsert", "pk.mode": mode.pk,
			"auto.create": "true", "table.name.format": mode.table}
		if mode.pk == "record_value" {
			props["pk.fields"] = "sku"
		}
		if err := task.Start(pgSinkCtx{}, props); err != nil {
			t.Fatal(err)
		}
		batch := []*connect.Record{rec("a", 1, 10), rec("b", 2, 11), rec("a", 3, 12)}
		for i := 0; i < 2; i++ {
			if err := task.Put(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		task.Stop()
		var n, sum int64
		if err := db.QueryRow(ctx, "SELECT count(*), sum(qty) FROM "+mode.table).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		want := map[string][2]int64{"kafka": {3, 6}, "record_value": {2, 5}}[mode.pk]
		if n != want[0] || sum != want[1] {
			t.Fatalf("pk.mode=%s: %d rows, sum %d; want %v", mode.pk, n, sum, want)
		}
	}
	var topic string
	var part, off int64
	if err := db.QueryRow(ctx, `SELECT __connect_topic, __connect_partition, __connect_offset FROM by_offset WHERE sku = 'b'`).Scan(&topic, &part, &off); err != nil || topic != "stock" || part != 3 || off != 11 {
		t.Fatalf("kafka coordinates %s %d %d %v", topic, part, off, err)
	}
}
