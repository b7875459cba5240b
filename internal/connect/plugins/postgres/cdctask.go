package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samsa-streaming/samsa/connect"
)

// CdcTask streams one database's changes from a logical replication slot.
type CdcTask struct {
	cfg     cdcConfig
	log     *slog.Logger
	offsets connect.OffsetReader
	source  *connect.Schema

	// stop ends a blocked Poll; mu serializes Poll and Stop's cleanup.
	stop   context.CancelFunc
	stopCx context.Context
	mu     sync.Mutex

	meta      *pgx.Conn
	repl      *pgconn.PgConn
	rels      map[uint32]*relation
	snap      *snapshot
	streaming bool
	startLSN  pglogrepl.LSN
	resume    resumePoint
	emitted   resumePoint // the last record Poll returned
	tx        *txState
	lastTxLSN pglogrepl.LSN
	ready     []*connect.Record

	confirmed  atomic.Uint64 // LSN the slot may confirm (set by Commit)
	idleMu     sync.Mutex
	idle       idlePoint // shared by Poll (writer) and Commit (reader)
	sentLSN    pglogrepl.LSN
	lastStatus time.Time
}

// resumePoint is a delivered position: records of transactions whose
// commit record lies before Commit, and the first Seq+1 records of the
// one committing at Commit, were delivered already.
type resumePoint struct {
	Commit pglogrepl.LSN
	Seq    int64
}

// idlePoint is the server's WAL end from a keepalive that came when every
// change received before it had been returned by Poll, up to After. Once
// After is committed, the slot may confirm WALEnd: otherwise an idle
// capture of busy other tables would keep their WAL forever (what
// Debezium's heartbeats are for).
type idlePoint struct {
	After  resumePoint
	WALEnd pglogrepl.LSN
	OK     bool
}

// relation is a table as pgoutput described it.
type relation struct {
	Schema, Table string
	Cols          []pgColumn
	S             tableSchemas
	Include       bool
}

// Version implements connect.Versioned.
func (*CdcTask) Version() string { return debeziumVersion }

func (t *CdcTask) partition() map[string]any { return map[string]any{"server": t.cfg.Prefix} }

// Start connects, makes sure the publication and slot exist, and decides
// between snapshot and streaming from the committed offset.
func (t *CdcTask) Start(tctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parseCdcConfig(props)
	if err != nil {
		return err
	}
	t.cfg, t.log, t.offsets, t.source = cfg, tctx.Logger(), tctx.Offsets(), sourceSchema()
	t.rels = map[uint32]*relation{}
	t.stopCx, t.stop = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(t.stopCx, 60*time.Second)
	defer cancel()
	if err := t.connect(ctx); err != nil {
		t.closeConns()
		return err
	}
	if err := t.setup(ctx); err != nil {
		t.closeConns()
		return err
	}
	return nil
}

func (t *CdcTask) connect(ctx context.Context) error {
	mcfg, err := pgx.ParseConfig(t.cfg.ConnString)
	if err != nil {
		return fmt.Errorf("postgres cdc: %w", err)
	}
	mcfg.RuntimeParams["TimeZone"] = "UTC"
	if t.meta, err = pgx.ConnectConfig(ctx, mcfg); err != nil {
		return fmt.Errorf("postgres cdc: connect: %w", err)
	}
	rcfg, err := pgconn.ParseConfig(t.cfg.ConnString)
	if err != nil {
		return fmt.Errorf("postgres cdc: %w", err)
	}
	rcfg.RuntimeParams["replication"] = "database"
	rcfg.RuntimeParams["TimeZone"] = "UTC"
	if t.repl, err = pgconn.ConnectConfig(ctx, rcfg); err != nil {
		return fmt.Errorf("postgres cdc: replication connection: %w", err)
	}
	return nil
}

// setup ensures the publication, reads the offset and creates or reuses
// the slot.
func (t *CdcTask) setup(ctx context.Context) error {
	if err := t.ensurePublication(ctx); err != nil {
		return err
	}
	off, err := t.offsets.Offset(ctx, t.partition())
	if err != nil {
		return fmt.Errorf("postgres cdc: read offset: %w", err)
	}
	var slotExists bool
	if err := t.meta.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_replication_slots WHERE slot_name = $1`, t.cfg.Slot).Scan(&slotExists); err != nil {
		return fmt.Errorf("postgres cdc: look up slot: %w", err)
	}
	snapshotDone := off != nil && (!asBool(off["snapshot"]) || asBool(off["last_snapshot_record"]))
	needSnapshot := t.cfg.Snapshot && !snapshotDone
	if off != nil && snapshotDone {
		t.resume = resumePoint{Commit: pglogrepl.LSN(asInt64(off["lsn_commit"])), Seq: asInt64(off["tx_seq"])}
		t.startLSN, t.emitted = t.resume.Commit, t.resume
		if !slotExists {
			t.log.Warn("replication slot is missing; changes since the committed offset may be lost", "slot", t.cfg.Slot)
			_, err := t.createSlot(ctx, false)
			return err
		}
		return nil
	}
	if slotExists && (needSnapshot || off == nil) {
		// a consistent snapshot needs a new slot's exported snapshot
		if err := pglogrepl.DropReplicationSlot(ctx, t.repl, t.cfg.Slot, pglogrepl.DropReplicationSlotOptions{Wait: true}); err != nil {
			return fmt.Errorf("postgres cdc: drop slot for a new snapshot: %w", err)
		}
	}
	res, err := t.createSlot(ctx, needSnapshot)
	if err != nil {
		return err
	}
	cp, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return fmt.Errorf("postgres cdc: slot consistent point: %w", err)
	}
	t.startLSN = cp
	if needSnapshot {
		return t.beginSnapshot(ctx, res.SnapshotName, cp)
	}
	return nil
}

func (t *CdcTask) createSlot(ctx context.Context, export bool) (pglogrepl.CreateReplicationSlotResult, error) {
	action := "NOEXPORT_SNAPSHOT"
	if export {
		action = "EXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, t.repl, t.cfg.Slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
	if err != nil {
		return res, fmt.Errorf("postgres cdc: create slot %s: %w", t.cfg.Slot, err)
	}
	return res, nil
}

func (t *CdcTask) ensurePublication(ctx context.Context) error {
	var exists bool
	if err := t.meta.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_publication WHERE pubname = $1`, t.cfg.Publication).Scan(&exists); err != nil {
		return fmt.Errorf("postgres cdc: look up publication: %w", err)
	}
	if exists {
		return nil
	}
	switch t.cfg.PubMode {
	case "disabled":
		return fmt.Errorf("postgres cdc: publication %s does not exist and publication.autocreate.mode is disabled", t.cfg.Publication)
	case "filtered":
		tables, err := t.includedTables(ctx)
		if err != nil {
			return err
		}
		if len(tables) == 0 {
			return fmt.Errorf("postgres cdc: no table matches table.include.list")
		}
		names := ""
		for i, tb := range tables {
			if i > 0 {
				names += ", "
			}
			names += pgx.Identifier{tb[0], tb[1]}.Sanitize()
		}
		_, err = t.meta.Exec(ctx, "CREATE PUBLICATION "+t.cfg.Publication+" FOR TABLE "+names)
		if err != nil {
			return fmt.Errorf("postgres cdc: create publication: %w", err)
		}
		return nil
	}
	if _, err := t.meta.Exec(ctx, "CREATE PUBLICATION "+t.cfg.Publication+" FOR ALL TABLES"); err != nil {
		return fmt.Errorf("postgres cdc: create publication: %w", err)
	}
	return nil
}

// includedTables lists the captured ordinary tables as [schema, table].
func (t *CdcTask) includedTables(ctx context.Context) ([][2]string, error) {
	rows, err := t.meta.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("postgres cdc: list tables: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("postgres cdc: list tables: %w", err)
		}
		if t.cfg.included(s, n) {
			out = append(out, [2]string{s, n})
		}
	}
	return out, rows.Err()
}

// Poll returns snapshot records first, then committed transactions'
// changes, waiting at most poll.interval.ms for them.
func (t *CdcTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopCx.Err() != nil {
		return nil, nil
	}
	// wait bounds the wait for data; op bounds the work on data already
	// taken from the stream, which must not be cut short.
	wait, cancel := context.WithTimeout(ctx, t.cfg.PollInterval)
	defer cancel()
	stop := context.AfterFunc(t.stopCx, cancel)
	defer stop()
	ctx, cancelOp := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelOp()
	if t.snap != nil {
		recs, err := t.pollSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 || t.snap != nil {
			return recs, nil
		}
	}
	if !t.streaming {
		if err := t.startStreaming(ctx); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "55006" {
				// the slot is still held by our previous, dying walsender
				t.log.Info("replication slot busy; retrying", "err", err)
				<-wait.Done()
				return nil, nil
			}
			return nil, err
		}
	}
	if len(t.ready) == 0 {
		if err := t.receive(wait, ctx); err != nil {
			if t.stopCx.Err() != nil {
				return nil, nil
			}
			return nil, t.reconnect(ctx, err)
		}
	}
	return t.takeReady(), nil
}

// takeReady removes and returns up to max.batch.size ready records,
// remembering the last one as emitted.
func (t *CdcTask) takeReady() []*connect.Record {
	n := min(len(t.ready), t.cfg.BatchSize)
	out := t.ready[:n:n]
	t.ready = t.ready[n:]
	if len(t.ready) == 0 {
		t.ready = nil
	}
	if n > 0 {
		if off := out[n-1].SourceOffset; off != nil {
			t.emitted = resumePoint{Commit: pglogrepl.LSN(asInt64(off["lsn_commit"])), Seq: asInt64(off["tx_seq"])}
		}
	}
	return out
}

func (t *CdcTask) startStreaming(ctx context.Context) error {
	err := pglogrepl.StartReplication(ctx, t.repl, t.cfg.Slot, t.startLSN, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names '" + t.cfg.Publication + "'"},
	})
	if err != nil {
		return fmt.Errorf("postgres cdc: start replication at %s: %w", t.startLSN, err)
	}
	t.streaming, t.sentLSN, t.lastStatus = true, 0, time.Time{}
	return nil
}

// reconnect replaces a replication connection that failed (e.g. the
// server's wal_sender_timeout ended it while nobody polled): streaming
// restarts after the last record Poll returned; records received but not
// returned are dropped and come again.
func (t *CdcTask) reconnect(ctx context.Context, cause error) error {
	t.log.Warn("replication connection lost; reconnecting", "err", cause)
	if t.repl != nil {
		_ = t.repl.Close(context.Background())
		t.repl = nil
	}
	t.streaming, t.tx, t.ready = false, nil, nil
	t.resume = t.emitted
	if t.resume.Commit > t.startLSN {
		t.startLSN, t.emitted = t.resume.Commit, t.resume
	}
	rcfg, err := pgconn.ParseConfig(t.cfg.ConnString)
	if err != nil {
		return fmt.Errorf("postgres cdc: %w", err)
	}
	rcfg.RuntimeParams["replication"] = "database"
	rcfg.RuntimeParams["TimeZone"] = "UTC"
	if t.repl, err = pgconn.ConnectConfig(ctx, rcfg); err != nil {
		return fmt.Errorf("%w: postgres cdc: reconnect after %w: %w", connect.ErrRetriable, cause, err)
	}
	return nil
}

// Commit moves the slot's confirmed LSN to the end of the last
// transaction whose records' offsets are committed.
func (t *CdcTask) Commit() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	off, err := t.offsets.Offset(ctx, t.partition())
	if err != nil || off == nil {
		return err
	}
	// The server skips transactions whose commit record lies before the
	// confirmed LSN: confirming the commit LSN of the last committed
	// record's transaction keeps that one (whose remaining records may
	// not be delivered) and drops the earlier ones.
	lsn := uint64(asInt64(off["lsn_commit"]))
	at := resumePoint{Commit: pglogrepl.LSN(lsn), Seq: asInt64(off["tx_seq"])}
	t.idleMu.Lock()
	if idle := t.idle; idle.OK && idle.After == at && uint64(idle.WALEnd) > lsn {
		lsn = uint64(idle.WALEnd)
	}
	t.idleMu.Unlock()
	for {
		cur := t.confirmed.Load()
		if lsn <= cur || t.confirmed.CompareAndSwap(cur, lsn) {
			return nil
		}
	}
}

// CommitRecord implements connect.SourceCommitter (Commit does the work).
func (*CdcTask) CommitRecord(*connect.Record, *connect.RecordMetadata) error { return nil }

// Stop ends a blocked Poll and closes the connections.
func (t *CdcTask) Stop() error {
	if t.stop == nil {
		return nil
	}
	t.stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.streaming && t.repl != nil && !t.repl.IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = t.sendStatus(ctx, true)
		cancel()
	}
	if t.cfg.DropSlot && t.meta != nil {
		if t.repl != nil {
			_ = t.repl.Close(context.Background())
			t.repl = nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := t.meta.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, t.cfg.Slot)
		cancel()
		if err != nil {
			t.log.Warn("drop replication slot", "slot", t.cfg.Slot, "err", err)
		}
	}
	t.closeConns()
	return nil
}

func (t *CdcTask) closeConns() {
	if t.snap != nil && t.snap.rows != nil {
		t.snap.rows.Close()
	}
	if t.repl != nil {
		_ = t.repl.Close(context.Background())
		t.repl = nil
	}
	if t.meta != nil {
		_ = t.meta.Close(context.Background())
		t.meta = nil
	}
}

// sendStatus reports the confirmed LSN when it moved, the interval
// passed, or force is set.
func (t *CdcTask) sendStatus(ctx context.Context, force bool) error {
	lsn := pglogrepl.LSN(t.confirmed.Load())
	if !force && lsn == t.sentLSN && time.Since(t.lastStatus) < t.cfg.StatusEvery {
		return nil
	}
	if lsn == 0 {
		lsn = t.startLSN
	}
	err := pglogrepl.SendStandbyStatusUpdate(ctx, t.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: lsn, WALFlushPosition: lsn, WALApplyPosition: lsn})
	if err != nil {
		return fmt.Errorf("postgres cdc: standby status update: %w", err)
	}
	t.sentLSN, t.lastStatus = lsn, time.Now()
	return nil
}

func asBool(v any) bool {
	b, _ := v.(bool)
	return b
}

// asInt64 reads an offset number as the runtime's JSON round trip may
// return it.
func asInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case interface{ Int64() (int64, error) }:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
