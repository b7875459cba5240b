package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/connect"
)

// newConnectCmd returns `samsa connect`: a Kafka Connect worker with the
// REST API of Kafka Connect, against any Kafka cluster
// (internal/connect).
func newConnectCmd() *cobra.Command {
	cf := &clientFlags{}
	var listen string
	var standalone bool
	cmd := &cobra.Command{
		Use:   "connect [worker.properties [connector.properties ...]]",
		Short: "Run a Kafka Connect worker (REST API on :8083) against any Kafka cluster",
		Long: `Run a Kafka Connect worker with native Go connectors and Kafka Connect's
REST API at --listen (default 127.0.0.1:8083) for the cluster at --brokers.
The optional worker.properties takes Kafka Connect's worker settings
(bootstrap.servers, group.id, listeners, key.converter, value.converter,
offset.flush.interval.ms, offset.storage.file.filename, ...); flags given on
the command line win over it.

With --standalone, the connector property files that follow are created at
start-up and source offsets are kept in offset.storage.file.filename.

Security, by Kafka Connect's worker property names: listeners=https://HOST:PORT
(or --listen https://...) serves the REST API over TLS with
listeners.https.ssl.* or ssl.* (ssl.keystore.*, ssl.truststore.*,
ssl.client.auth); samsa.connect.authentication.method=BASIC requires the
HTTP basic credentials of a Kafka user (docs/connect.md). The worker's own
Kafka clients take the worker properties' security.protocol, sasl.* and
ssl.* as a Java worker does, --command-config / -X winning over them.
` + "`samsa serve --connect-listen HOST:PORT`" + ` embeds a worker in a node.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			if !standalone && len(args) > 1 {
				return errors.New("connector property files are for --standalone; create connectors over REST otherwise")
			}
			props := map[string]string{}
			if len(args) > 0 {
				var err error
				if props, err = readProps(args[0]); err != nil {
					return err
				}
			}
			cfg, err := connect.FromProperties(props)
			if err != nil {
				return err
			}
			if cfg.MemoryLimit > 0 {
				debug.SetMemoryLimit(cfg.MemoryLimit)
			}
			if cmd.Flags().Changed("brokers") || len(cfg.Brokers) == 0 {
				if cfg.Brokers, err = cf.seeds(cmd); err != nil {
					return err
				}
			}
			opts, clientTLS, err := workerSecurity(cmd, cf, props)
			if err != nil {
				return err
			}
			cfg.ClientOpts = opts
			https := strings.HasPrefix(strings.TrimSpace(props["listeners"]), "https://")
			if cmd.Flags().Changed("listen") || cfg.Listen == "" {
				https = strings.HasPrefix(listen, "https://")
				cfg.Listen = strings.TrimPrefix(strings.TrimPrefix(listen, "https://"), "http://")
			}
			cfg.Standalone = standalone
			if cfg.Plugins, err = connect.DefaultPlugins(); err != nil {
				return err
			}
			lv := new(slog.LevelVar)
			cfg.LogLevel = lv
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lv}))
			auth, err := connectSecurity(&cfg, props, https, clientTLS, cfg.Logger)
			if err != nil {
				return err
			}
			if auth != nil {
				defer auth.Close()
			}
			srv, err := connect.New(cfg)
			if err != nil {
				return err
			}
			return runService(cmd, "connect worker", &connectorFiles{Server: srv, files: args[min(1, len(args)):]})
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", connect.DefaultListen, "host:port or https://host:port to serve the REST API on (listeners)")
	fl.BoolVar(&standalone, "standalone", false, "run a standalone worker: connectors from the property files given, offsets in offset.storage.file.filename")
	return cmd
}

// connectorFiles is a worker that creates the connectors of property
// files once it has started (the standalone worker's arguments).
type connectorFiles struct {
	*connect.Server
	files []string
}

func (c *connectorFiles) Start(ctx context.Context) error {
	if err := c.Server.Start(ctx); err != nil {
		return err
	}
	for _, f := range c.files {
		props, err := readProps(f)
		if err == nil {
			err = c.AddConnector(props)
		}
		if err != nil {
			c.Server.Close()
			return fmt.Errorf("connector file %s: %w", f, err)
		}
	}
	return nil
}

func readProps(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props, err := config.ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return props, nil
}
