package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// SourceClass is the query source's class name.
const SourceClass = "io.samsa.connect.jdbc.PostgresSourceConnector"

// Query modes.
const (
	modeBulk     = "bulk"
	modeInc      = "incrementing"
	modeTS       = "timestamp"
	modeTSInc    = "timestamp+incrementing"
	cfgTasksKeys = "tables" // task config: the task's tables
)

// SourceConfigDef describes the query source's settings (the Confluent
// JDBC source's names).
func SourceConfigDef() *connect.ConfigDef {
	d := connectionDef(connect.NewConfigDef())
	return d.Define(connect.ConfigKey{Name: "mode", Type: connect.TypeString, Required: true, Validator: connect.InList(false, modeBulk, modeInc, modeTS, modeTSInc), Importance: connect.High,
		Documentation: "bulk: every row each poll; incrementing: rows with a larger incrementing column; timestamp: rows with a newer timestamp column; timestamp+incrementing: both.",
		Recommended:   func(map[string]any) []any { return []any{modeBulk, modeInc, modeTS, modeTSInc} }}).
		Define(connect.ConfigKey{Name: "incrementing.column.name", Type: connect.TypeString, Documentation: "Strictly increasing integer column."}).
		Define(connect.ConfigKey{Name: "timestamp.column.name", Type: connect.TypeList, Default: "", Documentation: "Timestamp column (the first of the list is used)."}).
		Define(connect.ConfigKey{Name: "table.whitelist", Type: connect.TypeList, Default: "", Documentation: "Tables to read (schema.table or table)."}).
		Define(connect.ConfigKey{Name: "table.include.list", Type: connect.TypeList, Default: "", Documentation: "Same as table.whitelist."}).
		Define(connect.ConfigKey{Name: "query", Type: connect.TypeString, Documentation: "A query to read instead of tables."}).
		Define(connect.ConfigKey{Name: "topic.prefix", Type: connect.TypeString, Required: true, Importance: connect.High, Documentation: "Topic name prefix (the whole topic in query mode)."}).
		Define(connect.ConfigKey{Name: "poll.interval.ms", Type: connect.TypeInt, Default: "5000", Validator: connect.AtLeast(1), Documentation: "Interval between reads of one table."}).
		Define(connect.ConfigKey{Name: "batch.max.rows", Type: connect.TypeInt, Default: "100", Validator: connect.AtLeast(1), Documentation: "Most rows per poll of one table."}).
		Define(connect.ConfigKey{Name: "timestamp.delay.interval.ms", Type: connect.TypeLong, Default: "0", Validator: connect.AtLeast(0), Documentation: "Only rows older than this are read in timestamp modes."}).
		Define(connect.ConfigKey{Name: cfgTasksKeys, Type: connect.TypeList, Default: "", Documentation: "Internal: the tables of one task."})
}

// sourceConfig is the query source's parsed configuration.
type sourceConfig struct {
	ConnString string
	Mode       string
	IncCol     string
	TSCol      string
	Tables     []string
	Query      string
	Prefix     string
	Interval   time.Duration
	MaxRows    int
	Delay      time.Duration
}

func parseSourceConfig(props map[string]string) (sourceConfig, error) {
	v, err := SourceConfigDef().Parse(props)
	if err != nil {
		return sourceConfig{}, fmt.Errorf("postgres source: %w", err)
	}
	c := sourceConfig{
		Mode: v["mode"].(string), Query: strings.TrimSpace(v["query"].(string)), Prefix: v["topic.prefix"].(string),
		IncCol: v["incrementing.column.name"].(string), Interval: time.Duration(v["poll.interval.ms"].(int32)) * time.Millisecond,
		MaxRows: int(v["batch.max.rows"].(int32)), Delay: time.Duration(v["timestamp.delay.interval.ms"].(int64)) * time.Millisecond,
	}
	if ts := v["timestamp.column.name"].([]string); len(ts) > 0 {
		c.TSCol = ts[0]
	}
	c.Tables = append(append([]string{}, v["table.whitelist"].([]string)...), v["table.include.list"].([]string)...)
	if own := v[cfgTasksKeys].([]string); len(own) > 0 {
		c.Tables = own
	}
	if c.ConnString, err = connString(v[cfgURL].(string), v[cfgUser].(string), v[cfgPassword].(string)); err != nil {
		return sourceConfig{}, fmt.Errorf("postgres source: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the mode's columns and the table/query choice.
func (c sourceConfig) Validate() error {
	if (c.Mode == modeInc || c.Mode == modeTSInc) && c.IncCol == "" {
		return fmt.Errorf("postgres source: mode %s needs incrementing.column.name", c.Mode)
	}
	if (c.Mode == modeTS || c.Mode == modeTSInc) && c.TSCol == "" {
		return fmt.Errorf("postgres source: mode %s needs timestamp.column.name", c.Mode)
	}
	if c.Query != "" && len(c.Tables) > 0 {
		return fmt.Errorf("postgres source: set either query or table.whitelist, not both")
	}
	return nil
}

// SourceConnector is the query-based source connector.
type SourceConnector struct {
	props map[string]string
	cfg   sourceConfig
}

// Version implements connect.Versioned.
func (*SourceConnector) Version() string { return version }

// Config implements connect.Configurable.
func (*SourceConnector) Config() *connect.ConfigDef { return SourceConfigDef() }

// Start reads the configuration and, without a table list or query, the
// database's tables.
func (s *SourceConnector) Start(_ connect.ConnectorContext, props map[string]string) error {
	cfg, err := parseSourceConfig(props)
	if err != nil {
		return err
	}
	if cfg.Query == "" && len(cfg.Tables) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if cfg.Tables, err = listTables(ctx, cfg.ConnString); err != nil {
			return err
		}
	}
	s.props, s.cfg = props, cfg
	return nil
}

func listTables(ctx context.Context, cs string) ([]string, error) {
	conn, err := dial(ctx, cs)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("postgres source: list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("postgres source: list tables: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// TaskConfigs spreads the tables over at most max tasks (one for a query).
func (s *SourceConnector) TaskConfigs(max int) ([]map[string]string, error) {
	if s.cfg.Query != "" || max <= 1 {
		if max < 1 {
			return nil, nil
		}
		return []map[string]string{s.props}, nil
	}
	n := min(max, len(s.cfg.Tables))
	groups := make([][]string, n)
	for i, tb := range s.cfg.Tables {
		groups[i%n] = append(groups[i%n], tb)
	}
	out := make([]map[string]string, n)
	for i, g := range groups {
		m := make(map[string]string, len(s.props)+1)
		for k, v := range s.props {
			m[k] = v
		}
		m[cfgTasksKeys] = strings.Join(g, ",")
		out[i] = m
	}
	return out, nil
}

// Stop implements connect.Connector.
func (*SourceConnector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (*SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }
