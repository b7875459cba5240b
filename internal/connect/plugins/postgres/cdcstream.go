package postgres

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/samsa-streaming/samsa/connect"
)

// unavailable is Debezium's placeholder for an unchanged TOASTed value.
const unavailable = "__debezium_unavailable_value"

// txState is the transaction being received. pgoutput (protocol 1)
// sends a transaction only once it committed, all its changes between
// Begin and Commit, so changes become records as they arrive: memory
// stays bounded by max.batch.size however large the transaction.
type txState struct {
	xid       uint32
	commit    time.Time
	commitLSN pglogrepl.LSN // the commit record's LSN (Begin's final LSN)
	seq       int64         // records of this transaction so far
}

// receive reads the stream until a transaction commits, the batch is
// full or ctx ends.
func (t *CdcTask) receive(wait, ctx context.Context) error {
	for len(t.ready) < t.cfg.BatchSize {
		if err := t.sendStatus(ctx, false); err != nil {
			return err
		}
		msg, err := t.repl.ReceiveMessage(wait)
		if err != nil {
			if pgconn.Timeout(err) || wait.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres cdc: receive: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("postgres cdc: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyData:
			if err := t.copyData(ctx, m.Data); err != nil {
				return err
			}
		}
		if len(t.ready) > 0 && t.tx == nil {
			return nil // a whole transaction is ready
		}
	}
	return nil
}

func (t *CdcTask) copyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("postgres cdc: keepalive: %w", err)
		}
		if t.tx == nil && len(t.ready) == 0 {
			t.idleMu.Lock()
			t.idle = idlePoint{After: t.emitted, WALEnd: ka.ServerWALEnd, OK: true}
			t.idleMu.Unlock()
		}
		return t.sendStatus(ctx, ka.ReplyRequested)
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("postgres cdc: xlog data: %w", err)
		}
		return t.walMessage(ctx, xld)
	}
	return nil
}

func (t *CdcTask) walMessage(ctx context.Context, xld pglogrepl.XLogData) error {
	msg, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return fmt.Errorf("postgres cdc: decode pgoutput: %w", err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return t.relationMessage(ctx, m)
	case *pglogrepl.BeginMessage:
		t.tx = &txState{xid: m.Xid, commit: m.CommitTime, commitLSN: m.FinalLSN}
	case *pglogrepl.InsertMessage:
		return t.rowChange(m.RelationID, xld.WALStart, 'N', nil, m.Tuple)
	case *pglogrepl.UpdateMessage:
		return t.rowChange(m.RelationID, xld.WALStart, m.OldTupleType, m.OldTuple, m.NewTuple)
	case *pglogrepl.DeleteMessage:
		return t.rowChange(m.RelationID, xld.WALStart, m.OldTupleType, m.OldTuple, nil)
	case *pglogrepl.CommitMessage:
		t.tx, t.lastTxLSN = nil, m.CommitLSN
	}
	// truncate is skipped, as Debezium's default skipped.operations=t
	return nil
}

// relationMessage records a table's columns, taking nullability and the
// primary key from the catalog (pgoutput marks every column as key under
// REPLICA IDENTITY FULL).
func (t *CdcTask) relationMessage(ctx context.Context, m *pglogrepl.RelationMessage) error {
	rel := &relation{Schema: m.Namespace, Table: m.RelationName, Include: t.cfg.included(m.Namespace, m.RelationName)}
	info, err := t.columnInfo(ctx, m.RelationID)
	if err != nil {
		return err
	}
	for _, c := range m.Columns {
		ci := info[c.Name]
		rel.Cols = append(rel.Cols, pgColumn{Name: c.Name, OID: c.DataType, TypMod: c.TypeModifier, Key: ci.pk, NotNull: ci.notNull})
	}
	rel.S = buildSchemas(t.cfg.Prefix, rel.Schema, rel.Table, rel.Cols, t.source)
	t.rels[m.RelationID] = rel
	return nil
}

type colInfo struct{ pk, notNull bool }

func (t *CdcTask) columnInfo(ctx context.Context, relid uint32) (map[string]colInfo, error) {
	rows, err := t.meta.Query(ctx, `SELECT a.attname, a.attnotnull,
		coalesce(a.attnum = ANY((SELECT i.indkey FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary)::int2[]), false)
		FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, relid)
	if err != nil {
		return nil, fmt.Errorf("postgres cdc: columns of relation %d: %w", relid, err)
	}
	defer rows.Close()
	out := map[string]colInfo{}
	for rows.Next() {
		var name string
		var ci colInfo
		if err := rows.Scan(&name, &ci.notNull, &ci.pk); err != nil {
			return nil, fmt.Errorf("postgres cdc: columns of relation %d: %w", relid, err)
		}
		out[name] = ci
	}
	return out, rows.Err()
}

// rowChange turns an insert (oldType 'N'), update or delete (newTup nil)
// into changes of the current transaction.
func (t *CdcTask) rowChange(relid uint32, lsn pglogrepl.LSN, oldType uint8, oldTup, newTup *pglogrepl.TupleData) error {
	rel, ok := t.rels[relid]
	if !ok {
		return fmt.Errorf("postgres cdc: change for unknown relation %d", relid)
	}
	if !rel.Include || t.tx == nil {
		return nil
	}
	var before, after *connect.Struct
	var err error
	if oldTup != nil {
		if before, err = t.tupleStruct(rel, oldTup, oldType == 'K'); err != nil {
			return err
		}
	}
	if newTup != nil {
		if after, err = t.tupleStruct(rel, newTup, false); err != nil {
			return err
		}
	}
	switch {
	case newTup == nil:
		t.emit(rel, "d", before, nil, lsn)
	case oldType == 'N':
		t.emit(rel, "c", nil, after, lsn)
	case oldTup != nil && !sameKey(keyOf(rel, before), keyOf(rel, after)):
		// the primary key changed: delete of the old key, then create (as Debezium)
		t.emit(rel, "d", before, nil, lsn)
		t.emit(rel, "c", nil, after, lsn)
	default:
		if oldType != 'O' {
			before = nil // only REPLICA IDENTITY FULL sends the old row
		}
		t.emit(rel, "u", before, after, lsn)
	}
	return nil
}

// tupleStruct builds a Value struct. Columns a key-only tuple lacks get
// Debezium's fallback for required columns (zero values) or null.
func (t *CdcTask) tupleStruct(rel *relation, tup *pglogrepl.TupleData, keyOnly bool) (*connect.Struct, error) {
	st := connect.NewStruct(rel.S.Value)
	for i, c := range rel.Cols {
		if i >= len(tup.Columns) {
			break
		}
		fs := rel.S.Value.Fields[i].Schema
		col := tup.Columns[i]
		switch col.DataType {
		case pglogrepl.TupleDataTypeText:
			v, err := columnValue(c, fs, string(col.Data))
			if err != nil {
				return nil, fmt.Errorf("postgres cdc: %s.%s.%s: %w", rel.Schema, rel.Table, c.Name, err)
			}
			st.Values[i] = v
		case pglogrepl.TupleDataTypeToast:
			if fs.Type == connect.String {
				st.Values[i] = unavailable
			} else if fs.Type == connect.Bytes {
				st.Values[i] = []byte(unavailable)
			}
		}
		if st.Values[i] == nil && !fs.Optional && (keyOnly || col.DataType == pglogrepl.TupleDataTypeNull) {
			st.Values[i] = zeroValue(fs)
		}
	}
	return st, nil
}

// zeroValue is the fallback of a required column without a value.
func zeroValue(s *connect.Schema) any {
	if s.Name == connect.DecimalName {
		return connect.Decimal{Unscaled: new(big.Int), Scale: int32(atoi(s.Parameters[connect.DecimalScaleParam]))}
	}
	switch s.Type {
	case connect.Int8:
		return int8(0)
	case connect.Int16:
		return int16(0)
	case connect.Int32:
		return int32(0)
	case connect.Int64:
		return int64(0)
	case connect.Float32:
		return float32(0)
	case connect.Float64:
		return float64(0)
	case connect.Boolean:
		return false
	case connect.String:
		return ""
	case connect.Bytes:
		return []byte{}
	case connect.StructT:
		st := connect.NewStruct(s)
		for i, f := range s.Fields {
			st.Values[i] = zeroValue(f.Schema)
		}
		return st
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// keyOf projects a Value struct onto the Key schema (nil without a key).
func keyOf(rel *relation, v *connect.Struct) *connect.Struct {
	if rel.S.Key == nil || v == nil {
		return nil
	}
	k := connect.NewStruct(rel.S.Key)
	for i, f := range rel.S.Key.Fields {
		k.Values[i] = v.Get(f.Name)
	}
	return k
}

func sameKey(a, b *connect.Struct) bool {
	if a == nil || b == nil {
		return a == b
	}
	return fmt.Sprint(a.Values) == fmt.Sprint(b.Values)
}

// emit queues a change event (and the tombstone after a delete) with
// its offset, unless the committed offset says it was delivered before.
func (t *CdcTask) emit(rel *relation, op string, before, after *connect.Struct, lsn pglogrepl.LSN) {
	tx := t.tx
	key := keyOf(rel, after)
	if op == "d" {
		key = keyOf(rel, before)
	}
	recs := []*connect.Record{t.changeRecord(rel, op, before, after, key, lsn)}
	if op == "d" && t.cfg.Tombstones {
		recs = append(recs, &connect.Record{Topic: recs[0].Topic, Partition: -1, KeySchema: rel.S.Key, Key: key})
	}
	for _, r := range recs {
		seq := tx.seq
		tx.seq++
		if tx.commitLSN < t.resume.Commit || (tx.commitLSN == t.resume.Commit && seq <= t.resume.Seq) {
			continue // delivered before the restart
		}
		r.SourcePartition = t.partition()
		r.SourceOffset = map[string]any{"lsn": int64(lsn), "txId": int64(tx.xid), "ts_usec": tx.commit.UnixMicro(),
			"lsn_commit": int64(tx.commitLSN), "tx_seq": seq}
		t.ready = append(t.ready, r)
	}
}

// changeRecord builds the Debezium change event of one change.
func (t *CdcTask) changeRecord(rel *relation, op string, before, after, key *connect.Struct, lsn pglogrepl.LSN) *connect.Record {
	tx := t.tx
	src := connect.NewStruct(t.source)
	setAll(src, map[string]any{"version": debeziumVersion, "connector": "postgresql", "name": t.cfg.Prefix,
		"ts_ms": tx.commit.UnixMilli(), "ts_us": tx.commit.UnixMicro(), "ts_ns": tx.commit.UnixNano(), "snapshot": "false",
		"db": t.cfg.DB, "sequence": fmt.Sprintf(`["%d","%d"]`, uint64(t.lastTxLSN), uint64(lsn)),
		"schema": rel.Schema, "table": rel.Table, "txId": int64(tx.xid), "lsn": int64(lsn)})
	return t.envelope(rel, op, before, after, key, src, time.Now())
}

func (t *CdcTask) envelope(rel *relation, op string, before, after, key, src *connect.Struct, now time.Time) *connect.Record {
	env := connect.NewStruct(rel.S.Envelope)
	setAll(env, map[string]any{"before": before, "after": after, "source": src, "op": op,
		"ts_ms": now.UnixMilli(), "ts_us": now.UnixMicro(), "ts_ns": now.UnixNano()})
	r := &connect.Record{Topic: t.cfg.Prefix + "." + rel.Schema + "." + rel.Table, Partition: -1, ValueSchema: rel.S.Envelope, Value: env}
	if rel.S.Key != nil {
		r.KeySchema, r.Key = rel.S.Key, key
	}
	return r
}

func setAll(st *connect.Struct, vals map[string]any) {
	for k, v := range vals {
		if v == nil {
			continue
		}
		if s, ok := v.(*connect.Struct); ok && s == nil {
			continue
		}
		_ = st.Put(k, v)
	}
}
