package postgres

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Class names of the CDC source.
const (
	CdcClass      = "io.samsa.connect.cdc.PostgresCdcSourceConnector"
	DebeziumClass = "io.debezium.connector.postgresql.PostgresConnector"
)

// CdcConfigDef describes the CDC source's settings (Debezium's names).
func CdcConfigDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	str := func(name, def, doc string, required bool) {
		d.Define(connect.ConfigKey{Name: name, Type: connect.TypeString, Default: def, Required: required, Documentation: doc, Importance: connect.High})
	}
	str("database.hostname", "", "Host of the PostgreSQL server.", true)
	d.Define(connect.ConfigKey{Name: "database.port", Type: connect.TypeInt, Default: "5432", Documentation: "Port of the PostgreSQL server."})
	str("database.user", "", "User with the REPLICATION attribute.", true)
	d.Define(connect.ConfigKey{Name: "database.password", Type: connect.TypePassword, Documentation: "Password."})
	str("database.dbname", "", "Database to capture.", true)
	str("topic.prefix", "", "Prefix of every topic name and the source partition's server.", true)
	d.Define(connect.ConfigKey{Name: "plugin.name", Type: connect.TypeString, Default: "pgoutput", Validator: connect.InList(false, "pgoutput"), Documentation: "Logical decoding plugin; only pgoutput."})
	str("slot.name", "debezium", "Replication slot name.", false)
	str("publication.name", "dbz_publication", "Publication name.", false)
	d.Define(connect.ConfigKey{Name: "publication.autocreate.mode", Type: connect.TypeString, Default: "all_tables", Validator: connect.InList(true, "all_tables", "disabled", "filtered"),
		Documentation: "all_tables: CREATE PUBLICATION … FOR ALL TABLES; filtered: for the included tables; disabled: it must exist."})
	d.Define(connect.ConfigKey{Name: "table.include.list", Type: connect.TypeList, Default: "", Documentation: "Regular expressions of schema.table names to capture (all when empty)."})
	d.Define(connect.ConfigKey{Name: "table.exclude.list", Type: connect.TypeList, Default: "", Documentation: "Regular expressions of schema.table names not to capture."})
	d.Define(connect.ConfigKey{Name: "snapshot.mode", Type: connect.TypeString, Default: "initial", Validator: connect.InList(true, "initial", "never", "no_data"),
		Documentation: "initial: read the tables first when there is no offset; never/no_data: stream only."})
	d.Define(connect.ConfigKey{Name: "tombstones.on.delete", Type: connect.TypeBoolean, Default: "true", Documentation: "Follow each delete event with a tombstone."})
	d.Define(connect.ConfigKey{Name: "decimal.handling.mode", Type: connect.TypeString, Default: "precise", Validator: connect.InList(true, "precise"), Documentation: "Only precise."})
	d.Define(connect.ConfigKey{Name: "max.batch.size", Type: connect.TypeInt, Default: "2048", Validator: connect.AtLeast(1), Documentation: "Most records per poll."})
	d.Define(connect.ConfigKey{Name: "poll.interval.ms", Type: connect.TypeLong, Default: "500", Validator: connect.AtLeast(1), Documentation: "Longest wait of one poll."})
	d.Define(connect.ConfigKey{Name: "status.update.interval.ms", Type: connect.TypeLong, Default: "10000", Validator: connect.AtLeast(1), Documentation: "Interval of standby status updates to the server."})
	d.Define(connect.ConfigKey{Name: "slot.drop.on.stop", Type: connect.TypeBoolean, Default: "false", Documentation: "Drop the slot when the task stops."})
	return d
}

// cdcConfig is the parsed configuration.
type cdcConfig struct {
	ConnString   string
	DB           string
	Prefix       string
	Slot         string
	Publication  string
	PubMode      string
	Include      []*regexp.Regexp
	Exclude      []*regexp.Regexp
	Snapshot     bool
	Tombstones   bool
	BatchSize    int
	PollInterval time.Duration
	StatusEvery  time.Duration
	DropSlot     bool
}

func parseCdcConfig(props map[string]string) (cdcConfig, error) {
	v, err := CdcConfigDef().Parse(props)
	if err != nil {
		return cdcConfig{}, fmt.Errorf("postgres cdc: %w", err)
	}
	c := cdcConfig{
		DB:           v["database.dbname"].(string),
		Prefix:       v["topic.prefix"].(string),
		Slot:         v["slot.name"].(string),
		Publication:  v["publication.name"].(string),
		PubMode:      strings.ToLower(v["publication.autocreate.mode"].(string)),
		Snapshot:     strings.EqualFold(v["snapshot.mode"].(string), "initial"),
		Tombstones:   v["tombstones.on.delete"].(bool),
		BatchSize:    int(v["max.batch.size"].(int32)),
		PollInterval: time.Duration(v["poll.interval.ms"].(int64)) * time.Millisecond,
		StatusEvery:  time.Duration(v["status.update.interval.ms"].(int64)) * time.Millisecond,
		DropSlot:     v["slot.drop.on.stop"].(bool),
	}
	c.ConnString = debeziumConnString(v["database.hostname"].(string), fmt.Sprint(v["database.port"]), v["database.user"].(string), v["database.password"].(string), c.DB)
	for _, pair := range []struct {
		key string
		out *[]*regexp.Regexp
	}{{"table.include.list", &c.Include}, {"table.exclude.list", &c.Exclude}} {
		for _, p := range v[pair.key].([]string) {
			re, err := regexp.Compile("^(?:" + p + ")$")
			if err != nil {
				return cdcConfig{}, fmt.Errorf("postgres cdc: %s: %w", pair.key, err)
			}
			*pair.out = append(*pair.out, re)
		}
	}
	if !validIdent(c.Slot) || !validIdent(c.Publication) {
		return cdcConfig{}, fmt.Errorf("postgres cdc: slot.name and publication.name must be lower-case letters, digits and underscores")
	}
	return c, nil
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func validIdent(s string) bool { return identRE.MatchString(s) }

// included says whether schema.table is captured.
func (c cdcConfig) included(schema, table string) bool {
	name := schema + "." + table
	for _, re := range c.Exclude {
		if re.MatchString(name) {
			return false
		}
	}
	if len(c.Include) == 0 {
		return schema != "pg_catalog" && schema != "information_schema"
	}
	for _, re := range c.Include {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// CdcConnector is the logical-replication source connector. It runs one
// task (a slot has one reader).
type CdcConnector struct {
	props map[string]string
}

// Version implements connect.Versioned.
func (*CdcConnector) Version() string { return debeziumVersion }

// Config implements connect.Configurable.
func (*CdcConnector) Config() *connect.ConfigDef { return CdcConfigDef() }

// Start implements connect.Connector.
func (c *CdcConnector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseCdcConfig(props); err != nil {
		return err
	}
	c.props = props
	return nil
}

// TaskConfigs returns one task.
func (c *CdcConnector) TaskConfigs(max int) ([]map[string]string, error) {
	if max < 1 {
		return nil, nil
	}
	return []map[string]string{c.props}, nil
}

// Stop implements connect.Connector.
func (*CdcConnector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (*CdcConnector) NewTask() connect.SourceTask { return &CdcTask{} }
