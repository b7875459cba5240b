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
	sec := &restSecurityFlags{}
	var cfg restproxy.Config
	cmd := &cobra.Command{
		Use:   "rest",
		Short: "Run a REST proxy (Confluent's v2 and v3 APIs) against any Kafka cluster",
		Long: `Run a REST proxy that serves Confluent REST Proxy's v2 and v3 APIs, plus
consuming over v3, at --listen for the cluster at --brokers. The avro,
jsonschema and protobuf formats use the schema registry at --schema-registry-url.
--listen https://… serves HTTPS with the listener.name.rest.ssl.* settings of
--config; --basic-auth-mechanism (or samsa.rest.authentication.method=BASIC in
--config) requires the basic credentials of a Kafka user and runs each
request's Kafka requests as that user.
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
			loginOpts, err := loginOpts(cmd, cf, sec.authConfig, len(sec.authBrokers) == 0)
			if err != nil {
				return err
			}
			auth, err := sec.apply(&cfg, seeds, loginOpts, cfg.Logger)
			if err != nil {
				return err
			}
			if auth != nil {
				defer auth.Close()
			}
			srv, err := restproxy.New(cfg)
			if err != nil {
				return err
			}
			return runService(cmd, "rest proxy", srv)
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&cfg.Listen, "listen", restproxy.DefaultListen, "host:port to serve the API on, https://host:port for HTTPS (listeners)")
	fl.StringVar(&sec.configFile, "config", "", "properties file with the proxy's server-side security settings, named as for `samsa serve`: listener.name.rest.ssl.* (or ssl.*) for --listen https://…, samsa.rest.authentication.method=BASIC and samsa.rest.authentication.sasl.mechanism")
	fl.StringVar(&sec.authMech, "basic-auth-mechanism", "", "require HTTP basic credentials, checked by logging in to Kafka with this SASL mechanism (SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN); each request's Kafka requests then run as its user, so the broker's ACLs apply")
	fl.StringSliceVar(&sec.authBrokers, "basic-auth-brokers", nil, "the SASL_PLAINTEXT or SASL_SSL listener users log in to and their clients use (default --brokers, then with the TLS of --command-config)")
	fl.StringVar(&sec.authConfig, "basic-auth-command-config", "", "client properties of the logins' and the users' connections: security.protocol=SASL_PLAINTEXT (default) or SASL_SSL with ssl.truststore.*, ssl.keystore.*, ssl.endpoint.identification.algorithm as in --command-config; no sasl.*")
	fl.StringVar(&cfg.AdvertisedURL, "advertised-url", "", "base of the URLs handed out, e.g. consumer base_uri (default http://LISTEN)")
	fl.StringVar(&cfg.RegistryURL, "schema-registry-url", "", "schema registry for the avro, jsonschema and protobuf formats (schema.registry.url)")
	fl.DurationVar(&cfg.ConsumerInstanceTimeout, "consumer-instance-timeout", 5*time.Minute, "idle consumer instances are closed after this (consumer.instance.timeout.ms)")
	fl.DurationVar(&cfg.ConsumerRequestTimeout, "consumer-request-timeout", time.Second, "default wait of GET records (consumer.request.timeout.ms)")
	fl.Int64Var(&cfg.MaxRequestBytes, "max-request-bytes", 64<<20, "largest request body that is not streamed (max.request.size)")
	return cmd
}
