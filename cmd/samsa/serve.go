package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/samsa-streaming/samsa/internal/node"
)

func newServeCmd() *cobra.Command {
	var f node.Flags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Samsa broker",
		Long: `Run a Samsa broker. Settings come, in increasing precedence, from Kafka's
defaults, the server.properties file given with --config, SAMSA_* environment
variables, and flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			if err := applyEnv(fl); err != nil {
				return err
			}
			f.Given = map[string]bool{}
			fl.Visit(func(fl *pflag.Flag) { f.Given[fl.Name] = true })
			cfg, err := node.LoadConfig(f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			err = node.Run(cmd.Context(), cfg)
			if errors.Is(err, node.ErrUncleanShutdown) {
				return errSilent // logged by the node
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.DataDir, "data-dir", "./samsa-data", "directory for logs and metadata (log.dirs)")
	fl.StringVar(&f.Listen, "listen", "127.0.0.1:9092", "address to serve Kafka clients on (listeners)")
	fl.StringVar(&f.Advertised, "advertised-listen", "", "address clients are told to connect to (advertised.listeners; default: --listen)")
	fl.Int32Var(&f.NodeID, "node-id", 1, "this node's id (node.id)")
	fl.StringVar(&f.ConfigFile, "config", "", "server.properties file with Kafka setting names")
	fl.StringVar(&f.LogLevel, "log-level", "info", "debug, info, warn or error (changed at run time by PUT /admin/loggers/root)")
	fl.StringVar(&f.LogFormat, "log-format", "text", "text or json")
	fl.StringVar(&f.AdminListen, "admin-listen", node.DefaultAdminListen, "address of the admin HTTP endpoints (/metrics, /healthz, /readyz, /admin/loggers; samsa.admin.listener), https://host:port for TLS (listener.name.admin.ssl.*), or none")
	fl.StringVar(&f.MetricsListen, "metrics-listen", "", "address of a second, plain listener serving only /metrics, /healthz and /readyz (samsa.metrics.listener), so they stay open while the admin listener is secured; off by default")
	fl.StringVar(&f.RegistryListen, "registry-listen", node.DefaultRegistryListen, "address of the schema registry (Confluent's API; samsa.registry.listener), or none")
	fl.StringVar(&f.ConnectListen, "connect-listen", "none", "address of the Kafka Connect worker's REST API, host:port or https://host:port (samsa.connect.listener; TLS from listener.name.connect.ssl.*), or none (the default)")
	fl.StringVar(&f.RESTListen, "rest-listen", node.DefaultRESTListen, "address of the REST proxy (Confluent's v2 and v3 APIs; samsa.rest.listener), or none")
	fl.StringVar(&f.Pprof, "pprof", "", "serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060); off by default")
	fl.StringVar(&f.Voters, "voters", "", "metadata quorum voters, id@host:port,... (controller.quorum.voters); empty: a single-node cluster")
	fl.StringVar(&f.Roles, "roles", "", "broker, controller or broker,controller (process.roles); default: both when --node-id is a voter, else broker")
	fl.StringVar(&f.ControllerListen, "controller-listen", "", "address of this node's raft listener (the CONTROLLER listener); default: its address in --voters")
	fl.StringVar(&f.ReplicationListen, "replication-listen", "", "a second Kafka listener that followers fetch from (Kafka's inter-broker listener); default: followers use --listen")
	fl.StringArrayVar(&f.AddScram, "add-scram", nil, "create a SCRAM credential when the metadata log is new, as kafka-storage format --add-scram: 'SCRAM-SHA-256=[name=admin,password=admin-secret]' (repeatable)")
	fl.StringVar(&f.AdvertisedReplication, "advertised-replication-listen", "", "address followers are told to fetch from (default: --replication-listen)")
	return cmd
}

// applyEnv fills every flag not given on the command line from its SAMSA_
// environment twin: --data-dir from SAMSA_DATA_DIR, and so on.
func applyEnv(fl *pflag.FlagSet) error {
	var err error
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "SAMSA_" + envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if serr := fl.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", name, serr)
			}
		}
	})
	return err
}

func envName(flag string) string {
	b := []byte(flag)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
