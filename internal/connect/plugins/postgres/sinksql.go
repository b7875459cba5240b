package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// sinkCol is one column a record writes.
type sinkCol struct {
	name   string
	schema *connect.Schema
	pk     bool
}

// sinkStmt is one record's statement.
type sinkStmt struct {
	table string
	cols  []sinkCol
	sql   string
	args  []any
}

// statement builds the INSERT, upsert or DELETE for r.
func (t *SinkTask) statement(r *connect.Record) (sinkStmt, error) {
	st := sinkStmt{table: strings.ReplaceAll(t.cfg.TableFormat, "${topic}", r.Topic)}
	pkCols, pkVals, err := t.keyColumns(r)
	if err != nil {
		return st, err
	}
	if r.Value == nil {
		if !t.cfg.Delete {
			return st, nil // Confluent's sink ignores tombstones unless delete.enabled
		}
		var where []string
		for i, c := range pkCols {
			where = append(where, fmt.Sprintf("%s = $%d", quoteIdent(c.name), i+1))
		}
		st.sql = fmt.Sprintf("DELETE FROM %s WHERE %s", quoteIdent(st.table), strings.Join(where, " AND "))
		st.args, st.cols = pkVals, pkCols
		return st, nil
	}
	val, ok := r.Value.(*connect.Struct)
	if !ok || val.Schema == nil {
		return st, fmt.Errorf("postgres sink: record value of %s offset %d is %T, not a Struct with a schema (use a converter with schemas)", r.Topic, r.Offset, r.Value)
	}
	cols, args := append([]sinkCol(nil), pkCols...), append([]any(nil), pkVals...)
	have := map[string]bool{}
	for _, c := range pkCols {
		have[c.name] = true
	}
	for _, f := range val.Schema.Fields {
		if have[f.Name] {
			continue
		}
		v, err := toPG(f.Schema, val.Values[f.Index])
		if err != nil {
			return st, fmt.Errorf("postgres sink: field %q: %w", f.Name, err)
		}
		cols, args = append(cols, sinkCol{name: f.Name, schema: f.Schema}), append(args, v)
	}
	st.cols, st.args = cols, args
	st.sql = insertSQL(st.table, cols, t.cfg.Upsert)
	return st, nil
}

func insertSQL(table string, cols []sinkCol, upsert bool) string {
	names, params, pk, set := make([]string, len(cols)), make([]string, len(cols)), []string{}, []string{}
	for i, c := range cols {
		names[i], params[i] = quoteIdent(c.name), fmt.Sprintf("$%d", i+1)
		if c.pk {
			pk = append(pk, quoteIdent(c.name))
		} else {
			set = append(set, fmt.Sprintf("%s = EXCLUDED.%s", quoteIdent(c.name), quoteIdent(c.name)))
		}
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quoteIdent(table), strings.Join(names, ", "), strings.Join(params, ", "))
	if upsert && len(pk) > 0 {
		if len(set) == 0 {
			return sql + fmt.Sprintf(" ON CONFLICT (%s) DO NOTHING", strings.Join(pk, ", "))
		}
		sql += fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s", strings.Join(pk, ", "), strings.Join(set, ", "))
	}
	return sql
}

// keyColumns returns the primary key columns and their values per pk.mode.
func (t *SinkTask) keyColumns(r *connect.Record) ([]sinkCol, []any, error) {
	switch t.cfg.PKMode {
	case "kafka":
		topic, part, off := r.Topic, r.Partition, r.Offset
		if r.OriginalTopic != "" {
			topic, part, off = r.OriginalTopic, r.OriginalPartition, r.OriginalOffset
		}
		return []sinkCol{
			{name: "__connect_topic", schema: connect.SchemaString, pk: true},
			{name: "__connect_partition", schema: connect.SchemaInt32, pk: true},
			{name: "__connect_offset", schema: connect.SchemaInt64, pk: true},
		}, []any{topic, part, off}, nil
	case "record_key":
		return structColumns(r.KeySchema, r.Key, t.cfg.PKFields, "key")
	case "record_value":
		if r.Value == nil {
			return nil, nil, nil
		}
		return structColumns(r.ValueSchema, r.Value, t.cfg.PKFields, "value")
	}
	return nil, nil, nil
}

// structColumns picks the key columns from a Struct (the named fields, or
// all) or a primitive (one column, named by fields[0] or __connect_key).
func structColumns(s *connect.Schema, v any, fields []string, what string) ([]sinkCol, []any, error) {
	if v == nil {
		return nil, nil, fmt.Errorf("postgres sink: record %s is null but pk.mode takes the key from it", what)
	}
	st, ok := v.(*connect.Struct)
	if !ok {
		name := "__connect_key"
		if len(fields) > 0 {
			name = fields[0]
		}
		if s == nil {
			return nil, nil, fmt.Errorf("postgres sink: record %s has no schema", what)
		}
		pv, err := toPG(s, v)
		if err != nil {
			return nil, nil, err
		}
		return []sinkCol{{name: name, schema: s, pk: true}}, []any{pv}, nil
	}
	if len(fields) == 0 {
		for _, f := range st.Schema.Fields {
			fields = append(fields, f.Name)
		}
	}
	cols, vals := make([]sinkCol, 0, len(fields)), make([]any, 0, len(fields))
	for _, name := range fields {
		f := st.Schema.Field(name)
		if f == nil {
			return nil, nil, fmt.Errorf("postgres sink: pk field %q is not in the record %s", name, what)
		}
		pv, err := toPG(f.Schema, st.Values[f.Index])
		if err != nil {
			return nil, nil, err
		}
		cols, vals = append(cols, sinkCol{name: name, schema: f.Schema, pk: true}), append(vals, pv)
	}
	return cols, vals, nil
}

// toPG converts a Connect value to what pgx encodes for the column type
// sqlType gives.
func toPG(s *connect.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case connect.Decimal:
		return x.String(), nil
	case time.Time:
		if s != nil && s.Name == connect.TimeName {
			return x.UTC().Format("15:04:05.999999"), nil
		}
		if s != nil && s.Name == connect.DateName {
			return x.UTC().Format("2006-01-02"), nil
		}
		return x.UTC(), nil
	case int8:
		return int16(x), nil
	case *connect.Struct, []any, map[string]any, map[any]any:
		return nil, fmt.Errorf("type %T has no column mapping", v)
	}
	return v, nil
}

// sqlType is the column type auto.create uses for a schema.
func sqlType(s *connect.Schema) (string, error) {
	switch s.Name {
	case connect.DecimalName:
		return "NUMERIC", nil
	case connect.DateName:
		return "DATE", nil
	case connect.TimeName:
		return "TIME", nil
	case connect.TimestampName:
		return "TIMESTAMP", nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16:
		return "SMALLINT", nil
	case connect.Int32:
		return "INT", nil
	case connect.Int64:
		return "BIGINT", nil
	case connect.Float32:
		return "REAL", nil
	case connect.Float64:
		return "DOUBLE PRECISION", nil
	case connect.Boolean:
		return "BOOLEAN", nil
	case connect.String:
		return "TEXT", nil
	case connect.Bytes:
		return "BYTEA", nil
	}
	return "", fmt.Errorf("postgres sink: no column type for schema type %s", s.Type)
}

// ensureTable creates the table (auto.create) or adds missing columns
// (auto.evolve) for st's columns, once per table and column set.
func (t *SinkTask) ensureTable(ctx context.Context, st sinkStmt) error {
	known, ok := t.tables[st.table]
	if !ok {
		var err error
		if known, err = t.columns(ctx, st.table); err != nil {
			return err
		}
		if len(known) == 0 {
			if !t.cfg.AutoCreate {
				return fmt.Errorf("postgres sink: table %s does not exist and auto.create is false", st.table)
			}
			if err := t.createTable(ctx, st); err != nil {
				return err
			}
			known = map[string]bool{}
			for _, c := range st.cols {
				known[c.name] = true
			}
		}
		t.tables[st.table] = known
	}
	for _, c := range st.cols {
		if known[c.name] {
			continue
		}
		if !t.cfg.AutoEvolve {
			return fmt.Errorf("postgres sink: table %s has no column %q and auto.evolve is false", st.table, c.name)
		}
		typ, err := sqlType(c.schema)
		if err != nil {
			return err
		}
		if _, err := t.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", quoteIdent(st.table), quoteIdent(c.name), typ)); err != nil {
			return fmt.Errorf("postgres sink: evolve %s: %w", st.table, err)
		}
		known[c.name] = true
	}
	return nil
}

func (t *SinkTask) columns(ctx context.Context, table string) (map[string]bool, error) {
	schema, name := splitTable(table)
	rows, err := t.conn.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: columns of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("postgres sink: columns of %s: %w", table, err)
		}
		out[c] = true
	}
	return out, rows.Err()
}

func (t *SinkTask) createTable(ctx context.Context, st sinkStmt) error {
	var defs, pk []string
	for _, c := range st.cols {
		typ, err := sqlType(c.schema)
		if err != nil {
			return err
		}
		d := quoteIdent(c.name) + " " + typ
		if !c.schema.Optional || c.pk {
			d += " NOT NULL"
		}
		defs = append(defs, d)
		if c.pk {
			pk = append(pk, quoteIdent(c.name))
		}
	}
	if len(pk) > 0 {
		defs = append(defs, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
	}
	sql := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", quoteIdent(st.table), strings.Join(defs, ", "))
	if _, err := t.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("postgres sink: create %s: %w", st.table, err)
	}
	return nil
}
