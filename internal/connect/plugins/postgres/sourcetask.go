package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/samsa-streaming/samsa/connect"
)

// SourceTask reads its tables (or the query) incrementally.
type SourceTask struct {
	cfg     sourceConfig
	log     *slog.Logger
	offsets connect.OffsetReader

	stop   context.CancelFunc
	stopCx context.Context
	mu     sync.Mutex
	conn   *pgx.Conn
	tables []*queryTable
	next   int
	cur    *cursor
}

// queryTable is one table's (or the query's) read state.
type queryTable struct {
	name      string // table name, or "" for the query
	partition map[string]any
	topic     string
	inc       int64
	ts        time.Time
	due       time.Time
	notNull   map[string]bool
	loaded    bool
}

// Version implements connect.Versioned.
func (*SourceTask) Version() string { return version }

// Start reads the committed offsets of the task's tables.
func (t *SourceTask) Start(tctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parseSourceConfig(props)
	if err != nil {
		return err
	}
	t.cfg, t.log, t.offsets = cfg, tctx.Logger(), tctx.Offsets()
	t.stopCx, t.stop = context.WithCancel(context.Background())
	names := cfg.Tables
	if cfg.Query != "" {
		names = []string{""}
	}
	for _, n := range names {
		qt := &queryTable{name: n, inc: -1, ts: time.Unix(0, 0).UTC()}
		if n == "" {
			qt.partition, qt.topic = map[string]any{"query": cfg.Query}, cfg.Prefix
		} else {
			_, tbl := splitTable(n)
			qt.partition, qt.topic = map[string]any{"table": n}, cfg.Prefix+tbl
		}
		t.tables = append(t.tables, qt)
	}
	return nil
}

// Poll reads the next due table, or waits for one to become due.
func (t *SourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.stopCx, cancel)()
	if len(t.tables) == 0 {
		<-ctx.Done()
		return nil, nil
	}
	qt := t.tables[t.next]
	if t.cur == nil { // a table with an open cursor is read on first
		t.next = (t.next + 1) % len(t.tables)
	} else {
		qt = t.cur.table
	}
	if wait := time.Until(qt.due); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return nil, nil
		case <-timer.C:
		}
	}
	if t.conn == nil || t.conn.IsClosed() {
		c, err := dial(ctx, t.cfg.ConnString)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", connect.ErrRetriable, err)
		}
		t.conn = c
	}
	recs, err := t.read(ctx, qt)
	if err != nil {
		t.closeCursor()
		if t.stopCx.Err() != nil {
			return nil, nil
		}
		_ = t.conn.Close(context.Background())
		t.conn = nil
		return nil, err
	}
	if t.cur == nil {
		qt.due = time.Now().Add(t.cfg.Interval)
	}
	return recs, nil
}

// load reads the committed offset and the columns' nullability once.
func (t *SourceTask) load(ctx context.Context, qt *queryTable) error {
	off, err := t.offsets.Offset(ctx, qt.partition)
	if err != nil {
		return fmt.Errorf("postgres source: read offset: %w", err)
	}
	if off != nil {
		if v, ok := off["incrementing"]; ok {
			qt.inc = asInt64(v)
		}
		if v, ok := off["timestamp"]; ok {
			qt.ts = time.UnixMilli(asInt64(v)).UTC()
			if ns, ok := off["timestamp_nanos"]; ok {
				qt.ts = time.Unix(qt.ts.Unix(), asInt64(ns)).UTC()
			}
		}
	}
	qt.notNull = map[string]bool{}
	if qt.name != "" {
		schema, tbl := splitTable(qt.name)
		rows, err := t.conn.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND is_nullable = 'NO'`, schema, tbl)
		if err != nil {
			return fmt.Errorf("postgres source: columns of %s: %w", qt.name, err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err == nil {
				qt.notNull[c] = true
			}
		}
		rows.Close()
	}
	qt.loaded = true
	return nil
}

// statement builds the mode's query.
func (t *SourceTask) statement(qt *queryTable) (string, []any) {
	from := quoteIdent(qt.name)
	if qt.name == "" {
		from = "(" + t.cfg.Query + ") AS samsa_query"
	}
	inc, ts := quoteIdent(t.cfg.IncCol), quoteIdent(t.cfg.TSCol)
	upper := fmt.Sprintf("CURRENT_TIMESTAMP - interval '%d milliseconds'", t.cfg.Delay.Milliseconds())
	switch t.cfg.Mode {
	case modeInc:
		return fmt.Sprintf("SELECT * FROM %s WHERE %s > $1 ORDER BY %s ASC", from, inc, inc), []any{qt.inc}
	case modeTS:
		return fmt.Sprintf("SELECT * FROM %s WHERE %s > $1 AND %s < %s ORDER BY %s ASC", from, ts, ts, upper, ts), []any{qt.ts}
	case modeTSInc:
		return fmt.Sprintf("SELECT * FROM %s WHERE %s < %s AND ((%s = $1 AND %s > $2) OR %s > $1) ORDER BY %s ASC, %s ASC",
			from, ts, upper, ts, inc, ts, ts, inc), []any{qt.ts, qt.inc}
	}
	return "SELECT * FROM " + from, nil
}

// cursor is a query being read, batch.max.rows rows per poll: memory
// stays bounded however many rows match.
type cursor struct {
	table  *queryTable
	rows   pgx.Rows
	schema *connect.Schema
}

func (t *SourceTask) closeCursor() {
	if t.cur != nil {
		t.cur.rows.Close()
		t.cur = nil
	}
}

// read returns the next rows of qt's query as records, opening the
// query when none is open; t.cur is nil again once it is exhausted.
func (t *SourceTask) read(ctx context.Context, qt *queryTable) ([]*connect.Record, error) {
	if !qt.loaded {
		if err := t.load(ctx, qt); err != nil {
			return nil, err
		}
	}
	if t.cur == nil {
		sql, args := t.statement(qt)
		// the cursor outlives this poll: bound it by the task, not ctx
		rows, err := t.conn.Query(t.stopCx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("postgres source: %s: %w", sql, err)
		}
		t.cur = &cursor{table: qt, rows: rows, schema: t.rowSchema(qt, rows.FieldDescriptions())}
	}
	fds := t.cur.rows.FieldDescriptions()
	var out []*connect.Record
	for len(out) < t.cfg.MaxRows {
		if !t.cur.rows.Next() {
			err := t.cur.rows.Err()
			t.closeCursor()
			if err != nil {
				return nil, fmt.Errorf("postgres source: read %s: %w", qt.topic, err)
			}
			break
		}
		vals, err := t.cur.rows.Values()
		if err != nil {
			return nil, fmt.Errorf("postgres source: read %s: %w", qt.topic, err)
		}
		schema := t.cur.schema
		st := connect.NewStruct(schema)
		for i, v := range vals {
			if st.Values[i], err = fromPG(schema.Fields[i].Schema, v); err != nil {
				return nil, fmt.Errorf("postgres source: column %s: %w", fds[i].Name, err)
			}
		}
		t.advance(qt, st)
		r := &connect.Record{Topic: qt.topic, Partition: -1, ValueSchema: schema, Value: st, SourcePartition: qt.partition}
		if t.cfg.Mode != modeBulk {
			r.SourceOffset = t.offset(qt)
		}
		out = append(out, r)
	}
	return out, nil
}

func (t *SourceTask) advance(qt *queryTable, st *connect.Struct) {
	if t.cfg.IncCol != "" {
		if v := st.Get(t.cfg.IncCol); v != nil {
			qt.inc = asInt64(v)
		}
	}
	if t.cfg.TSCol != "" {
		if v, ok := st.Get(t.cfg.TSCol).(time.Time); ok {
			qt.ts = v
		}
	}
}

func (t *SourceTask) offset(qt *queryTable) map[string]any {
	m := map[string]any{}
	if t.cfg.Mode == modeInc || t.cfg.Mode == modeTSInc {
		m["incrementing"] = qt.inc
	}
	if t.cfg.Mode == modeTS || t.cfg.Mode == modeTSInc {
		m["timestamp"] = qt.ts.UnixMilli()
		m["timestamp_nanos"] = int64(qt.ts.Nanosecond())
	}
	return m
}

// rowSchema is the Struct schema of a result, named after the table.
func (t *SourceTask) rowSchema(qt *queryTable, fds []pgconn.FieldDescription) *connect.Schema {
	name := qt.name
	if name == "" {
		name = t.cfg.Prefix
	} else {
		_, name = splitTable(name)
	}
	s := &connect.Schema{Type: connect.StructT, Name: name}
	for i, fd := range fds {
		fs := querySchema(fd.DataTypeOID, fd.TypeModifier, !qt.notNull[fd.Name])
		s.Fields = append(s.Fields, connect.Field{Name: fd.Name, Index: i, Schema: fs})
	}
	return s
}

// querySchema maps a result column type to Connect's types (the JDBC
// source's mapping).
func querySchema(oid uint32, typmod int32, optional bool) *connect.Schema {
	s := &connect.Schema{Optional: optional}
	switch oid {
	case oidBool:
		s.Type = connect.Boolean
	case oidInt2:
		s.Type = connect.Int16
	case oidInt4:
		s.Type = connect.Int32
	case oidInt8, oidOID:
		s.Type = connect.Int64
	case oidFloat4:
		s.Type = connect.Float32
	case oidFloat8:
		s.Type = connect.Float64
	case oidBytea:
		s.Type = connect.Bytes
	case oidNumeric:
		scale := int32(0)
		if typmod >= 4 {
			scale = (typmod - 4) & 0xffff
		}
		s.Type, s.Name, s.Version = connect.Bytes, connect.DecimalName, &one
		s.Parameters = map[string]string{connect.DecimalScaleParam: fmt.Sprint(scale)}
	case oidDate:
		s.Type, s.Name, s.Version = connect.Int32, connect.DateName, &one
	case oidTimestamp, oidTimestamptz:
		s.Type, s.Name, s.Version = connect.Int64, connect.TimestampName, &one
	default:
		s.Type = connect.String
	}
	return s
}

// fromPG converts a pgx-decoded value to the Connect value of s.
func fromPG(s *connect.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.Name {
	case connect.DecimalName:
		n, ok := v.(pgtype.Numeric)
		if !ok || !n.Valid || n.NaN || n.InfinityModifier != pgtype.Finite {
			return nil, fmt.Errorf("numeric value %v cannot be a Decimal", v)
		}
		scale := int32(0)
		fmt.Sscan(s.Parameters[connect.DecimalScaleParam], &scale)
		unscaled := new(big.Int).Set(n.Int)
		shift := int64(n.Exp) + int64(scale)
		ten := big.NewInt(10)
		if shift >= 0 {
			unscaled.Mul(unscaled, new(big.Int).Exp(ten, big.NewInt(shift), nil))
		} else {
			unscaled.Quo(unscaled, new(big.Int).Exp(ten, big.NewInt(-shift), nil))
		}
		return connect.Decimal{Unscaled: unscaled, Scale: scale}, nil
	case connect.DateName, connect.TimestampName:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC(), nil
		}
		return nil, fmt.Errorf("%T is not a time", v)
	}
	switch s.Type {
	case connect.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case [16]byte:
			return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16]), nil
		case map[string]any, []any:
			b, err := json.Marshal(x)
			return string(b), err
		case pgtype.Time:
			us := x.Microseconds
			return fmt.Sprintf("%02d:%02d:%02d.%06d", us/3600e6, us/60e6%60, us/1e6%60, us%1e6), nil
		case fmt.Stringer:
			return x.String(), nil
		}
		return strings.TrimSpace(fmt.Sprint(v)), nil
	}
	return v, nil
}

// Stop ends a waiting Poll and closes the connection.
func (t *SourceTask) Stop() error {
	if t.stop == nil {
		return nil
	}
	t.stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeCursor()
	if t.conn != nil {
		err := t.conn.Close(context.Background())
		t.conn = nil
		return err
	}
	return nil
}
