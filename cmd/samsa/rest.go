package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/restproxy"
)

// newRESTCmd returns `samsa rest`: the REST proxy of `samsa serve` run
// alone against any Kafka cluster (internal/restproxy).
func newRESTCmd() *cobra.Command {
	cf := &clientFlags{}
	var cfg restproxy.Config
	cmd := &cobra.Command{
		Use:   "rest",
		Short: "Run a REST proxy (Confluent's v2 and v3 APIs) against any Kafka cluster",
		Long: `Run a REST proxy that serves Confluent REST Proxy's v2 and v3 APIs, plus
consuming over v3, at --listen for the cluster at --brokers. The avro,
jsonschema and protobuf formats use the schema registry at --schema-registry-url.
` + "`samsa serve`" + ` runs the same proxy on every node (--rest-listen).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			seeds, opts, err := cf.serviceClient(cmd)
			if err != nil {
				return err
			}
			cfg.Brokers = seeds
			cfg.ClientOpts = opts
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			srv, err := restproxy.New(cfg)
			if err != nil {
				return err
			}
			return runService(cmd, "rest proxy", srv)
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&cfg.Listen, "listen", restproxy.DefaultListen, "host:port to serve the API on (listeners)")
	fl.StringVar(&cfg.AdvertisedURL, "advertised-url", "", "base of the URLs handed out, e.g. consumer base_uri (default http://LISTEN)")
	fl.StringVar(&cfg.RegistryURL, "schema-registry-url", "", "schema registry for the avro, jsonschema and protobuf formats (schema.registry.url)")
	fl.DurationVar(&cfg.ConsumerInstanceTimeout, "consumer-instance-timeout", 5*time.Minute, "idle consumer instances are closed after this (consumer.instance.timeout.ms)")
	fl.DurationVar(&cfg.ConsumerRequestTimeout, "consumer-request-timeout", time.Second, "default wait of GET records (consumer.request.timeout.ms)")
	fl.Int64Var(&cfg.MaxRequestBytes, "max-request-bytes", 64<<20, "largest request body that is not streamed (max.request.size)")
	return cmd
}
