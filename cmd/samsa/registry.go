package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/registry"
)

// newRegistryCmd returns `samsa registry`: the schema registry of
// `samsa serve` run alone against any Kafka cluster (internal/registry).
func newRegistryCmd() *cobra.Command {
	cf := &clientFlags{}
	var cfg registry.Config
	var eligible bool
	var authMech string
	var authBrokers []string
	var authConfig string
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run a schema registry (Confluent's API) against any Kafka cluster",
		Long: `Run a schema registry that serves Confluent Schema Registry's REST API
(Avro, Protobuf and JSON Schema) at --listen and keeps its state in the
compacted topic --topic of the cluster at --brokers, in Confluent's record
format. Several instances with the same --group-id elect a leader; the others
forward writes to it. ` + "`samsa serve`" + ` runs the same registry on every node
(--registry-listen).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			seeds, opts, err := cf.serviceClient(cmd, kgo.ClientID("samsa-registry"))
			if err != nil {
				return err
			}
			cfg.Brokers = seeds
			cfg.ClientOpts = opts
			cfg.LeaderEligible = &eligible
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if authMech != "" {
				loginOpts, err := loginOpts(cmd, cf, authConfig, len(authBrokers) == 0)
				if err != nil {
					return err
				}
				if len(authBrokers) == 0 {
					authBrokers = seeds
				}
				auth, err := httpserve.New(httpserve.Config{Brokers: authBrokers, ClientOpts: loginOpts, Mechanism: authMech, Realm: "samsa-schema-registry"})
				if err != nil {
					return err
				}
				defer auth.Close()
				cfg.Auth = auth
			}
			reg, err := registry.New(cfg)
			if err != nil {
				return err
			}
			return runService(cmd, "schema registry", reg)
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&cfg.Listen, "listen", registry.DefaultListen, "host:port to serve the API on (listeners)")
	fl.StringVar(&cfg.AdvertisedURL, "advertised-url", "", "URL the other instances forward writes to (default http://LISTEN)")
	fl.StringVar(&cfg.Topic, "topic", "_schemas", "the store topic (kafkastore.topic)")
	fl.StringVar(&cfg.GroupID, "group-id", "schema-registry", "the election group, also the leader's transactional id (schema.registry.group.id)")
	fl.IntVar(&cfg.ReplicationFactor, "replication-factor", 3, "replication factor of a new store topic, at most the brokers (kafkastore.topic.replication.factor)")
	fl.BoolVar(&eligible, "leader-eligible", true, "this instance may become leader (leader.eligibility)")
	fl.StringVar(&authMech, "basic-auth-mechanism", "", "require HTTP basic credentials, checked by logging in to Kafka with this SASL mechanism (SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN); rights come from the ACLs of the store topic (DESCRIBE to read, WRITE to change)")
	fl.StringSliceVar(&authBrokers, "basic-auth-brokers", nil, "the SASL_PLAINTEXT or SASL_SSL listener users log in to (default --brokers, then with the TLS of --command-config)")
	fl.StringVar(&authConfig, "basic-auth-command-config", "", "client properties of the logins' connection: security.protocol=SASL_PLAINTEXT (default) or SASL_SSL with ssl.truststore.*, ssl.keystore.*, ssl.endpoint.identification.algorithm as in --command-config; no sasl.*")
	fl.DurationVar(&cfg.Timeout, "store-timeout", 10*time.Second, "bound on a write to the store (kafkastore.timeout.ms)")
	return cmd
}
