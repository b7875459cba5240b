package node

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/config"
)

// Flags are the settings `samsa serve` takes on its command line (SAMSA_*
// environment variables fill the flags not given, before LoadConfig).
// Given names the flags that were given (on the command line or by the
// environment): a given flag overrides server.properties; one not given
// applies its default only where server.properties is silent.
type Flags struct {
	ConfigFile string
	DataDir    string
	Listen     string
	Advertised string
	NodeID     int32
	LogLevel   string
	// LogFormat is text (default) or json.
	LogFormat string
	Pprof     string

	Voters           string
	Roles            string
	ControllerListen string

	ReplicationListen     string
	AdvertisedReplication string

	// AddScram are --add-scram arguments (Config.AddScram).
	AddScram []string
	// AdminListen is --admin-listen (Config.AdminListen).
	AdminListen string
	// MetricsListen is --metrics-listen (Config.MetricsListen).
	MetricsListen string
	// RegistryListen is --registry-listen (Config.RegistryListen).
	RegistryListen string
	// RESTListen is --rest-listen (Config.RESTListen).
	RESTListen string

	// Given is keyed by flag name ("data-dir", "voters", ...).
	Given map[string]bool
}

// LoadConfig builds a node's configuration from Kafka's defaults, the
// server.properties file f.ConfigFile and f, in increasing precedence. The
// node logs to logOut at f.LogLevel. The result is Defaults()ed, not yet
// validated (Start validates).
func LoadConfig(f Flags, logOut io.Writer) (Config, error) {
	level, err := parseLevel(f.LogLevel)
	if err != nil {
		return Config{}, err
	}
	lv := new(slog.LevelVar)
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch f.LogFormat {
	case "", "text":
		h = slog.NewTextHandler(logOut, opts)
	case "json":
		h = slog.NewJSONHandler(logOut, opts)
	default:
		return Config{}, fmt.Errorf("--log-format: %q is not text or json", f.LogFormat)
	}
	lg := slog.New(h)
	b, err := loadBroker(f, lg)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Broker: b, NodeID: b.NodeID, DataDir: b.DataDir, Listen: b.Listen,
		ReplicationListen: f.ReplicationListen, AdvertisedReplication: f.AdvertisedReplication,
		PprofAddr: f.Pprof, Logger: lg, AddScram: f.AddScram, LogLevel: lv,
	}
	c.AdminListen, c.AdminListenGiven = adminListen(f, b)
	c.MetricsListen, _ = serviceListen(f.Given["metrics-listen"], f.MetricsListen, b, "samsa.metrics.listener", "")
	c.RESTListen, c.RESTListenGiven = serviceListen(f.Given["rest-listen"], f.RESTListen, b, "samsa.rest.listener", DefaultRESTListen)
	c.RegistryListen, c.RegistryListenGiven = serviceListen(f.Given["registry-listen"], f.RegistryListen, b, "samsa.registry.listener", DefaultRegistryListen)
	if b.Set["advertised.listeners"] {
		c.Advertised = b.Advertised
	}
	if err := loadCluster(f, b, &c); err != nil {
		return Config{}, err
	}
	return c.Defaults(), nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// loadBroker merges defaults, the config file and flags.
func loadBroker(f Flags, lg *slog.Logger) (*config.Broker, error) {
	cfg := config.Broker{}.Defaults()
	cfg.Values["log.dir"] = "./samsa-data"
	if f.ConfigFile != "" {
		unknown, err := cfg.LoadFile(f.ConfigFile)
		if err != nil {
			return nil, err
		}
		for _, k := range unknown {
			if config.SecuritySetting(k) {
				continue // read by the listeners (security.go)
			}
			lg.Warn("ignoring setting Samsa does not know", "name", k, "file", f.ConfigFile)
		}
	}
	set := func(flag, key, value string) error {
		if f.Given[flag] || !cfg.Set[key] && (key != "log.dirs" || !cfg.Set["log.dir"]) {
			if err := cfg.SetValue(key, value); err != nil {
				return fmt.Errorf("--%s: %w", flag, err)
			}
		}
		return nil
	}
	if err := set("data-dir", "log.dirs", f.DataDir); err != nil {
		return nil, err
	}
	if err := set("listen", "listeners", f.Listen); err != nil {
		return nil, err
	}
	if f.Advertised != "" {
		if err := set("advertised-listen", "advertised.listeners", f.Advertised); err != nil {
			return nil, err
		}
	}
	if err := set("node-id", "node.id", strconv.Itoa(int(f.NodeID))); err != nil {
		return nil, err
	}
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// loadCluster reads --voters/--roles/--controller-listen and their
// server.properties names into c.
func loadCluster(f Flags, b *config.Broker, c *Config) error {
	votersV := b.Values["controller.quorum.voters"]
	if f.Given["voters"] || f.Voters != "" {
		votersV = f.Voters
	}
	rolesV := ""
	if b.Set["process.roles"] {
		rolesV = b.Values["process.roles"]
	}
	if f.Given["roles"] {
		rolesV = f.Roles
	}
	if strings.TrimSpace(votersV) == "" {
		if rolesV != "" && normRoles(rolesV) != "broker,controller" {
			return fmt.Errorf("--roles %s needs --voters (controller.quorum.voters): without them a node is the single-node cluster", rolesV)
		}
		if f.Given["controller-listen"] {
			return fmt.Errorf("--controller-listen needs --voters (controller.quorum.voters)")
		}
		return nil
	}
	voters, err := ParseVoters(votersV)
	if err != nil {
		return err
	}
	c.Voters = voters
	if rolesV != "" {
		if c.Roles, err = ParseRoles(rolesV); err != nil {
			return err
		}
	}
	// A broker that is not a voter follows the metadata log as an observer
	// (a raft learner, internal/controller/learner.go): the leader sends it
	// the log on its own controller listener, announced when it joins.
	c.ControllerListen = controllerListener(b)
	if f.Given["controller-listen"] || f.ControllerListen != "" {
		c.ControllerListen = f.ControllerListen
	}
	return nil
}

// serviceListen is a service's address: the flag (or its SAMSA_
// variable) when given, else the server.properties setting, else the
// flag's value or the default; and whether it was asked for explicitly.
func serviceListen(given bool, flag string, b *config.Broker, prop, def string) (string, bool) {
	switch {
	case given:
		return flag, true
	case b.Set[prop]:
		return b.Values[prop], true
	case flag != "":
		return flag, flag != def
	}
	return def, false
}

// adminListen is the admin listener's address: --admin-listen (or
// SAMSA_ADMIN_LISTEN), else samsa.admin.listener, else the default; and
// whether it was asked for explicitly.
func adminListen(f Flags, b *config.Broker) (string, bool) {
	switch {
	case f.Given["admin-listen"]:
		return f.AdminListen, true
	case b.Set["samsa.admin.listener"]:
		return b.Values["samsa.admin.listener"], true
	case f.AdminListen != "":
		return f.AdminListen, f.AdminListen != DefaultAdminListen
	}
	return DefaultAdminListen, false
}
