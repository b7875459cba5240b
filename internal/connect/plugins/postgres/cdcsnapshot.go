package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/samsa-streaming/samsa/connect"
)

// snapshot is the initial read of the captured tables, in one
// REPEATABLE READ transaction on the slot's exported snapshot.
type snapshot struct {
	tx      pgx.Tx
	tables  [][2]string
	next    int // index of the next table to open
	rel     *relation
	rows    pgx.Rows
	pending *connect.Record // held back to learn whether it is a last one
	started time.Time
	cp      pglogrepl.LSN
	seq     int64
	first   bool // the next record is the first of its table
}

func (t *CdcTask) beginSnapshot(ctx context.Context, name string, cp pglogrepl.LSN) error {
	tx, err := t.meta.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres cdc: snapshot transaction: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+name+"'"); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("postgres cdc: import snapshot: %w", err)
	}
	t.snap = &snapshot{tx: tx, started: time.Now(), cp: cp}
	tables, err := t.includedTables(ctx)
	if err != nil {
		_ = tx.Rollback(ctx)
		t.snap = nil
		return err
	}
	t.snap.tables = tables
	return nil
}

// pollSnapshot returns the next rows as read events; when the last table
// is done it commits the snapshot transaction and clears t.snap.
func (t *CdcTask) pollSnapshot(ctx context.Context) ([]*connect.Record, error) {
	s := t.snap
	var out []*connect.Record
	for len(out) < t.cfg.BatchSize {
		if s.rows == nil {
			if s.next == len(s.tables) {
				return t.finishSnapshot(ctx, out)
			}
			if err := t.openTable(ctx, s.tables[s.next]); err != nil {
				return nil, err
			}
			s.next++
		}
		if !s.rows.Next() {
			if err := s.rows.Err(); err != nil {
				return nil, fmt.Errorf("postgres cdc: snapshot of %s.%s: %w", s.rel.Schema, s.rel.Table, err)
			}
			s.rows.Close()
			s.rows = nil
			if s.pending != nil {
				setSnapshotMark(s.pending, "last_in_data_collection")
			}
			continue
		}
		rec, err := t.snapshotRecord(s.rows.RawValues())
		if err != nil {
			return nil, err
		}
		if s.pending != nil {
			out = append(out, t.snapshotOffset(s.pending, false))
		}
		s.pending = rec
	}
	return out, nil
}

func (t *CdcTask) finishSnapshot(ctx context.Context, out []*connect.Record) ([]*connect.Record, error) {
	s := t.snap
	if s.pending != nil {
		setSnapshotMark(s.pending, "last")
		out = append(out, t.snapshotOffset(s.pending, true))
		s.pending = nil
	}
	if err := s.tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres cdc: end snapshot: %w", err)
	}
	t.snap = nil
	t.resume = resumePoint{Commit: s.cp, Seq: -1}
	t.emitted = t.resume
	return out, nil
}

// openTable starts reading one table, every column as text (the form
// pgoutput sends, so both paths share columnValue).
func (t *CdcTask) openTable(ctx context.Context, tb [2]string) error {
	s := t.snap
	var relid uint32
	if err := s.tx.QueryRow(ctx, `SELECT $1::regclass::oid`, pgx.Identifier{tb[0], tb[1]}.Sanitize()).Scan(&relid); err != nil {
		return fmt.Errorf("postgres cdc: snapshot %s.%s: %w", tb[0], tb[1], err)
	}
	rows, err := s.tx.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull,
		coalesce(a.attnum = ANY((SELECT i.indkey FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary)::int2[]), false)
		FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, relid)
	if err != nil {
		return fmt.Errorf("postgres cdc: snapshot columns of %s.%s: %w", tb[0], tb[1], err)
	}
	rel := &relation{Schema: tb[0], Table: tb[1], Include: true}
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.Name, &c.OID, &c.TypMod, &c.NotNull, &c.Key); err != nil {
			rows.Close()
			return fmt.Errorf("postgres cdc: snapshot columns: %w", err)
		}
		rel.Cols = append(rel.Cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres cdc: snapshot columns: %w", err)
	}
	rel.S = buildSchemas(t.cfg.Prefix, rel.Schema, rel.Table, rel.Cols, t.source)
	sel := make([]string, len(rel.Cols))
	for i, c := range rel.Cols {
		sel[i] = pgx.Identifier{c.Name}.Sanitize() + "::text"
	}
	if s.rows, err = s.tx.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+pgx.Identifier{tb[0], tb[1]}.Sanitize()); err != nil {
		return fmt.Errorf("postgres cdc: snapshot %s.%s: %w", tb[0], tb[1], err)
	}
	s.rel, s.first = rel, true
	return nil
}

func (t *CdcTask) snapshotRecord(raw [][]byte) (*connect.Record, error) {
	s := t.snap
	rel := s.rel
	after := connect.NewStruct(rel.S.Value)
	for i, c := range rel.Cols {
		if raw[i] == nil {
			continue
		}
		v, err := columnValue(c, rel.S.Value.Fields[i].Schema, string(raw[i]))
		if err != nil {
			return nil, fmt.Errorf("postgres cdc: snapshot %s.%s.%s: %w", rel.Schema, rel.Table, c.Name, err)
		}
		after.Values[i] = v
	}
	mark := "true"
	if s.first {
		mark = "first_in_data_collection"
		if s.seq == 0 {
			mark = "first"
		}
		s.first = false
	}
	src := connect.NewStruct(t.source)
	setAll(src, map[string]any{"version": debeziumVersion, "connector": "postgresql", "name": t.cfg.Prefix,
		"ts_ms": s.started.UnixMilli(), "ts_us": s.started.UnixMicro(), "ts_ns": s.started.UnixNano(), "snapshot": mark,
		"db": t.cfg.DB, "sequence": fmt.Sprintf(`[null,"%d"]`, uint64(s.cp)),
		"schema": rel.Schema, "table": rel.Table, "lsn": int64(s.cp)})
	s.seq++
	return t.envelope(rel, "r", nil, after, keyOf(rel, after), src, time.Now()), nil
}

func setSnapshotMark(r *connect.Record, mark string) {
	src := r.Value.(*connect.Struct).Get("source").(*connect.Struct)
	if cur := src.Get("snapshot"); cur == "first" && mark != "last" {
		return
	}
	_ = src.Put("snapshot", mark)
}

// snapshotOffset gives a read event its offset: a restart before the
// last one repeats the snapshot.
func (t *CdcTask) snapshotOffset(r *connect.Record, last bool) *connect.Record {
	s := t.snap
	r.SourcePartition = t.partition()
	r.SourceOffset = map[string]any{"lsn": int64(s.cp), "ts_usec": s.started.UnixMicro(), "lsn_commit": int64(s.cp),
		"tx_seq": int64(-1), "snapshot": true, "last_snapshot_record": last}
	return r
}
