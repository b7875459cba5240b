package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samsa-streaming/samsa/connect"
)

// Class names of the sink.
const (
	SinkClass = "io.samsa.connect.jdbc.PostgresSinkConnector"
	version   = "1.0.0"
)

// Sink configuration names (the Confluent JDBC sink's).
const (
	cfgURL         = "connection.url"
	cfgUser        = "connection.user"
	cfgPassword    = "connection.password"
	cfgTableFormat = "table.name.format"
	cfgInsertMode  = "insert.mode"
	cfgPKMode      = "pk.mode"
	cfgPKFields    = "pk.fields"
	cfgAutoCreate  = "auto.create"
	cfgAutoEvolve  = "auto.evolve"
	cfgDelete      = "delete.enabled"
	cfgBatchSize   = "batch.size"
)

func connectionDef(d *connect.ConfigDef) *connect.ConfigDef {
	return d.Define(connect.ConfigKey{Name: cfgURL, Type: connect.TypeString, Required: true, Importance: connect.High, Group: "Connection",
		Documentation: "JDBC (jdbc:postgresql://host:port/db) or libpq (postgres://…) connection URL."}).
		Define(connect.ConfigKey{Name: cfgUser, Type: connect.TypeString, Importance: connect.High, Group: "Connection", Documentation: "User name."}).
		Define(connect.ConfigKey{Name: cfgPassword, Type: connect.TypePassword, Importance: connect.High, Group: "Connection", Documentation: "Password."})
}

// SinkConfigDef describes the sink's settings.
func SinkConfigDef() *connect.ConfigDef {
	d := connectionDef(connect.NewConfigDef())
	return d.Define(connect.ConfigKey{Name: cfgTableFormat, Type: connect.TypeString, Default: "${topic}", Group: "Data Mapping",
		Documentation: "Destination table name; ${topic} is replaced by the record's topic."}).
		Define(connect.ConfigKey{Name: cfgInsertMode, Type: connect.TypeString, Default: "insert", Validator: connect.InList(true, "insert", "upsert"), Group: "Writes",
			Documentation: "insert: plain INSERT (at-least-once); upsert: INSERT … ON CONFLICT (pk) DO UPDATE (idempotent).",
			Recommended:   func(map[string]any) []any { return []any{"insert", "upsert"} }}).
		Define(connect.ConfigKey{Name: cfgPKMode, Type: connect.TypeString, Default: "none", Validator: connect.InList(true, "none", "kafka", "record_key", "record_value"), Group: "Data Mapping",
			Documentation: "Where the primary key comes from: none, kafka (__connect_topic/partition/offset), record_key, record_value.",
			Recommended:   func(map[string]any) []any { return []any{"none", "kafka", "record_key", "record_value"} }}).
		Define(connect.ConfigKey{Name: cfgPKFields, Type: connect.TypeList, Default: "", Group: "Data Mapping",
			Documentation: "Primary key field names (all key/value fields when empty; the column name for a primitive key)."}).
		Define(connect.ConfigKey{Name: cfgAutoCreate, Type: connect.TypeBoolean, Default: "false", Group: "DDL Support",
			Documentation: "Create a missing table from the record's schema."}).
		Define(connect.ConfigKey{Name: cfgAutoEvolve, Type: connect.TypeBoolean, Default: "false", Group: "DDL Support",
			Documentation: "Add columns for new optional fields of the record's schema."}).
		Define(connect.ConfigKey{Name: cfgDelete, Type: connect.TypeBoolean, Default: "false", Group: "Writes",
			Documentation: "Delete the row of a tombstone's key (needs pk.mode=record_key)."}).
		Define(connect.ConfigKey{Name: cfgBatchSize, Type: connect.TypeInt, Default: "3000", Validator: connect.AtLeast(1), Group: "Writes",
			Documentation: "Most records written in one transaction."})
}

// sinkConfig is the sink's parsed configuration.
type sinkConfig struct {
	ConnString  string
	TableFormat string
	Upsert      bool
	PKMode      string
	PKFields    []string
	AutoCreate  bool
	AutoEvolve  bool
	Delete      bool
	BatchSize   int
}

func parseSinkConfig(props map[string]string) (sinkConfig, error) {
	v, err := SinkConfigDef().Parse(props)
	if err != nil {
		return sinkConfig{}, fmt.Errorf("postgres sink: %w", err)
	}
	c := sinkConfig{
		TableFormat: v[cfgTableFormat].(string),
		Upsert:      strings.EqualFold(v[cfgInsertMode].(string), "upsert"),
		PKMode:      strings.ToLower(v[cfgPKMode].(string)),
		PKFields:    v[cfgPKFields].([]string),
		AutoCreate:  v[cfgAutoCreate].(bool),
		AutoEvolve:  v[cfgAutoEvolve].(bool),
		Delete:      v[cfgDelete].(bool),
		BatchSize:   int(v[cfgBatchSize].(int32)),
	}
	if c.ConnString, err = connString(v[cfgURL].(string), v[cfgUser].(string), v[cfgPassword].(string)); err != nil {
		return sinkConfig{}, fmt.Errorf("postgres sink: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the combinations the ConfigDef cannot.
func (c sinkConfig) Validate() error {
	if c.Upsert && c.PKMode == "none" {
		return fmt.Errorf("postgres sink: insert.mode=upsert needs a pk.mode other than none")
	}
	if c.Delete && c.PKMode != "record_key" {
		return fmt.Errorf("postgres sink: delete.enabled=true needs pk.mode=record_key")
	}
	return nil
}

// SinkConnector is the PostgreSQL sink connector.
type SinkConnector struct {
	props map[string]string
}

// Version implements connect.Versioned.
func (*SinkConnector) Version() string { return version }

// Config implements connect.Configurable.
func (*SinkConnector) Config() *connect.ConfigDef { return SinkConfigDef() }

// ValidateConfig reports the cross-setting errors.
func (*SinkConnector) ValidateConfig(props map[string]string, values map[string]*connect.ConfigValue) {
	if _, err := parseSinkConfig(props); err != nil {
		if cv := values[cfgPKMode]; cv != nil && strings.Contains(err.Error(), "pk.mode") {
			cv.Errors = append(cv.Errors, err.Error())
		}
	}
}

// Start implements connect.Connector.
func (s *SinkConnector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSinkConfig(props); err != nil {
		return err
	}
	s.props = props
	return nil
}

// TaskConfigs gives every task the connector's configuration.
func (s *SinkConnector) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, max)
	for i := range out {
		out[i] = make(map[string]string, len(s.props))
		for k, v := range s.props {
			out[i][k] = v
		}
	}
	return out, nil
}

// Stop implements connect.Connector.
func (*SinkConnector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (*SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

// SinkTask writes records to PostgreSQL.
type SinkTask struct {
	cfg    sinkConfig
	tctx   connect.SinkTaskContext
	conn   *pgx.Conn
	tables map[string]map[string]bool // table -> known columns
}

// Version implements connect.Versioned.
func (*SinkTask) Version() string { return version }

// Start parses the configuration; the connection opens on first use.
func (t *SinkTask) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	cfg, err := parseSinkConfig(props)
	if err != nil {
		return err
	}
	t.cfg, t.tctx, t.tables = cfg, ctx, map[string]map[string]bool{}
	return nil
}

// Open implements connect.SinkTask.
func (*SinkTask) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close implements connect.SinkTask.
func (*SinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// Put writes records in transactions of at most batch.size records.
func (t *SinkTask) Put(ctx context.Context, records []*connect.Record) error {
	for len(records) > 0 {
		n := min(len(records), t.cfg.BatchSize)
		if err := t.write(ctx, records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

// PreCommit: Put has already committed its transactions.
func (*SinkTask) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return current, nil
}

// Stop closes the connection.
func (t *SinkTask) Stop() error {
	if t.conn != nil {
		err := t.conn.Close(context.Background())
		t.conn = nil
		return err
	}
	return nil
}

func (t *SinkTask) write(ctx context.Context, records []*connect.Record) error {
	if t.conn == nil || t.conn.IsClosed() {
		c, err := dial(ctx, t.cfg.ConnString)
		if err != nil {
			return fmt.Errorf("%w: %w", connect.ErrRetriable, err)
		}
		t.conn = c
	}
	var stmts []sinkStmt
	for _, r := range records {
		st, err := t.statement(r)
		if err != nil {
			if rerr := t.tctx.ReportError(ctx, r, err); rerr != nil {
				return rerr
			}
			continue
		}
		if st.sql != "" {
			stmts = append(stmts, st)
		}
	}
	for _, st := range stmts {
		if err := t.ensureTable(ctx, st); err != nil {
			return t.classify(err)
		}
	}
	err := pgx.BeginFunc(ctx, t.conn, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, st := range stmts {
			b.Queue(st.sql, st.args...)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return t.classify(err)
	}
	return nil
}

// classify makes connection-level failures retriable (after dropping the
// connection) and leaves SQL errors as they are.
func (t *SinkTask) classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57") && pgErr.Code != "40001" && pgErr.Code != "40P01" {
		// a table created by another task meanwhile is worth a retry
		if pgErr.Code == "42P07" || pgErr.Code == "42701" {
			t.tables = map[string]map[string]bool{}
			return fmt.Errorf("%w: postgres sink: %w", connect.ErrRetriable, err)
		}
		return fmt.Errorf("postgres sink: %w", err)
	}
	if t.conn != nil {
		_ = t.conn.Close(context.Background())
		t.conn = nil
	}
	t.tables = map[string]map[string]bool{}
	return fmt.Errorf("%w: postgres sink: %w", connect.ErrRetriable, err)
}
