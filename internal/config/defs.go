package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type is a setting's type, numbered as DescribeConfigs v3+ numbers them.
type Type int8

// Setting types.
const (
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

// Def defines one setting.
type Def struct {
	Name string
	Type Type
	// Default is Kafka's default as a string; "" with Nullable means null.
	Default  string
	Nullable bool
	// Broker is, for a topic setting, the broker setting that supplies its
	// default.
	Broker string
	// Dynamic marks a broker setting that AlterConfigs may change at run time.
	Dynamic bool
	// ReadOnly marks a broker setting that only a restart changes.
	ReadOnly bool
	Doc      string
	check    func(string) error
}

// Check validates a value for this setting.
func (d *Def) Check(v string) error {
	if v == "" && d.Nullable {
		return nil
	}
	var err error
	switch d.Type {
	case TypeBoolean:
		if lv := strings.ToLower(v); lv != "true" && lv != "false" {
			err = fmt.Errorf("value %q is not a boolean", v)
		}
	case TypeInt:
		_, err = strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			err = fmt.Errorf("value %q is not an int", v)
		}
	case TypeShort:
		_, err = strconv.ParseInt(strings.TrimSpace(v), 10, 16)
		if err != nil {
			err = fmt.Errorf("value %q is not a short", v)
		}
	case TypeLong:
		_, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			err = fmt.Errorf("value %q is not a long", v)
		}
	case TypeDouble:
		_, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			err = fmt.Errorf("value %q is not a double", v)
		}
	}
	if err == nil && d.check != nil {
		err = d.check(v)
	}
	return err
}

func atLeast(min int64) func(string) error {
	return func(v string) error {
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if n < min {
			return fmt.Errorf("value %s must be at least %d", v, min)
		}
		return nil
	}
}

func between(min, max float64) func(string) error {
	return func(v string) error {
		f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if f < min || f > max {
			return fmt.Errorf("value %s must be between %g and %g", v, min, max)
		}
		return nil
	}
}

func oneOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, o := range opts {
			if v == o {
				return nil
			}
		}
		return fmt.Errorf("value %q must be one of %s", v, strings.Join(opts, ", "))
	}
}

func listOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if err := oneOf(opts...)(p); err != nil {
				return err
			}
		}
		return nil
	}
}

var maxLong = strconv.FormatInt(math.MaxInt64, 10)

// ipOverrides checks max.connections.per.ip.overrides: host:count pairs.
func ipOverrides(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndex(item, ":")
		if i <= 0 {
			return fmt.Errorf("%q is not host:count", item)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(item[i+1:])); err != nil || n < 0 {
			return fmt.Errorf("%q is not host:count with a count >= 0", item)
		}
	}
	return nil
}

// budgetSize checks queued.max.request.bytes: -1 (unbounded) or positive.
func budgetSize(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n == 0 || n < -1 {
		return fmt.Errorf("value %s must be -1 or positive", v)
	}
	return nil
}

// StandardAuthorizer is the authorizer.class.name Samsa implements:
// Kafka's KRaft authorizer, ACLs in the metadata log.
const StandardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

func authorizerClass(v string) error {
	if v = strings.TrimSpace(v); v != "" && v != StandardAuthorizer {
		return fmt.Errorf("authorizer %q is not available: Samsa implements %s (ACLs in the metadata log)", v, StandardAuthorizer)
	}
	return nil
}

// CompressionTypes are the values of compression.type.
var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// topicDefs are the topic settings Samsa knows, with their broker synonyms.
var topicDefs = []Def{
	{Name: "cleanup.policy", Type: TypeList, Broker: "log.cleanup.policy", check: listOf("delete", "compact"), Doc: "delete, compact, or both"},
	{Name: "compression.type", Type: TypeString, Broker: "compression.type", check: oneOf(compressionTypes...), Doc: "final compression of the topic's batches"},
	{Name: "delete.retention.ms", Type: TypeLong, Broker: "log.cleaner.delete.retention.ms", check: atLeast(0)},
	{Name: "file.delete.delay.ms", Type: TypeLong, Broker: "log.segment.delete.delay.ms", check: atLeast(0)},
	{Name: "flush.messages", Type: TypeLong, Broker: "log.flush.interval.messages", check: atLeast(1)},
	{Name: "flush.ms", Type: TypeLong, Broker: "log.flush.interval.ms", check: atLeast(0)},
	{Name: "index.interval.bytes", Type: TypeInt, Broker: "log.index.interval.bytes", check: atLeast(0)},
	{Name: "max.compaction.lag.ms", Type: TypeLong, Broker: "log.cleaner.max.compaction.lag.ms", check: atLeast(1)},
	{Name: "max.message.bytes", Type: TypeInt, Broker: "message.max.bytes", check: atLeast(0)},
	{Name: "message.timestamp.type", Type: TypeString, Broker: "log.message.timestamp.type", check: oneOf("CreateTime", "LogAppendTime")},
	{Name: "message.timestamp.before.max.ms", Type: TypeLong, Broker: "log.message.timestamp.before.max.ms", check: atLeast(0)},
	{Name: "message.timestamp.after.max.ms", Type: TypeLong, Broker: "log.message.timestamp.after.max.ms", check: atLeast(0)},
	{Name: "min.cleanable.dirty.ratio", Type: TypeDouble, Broker: "log.cleaner.min.cleanable.ratio", check: between(0, 1)},
	{Name: "min.compaction.lag.ms", Type: TypeLong, Broker: "log.cleaner.min.compaction.lag.ms", check: atLeast(0)},
	{Name: "min.insync.replicas", Type: TypeInt, Broker: "min.insync.replicas", check: atLeast(1)},
	{Name: "preallocate", Type: TypeBoolean, Broker: "log.preallocate"},
	{Name: "retention.bytes", Type: TypeLong, Broker: "log.retention.bytes"},
	{Name: "retention.ms", Type: TypeLong, Broker: "log.retention.ms", check: atLeast(-1)},
	{Name: "segment.bytes", Type: TypeInt, Broker: "log.segment.bytes", check: atLeast(14)},
	{Name: "segment.index.bytes", Type: TypeInt, Broker: "log.index.size.max.bytes", check: atLeast(4)},
	{Name: "segment.jitter.ms", Type: TypeLong, Broker: "log.roll.jitter.ms", check: atLeast(0)},
	{Name: "segment.ms", Type: TypeLong, Broker: "log.roll.ms", check: atLeast(1)},
	{Name: "unclean.leader.election.enable", Type: TypeBoolean, Broker: "unclean.leader.election.enable"},
	{Name: "leader.replication.throttled.replicas", Type: TypeList, Default: "", Doc: "partition:broker pairs (or *) whose replication the leader throttles to leader.replication.throttled.rate"},
	{Name: "follower.replication.throttled.replicas", Type: TypeList, Default: "", Doc: "partition:broker pairs (or *) whose fetching followers throttle to follower.replication.throttled.rate"},
	{Name: SchemaValidationConfig, Type: TypeString, Default: "none", check: oneOf(schemaValidationValues...), Doc: "Samsa's: which part of every produced record the broker checks against the schema registry (none, key, value or both): the key or value must start with the id of a schema registered under <topic>-key or <topic>-value (or name it in the __key_schema_id or __value_schema_id record header) and decode with it; a batch with one record that does not is refused with INVALID_RECORD"},
}

// brokerDefs are the broker settings Samsa knows. Settings the broker issue
// names keep Kafka's defaults; the rest feed topic defaults.
var brokerDefs = []Def{
	{Name: "node.id", Type: TypeInt, Default: "1", ReadOnly: true},
	{Name: "log.dirs", Type: TypeString, Nullable: true, ReadOnly: true},
	{Name: "log.dir", Type: TypeString, Default: "./samsa-data", ReadOnly: true},
	{Name: "listeners", Type: TypeString, Default: "PLAINTEXT://127.0.0.1:9092", ReadOnly: true},
	{Name: "advertised.listeners", Type: TypeString, Nullable: true, ReadOnly: true},
	{Name: "samsa.connect.listener", Type: TypeString, Default: "none", ReadOnly: true, Doc: "Samsa's Kafka Connect worker (REST API on this address, Kafka Connect's :8083 API), host:port, https://host:port (TLS from listener.name.connect.ssl.*) or none (the default)"},
	{Name: "samsa.connect.authentication.method", Type: TypeString, Default: "NONE", ReadOnly: true, check: oneOf("NONE", "BASIC"), Doc: "BASIC: the Connect REST API (but GET /) requires HTTP basic credentials of a Kafka user, checked by a SASL login to this node's SASL listener; reads need DESCRIBE, changes READ on the Group samsa-connect (docs/connect.md)"},
	{Name: "samsa.connect.authentication.sasl.mechanism", Type: TypeString, Default: "SCRAM-SHA-512", ReadOnly: true, check: oneOf("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"), Doc: "the SASL mechanism the Connect REST API's basic credentials are checked with"},
	{Name: "samsa.connect.sasl.mechanism", Type: TypeString, Default: "SCRAM-SHA-512", ReadOnly: true, check: oneOf("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"), Doc: "the SASL mechanism the embedded Connect worker's Kafka clients log in with when samsa.connect.sasl.jaas.config is set"},
	{Name: "samsa.connect.sasl.jaas.config", Type: TypePassword, Default: "", ReadOnly: true, Doc: "the embedded Connect worker's Kafka login (a ScramLoginModule or PlainLoginModule entry with username and password, as a Java worker's sasl.jaas.config); its clients then use this node's SASL listener as that user. Unset: the node's first listener, as the schema registry's clients"},
	{Name: "samsa.rest.listener", Type: TypeString, Default: "127.0.0.1:8082", ReadOnly: true, Doc: "Samsa's REST proxy (Confluent's v2 and v3 APIs), host:port or none"},
	{Name: "samsa.rest.authentication.method", Type: TypeString, Default: "NONE", ReadOnly: true, check: oneOf("NONE", "BASIC"), Doc: "BASIC: the REST proxy requires HTTP basic credentials of a Kafka user, checked by a SASL login to one of this node's SASL listeners (a loopback SASL_PLAINTEXT one first, then SASL_SSL; docs/security.md); every Kafka request of an HTTP request then runs as that user, so the broker's ACLs apply"},
	{Name: "samsa.rest.authentication.sasl.mechanism", Type: TypeString, Default: "SCRAM-SHA-512", ReadOnly: true, check: oneOf("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"), Doc: "the SASL mechanism the REST proxy's basic credentials are checked, and its users' clients log in, with"},
	{Name: "samsa.registry.authentication.method", Type: TypeString, Default: "NONE", ReadOnly: true, check: oneOf("NONE", "BASIC"), Doc: "BASIC: the schema registry requires HTTP basic credentials of a Kafka user, checked by a SASL login to one of this node's SASL listeners (a loopback SASL_PLAINTEXT one first, then SASL_SSL; docs/security.md); rights are the ACLs on _schemas"},
	{Name: "samsa.registry.authentication.sasl.mechanism", Type: TypeString, Default: "SCRAM-SHA-512", ReadOnly: true, check: oneOf("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"), Doc: "the SASL mechanism the schema registry's basic credentials are checked with"},
	{Name: "samsa.registry.listener", Type: TypeString, Default: "127.0.0.1:8081", ReadOnly: true, Doc: "Samsa's schema registry (Confluent's API), host:port or none"},
	{Name: "samsa.admin.listener", Type: TypeString, Default: "127.0.0.1:9644", ReadOnly: true, Doc: "Samsa's admin HTTP listener (/metrics, /healthz, /readyz, /admin/loggers), host:port, https://host:port (TLS from listener.name.admin.ssl.*) or none"},
	{Name: "samsa.admin.authentication.method", Type: TypeString, Default: "NONE", ReadOnly: true, check: oneOf("NONE", "BASIC"), Doc: "BASIC: the admin listener's /admin/* endpoints require HTTP basic credentials of a Kafka user, checked by a SASL login to this node's SASL listener; GET needs DESCRIBE_CONFIGS and PUT ALTER_CONFIGS on the Cluster"},
	{Name: "samsa.admin.authentication.sasl.mechanism", Type: TypeString, Default: "SCRAM-SHA-512", ReadOnly: true, check: oneOf("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"), Doc: "the SASL mechanism the admin listener's basic credentials are checked with"},
	{Name: "samsa.admin.authentication.metrics", Type: TypeBoolean, Default: "false", ReadOnly: true, Doc: "with samsa.admin.authentication.method=BASIC, /metrics also requires credentials (DESCRIBE_CONFIGS on the Cluster), on the admin and the metrics listener; /healthz and /readyz stay open"},
	{Name: "samsa.metrics.listener", Type: TypeString, Nullable: true, ReadOnly: true, Doc: "a second admin HTTP listener serving only /metrics, /healthz and /readyz, host:port or https://host:port (listener.name.metrics.ssl.*); unset: none"},
	{Name: "authorizer.class.name", Type: TypeString, Nullable: true, ReadOnly: true, check: authorizerClass, Doc: "org.apache.kafka.metadata.authorizer.StandardAuthorizer turns ACL authorization on (ACLs in the metadata log); empty: every request is allowed"},
	{Name: "super.users", Type: TypeString, Nullable: true, ReadOnly: true, Doc: "principals allowed everything, separated by semicolons (User:admin;User:broker)"},
	{Name: "allow.everyone.if.no.acl.found", Type: TypeBoolean, Default: "false", ReadOnly: true, Doc: "with an authorizer, allow a request on a resource no ACL matches"},
	{Name: "listener.security.protocol.map", Type: TypeString, Default: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", ReadOnly: true, Doc: "listener name to security protocol; a listener named like a protocol needs no entry"},
	{Name: "inter.broker.listener.name", Type: TypeString, Nullable: true, ReadOnly: true, Doc: "the listener followers fetch from (the replication listener); empty: the first listener"},
	{Name: "num.partitions", Type: TypeInt, Default: "1", check: atLeast(1), Dynamic: true},
	{Name: "default.replication.factor", Type: TypeInt, Default: "1", check: atLeast(1), Dynamic: true},
	{Name: "auto.create.topics.enable", Type: TypeBoolean, Default: "true", Dynamic: true},
	{Name: "log.retention.hours", Type: TypeInt, Default: "168", Dynamic: true},
	{Name: "log.retention.minutes", Type: TypeInt, Nullable: true, Dynamic: true},
	{Name: "log.retention.ms", Type: TypeLong, Nullable: true, check: atLeast(-1), Dynamic: true},
	{Name: "log.retention.bytes", Type: TypeLong, Default: "-1", Dynamic: true},
	{Name: "log.retention.check.interval.ms", Type: TypeLong, Default: "300000", check: atLeast(1)},
	{Name: "log.segment.bytes", Type: TypeInt, Default: "1073741824", check: atLeast(14), Dynamic: true},
	{Name: "log.roll.hours", Type: TypeInt, Default: "168", check: atLeast(1), Dynamic: true},
	{Name: "log.roll.ms", Type: TypeLong, Nullable: true, check: atLeast(1), Dynamic: true},
	{Name: "log.roll.jitter.ms", Type: TypeLong, Default: "0", Dynamic: true},
	{Name: "log.index.interval.bytes", Type: TypeInt, Default: "4096", Dynamic: true},
	{Name: "log.index.size.max.bytes", Type: TypeInt, Default: "10485760", check: atLeast(4), Dynamic: true},
	{Name: "log.segment.delete.delay.ms", Type: TypeLong, Default: "60000", Dynamic: true},
	{Name: "log.flush.interval.messages", Type: TypeLong, Default: maxLong, check: atLeast(1), Dynamic: true},
	{Name: "log.flush.interval.ms", Type: TypeLong, Nullable: true, Dynamic: true},
	{Name: "log.flush.scheduler.interval.ms", Type: TypeLong, Default: maxLong},
	{Name: "log.cleanup.policy", Type: TypeList, Default: "delete", check: listOf("delete", "compact"), Dynamic: true},
	{Name: "log.cleaner.delete.retention.ms", Type: TypeLong, Default: "86400000", Dynamic: true},
	{Name: "log.cleaner.max.compaction.lag.ms", Type: TypeLong, Default: maxLong, Dynamic: true},
	{Name: "log.cleaner.min.compaction.lag.ms", Type: TypeLong, Default: "0", Dynamic: true},
	{Name: "log.cleaner.min.cleanable.ratio", Type: TypeDouble, Default: "0.5", Dynamic: true},
	{Name: "log.cleaner.enable", Type: TypeBoolean, Default: "true", ReadOnly: true},
	{Name: "log.cleaner.io.max.bytes.per.second", Type: TypeDouble, Default: "268435456", Doc: "Kafka's default is unlimited; Samsa leaves disk bandwidth for produce and fetch"},
	{Name: "log.cleaner.backoff.ms", Type: TypeLong, Default: "15000", check: atLeast(0)},
	{Name: "log.cleaner.dedupe.buffer.size", Type: TypeLong, Default: "134217728", check: atLeast(1 << 20)},
	{Name: "log.message.timestamp.type", Type: TypeString, Default: "CreateTime", check: oneOf("CreateTime", "LogAppendTime"), Dynamic: true},
	{Name: "log.message.timestamp.before.max.ms", Type: TypeLong, Default: maxLong, Dynamic: true},
	{Name: "log.message.timestamp.after.max.ms", Type: TypeLong, Default: "3600000", Dynamic: true},
	{Name: "log.preallocate", Type: TypeBoolean, Default: "false", Dynamic: true},
	{Name: "message.max.bytes", Type: TypeInt, Default: "1048588", check: atLeast(0), Dynamic: true},
	{Name: "compression.type", Type: TypeString, Default: "producer", check: oneOf(compressionTypes...), Dynamic: true},
	{Name: "min.insync.replicas", Type: TypeInt, Default: "1", check: atLeast(1), Dynamic: true},
	{Name: "unclean.leader.election.enable", Type: TypeBoolean, Default: "false", Dynamic: true},
	{Name: "auto.leader.rebalance.enable", Type: TypeBoolean, Default: "true", ReadOnly: true},
	{Name: "eligible.leader.replicas.strict", Type: TypeBoolean, Default: "false", ReadOnly: true, Doc: "Samsa's: a broker registering after an unclean shutdown leaves every ISR and ELR, even as a partition's last candidate (KIP-966's strict rule); the partition then waits for an unclean election"},
	{Name: "leader.imbalance.check.interval.seconds", Type: TypeLong, Default: "300", check: atLeast(1), ReadOnly: true},
	{Name: "leader.imbalance.per.broker.percentage", Type: TypeInt, Default: "10", check: atLeast(0), ReadOnly: true},
	{Name: "leader.replication.throttled.rate", Type: TypeLong, Default: maxLong, check: atLeast(0), Dynamic: true, Doc: "bytes/s a leader sends to the replicas a topic lists in leader.replication.throttled.replicas"},
	{Name: "follower.replication.throttled.rate", Type: TypeLong, Default: maxLong, check: atLeast(0), Dynamic: true, Doc: "bytes/s a follower fetches for the replicas a topic lists in follower.replication.throttled.replicas"},
	{Name: "socket.request.max.bytes", Type: TypeInt, Default: "104857600", check: atLeast(1), ReadOnly: true},
	{Name: "max.connections", Type: TypeInt, Default: "2147483647", check: atLeast(0), ReadOnly: true, Doc: "connections the broker accepts in all (the replication listener's are exempt); more are closed at once"},
	{Name: "max.connections.per.ip", Type: TypeInt, Default: "2147483647", check: atLeast(0), ReadOnly: true, Doc: "connections the broker accepts from one IP address; more are closed at once"},
	{Name: "max.connection.creation.rate", Type: TypeInt, Default: "2147483647", check: atLeast(0), ReadOnly: true, Doc: "new connections per second the broker accepts; past it the acceptor waits (per-IP rates are connection_creation_rate client quotas)"},
	{Name: "quota.window.num", Type: TypeInt, Default: "11", check: atLeast(1), ReadOnly: true, Doc: "samples kept to measure client quota rates"},
	{Name: "quota.window.size.seconds", Type: TypeInt, Default: "1", check: atLeast(1), ReadOnly: true, Doc: "time span of one client quota sample"},
	{Name: "controller.quota.window.num", Type: TypeInt, Default: "11", check: atLeast(1), ReadOnly: true, Doc: "samples of the controller mutation rate"},
	{Name: "controller.quota.window.size.seconds", Type: TypeInt, Default: "1", check: atLeast(1), ReadOnly: true, Doc: "time span of one controller mutation sample"},
	{Name: "max.connections.per.ip.overrides", Type: TypeString, Default: "", check: ipOverrides, ReadOnly: true, Doc: "per-IP (or host name) exceptions to max.connections.per.ip: host:count,host:count"},
	{Name: "connections.max.idle.ms", Type: TypeLong, Default: "600000", check: atLeast(-1), ReadOnly: true, Doc: "a connection with no request for this long is closed; also bounds how long a request body may take to arrive and a response to be written (-1: no limit)"},
	{Name: "queued.max.request.bytes", Type: TypeLong, Default: "536870912", check: budgetSize, ReadOnly: true, Doc: "bytes of request bodies larger than 64 KiB, and of recompression buffers, the broker holds at once; a connection whose request does not fit waits (Kafka's default is -1, unbounded; Samsa bounds it at 512 MiB, five maximum-size requests)"},
	{Name: "offsets.topic.num.partitions", Type: TypeInt, Default: "50", check: atLeast(1), ReadOnly: true},
	{Name: "offsets.topic.replication.factor", Type: TypeShort, Default: "3", check: atLeast(1), ReadOnly: true, Doc: "capped at the number of live brokers when the topic is created"},
	{Name: "share.coordinator.state.topic.num.partitions", Type: TypeInt, Default: "50", check: atLeast(1), ReadOnly: true},
	{Name: "share.coordinator.state.topic.replication.factor", Type: TypeShort, Default: "3", check: atLeast(1), ReadOnly: true, Doc: "capped at the number of live brokers when the topic is created"},
	{Name: "share.coordinator.snapshot.update.records.per.snapshot", Type: TypeInt, Default: "500", check: atLeast(0)},
	{Name: "transaction.state.log.num.partitions", Type: TypeInt, Default: "50", check: atLeast(1), ReadOnly: true},
	{Name: "transaction.state.log.replication.factor", Type: TypeShort, Default: "3", check: atLeast(1), ReadOnly: true, Doc: "capped at the number of live brokers when the topic is created"},
	{Name: "transaction.state.log.min.isr", Type: TypeInt, Default: "2", check: atLeast(1), ReadOnly: true, Doc: "capped at the topic's replication factor"},
	{Name: "replica.lag.time.max.ms", Type: TypeLong, Default: "30000", check: atLeast(1), ReadOnly: true},
	{Name: "replica.fetch.max.bytes", Type: TypeInt, Default: "1048576", check: atLeast(0), ReadOnly: true},
	{Name: "replica.fetch.response.max.bytes", Type: TypeInt, Default: "10485760", check: atLeast(0), ReadOnly: true},
	{Name: "replica.fetch.wait.max.ms", Type: TypeInt, Default: "500", check: atLeast(0), ReadOnly: true},
	{Name: "replica.fetch.min.bytes", Type: TypeInt, Default: "1", check: atLeast(1), ReadOnly: true},
	{Name: "replica.fetch.backoff.ms", Type: TypeInt, Default: "1000", check: atLeast(0), ReadOnly: true},
	{Name: "replica.high.watermark.checkpoint.interval.ms", Type: TypeLong, Default: "5000", check: atLeast(1), ReadOnly: true},
	{Name: "controlled.shutdown.enable", Type: TypeBoolean, Default: "true", ReadOnly: true},
	{Name: "transaction.state.log.segment.bytes", Type: TypeInt, Default: "104857600", check: atLeast(1), ReadOnly: true},
	{Name: "transaction.max.timeout.ms", Type: TypeInt, Default: "900000", check: atLeast(1), ReadOnly: true},
	{Name: "transactional.id.expiration.ms", Type: TypeInt, Default: "604800000", check: atLeast(1), ReadOnly: true},
	{Name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", Type: TypeInt, Default: "10000", check: atLeast(1), ReadOnly: true},
	{Name: "transaction.remove.expired.transaction.cleanup.interval.ms", Type: TypeInt, Default: "3600000", check: atLeast(1), ReadOnly: true},
	{Name: "producer.id.expiration.ms", Type: TypeInt, Default: "86400000", check: atLeast(1), Dynamic: true, Doc: "idempotent producer ids with no ongoing transaction whose last batch timestamp is older than this are forgotten by each partition"},
	{Name: "producer.id.expiration.check.interval.ms", Type: TypeInt, Default: "600000", check: atLeast(1), ReadOnly: true, Doc: "how often partitions look for expired producer ids (internal in Kafka)"},
	{Name: "group.initial.rebalance.delay.ms", Type: TypeInt, Default: "3000", check: atLeast(0)},
	{Name: "broker.rack", Type: TypeString, Nullable: true, ReadOnly: true},
	{Name: "process.roles", Type: TypeList, Default: "broker,controller", ReadOnly: true},
	{Name: "controller.quorum.voters", Type: TypeList, Nullable: true, ReadOnly: true},
	{Name: "controller.listener.names", Type: TypeList, Default: "CONTROLLER", ReadOnly: true, Doc: "the name, in listeners, of the raft listener (the first one is used)"},
	{Name: "broker.heartbeat.interval.ms", Type: TypeInt, Default: "2000", check: atLeast(1), ReadOnly: true},
	{Name: "broker.session.timeout.ms", Type: TypeInt, Default: "9000", check: atLeast(1), ReadOnly: true},
	{Name: "num.network.threads", Type: TypeInt, Default: "3", ReadOnly: true, Doc: "accepted for compatibility; Samsa uses a goroutine per connection"},
	{Name: "num.io.threads", Type: TypeInt, Default: "8", ReadOnly: true, Doc: "accepted for compatibility; Samsa uses a goroutine per connection"},
	{Name: "delete.topic.enable", Type: TypeBoolean, Default: "true", ReadOnly: true},
	{Name: "group.max.size", Type: TypeInt, Default: "2147483647", check: atLeast(1)},
	{Name: "group.min.session.timeout.ms", Type: TypeInt, Default: "6000"},
	{Name: "group.max.session.timeout.ms", Type: TypeInt, Default: "1800000"},
	{Name: "offsets.retention.minutes", Type: TypeInt, Default: "10080", check: atLeast(1)},
	{Name: "offsets.retention.check.interval.ms", Type: TypeLong, Default: "600000", check: atLeast(1)},
	{Name: "offset.metadata.max.bytes", Type: TypeInt, Default: "4096"},
	{Name: "group.consumer.session.timeout.ms", Type: TypeInt, Default: "45000", check: atLeast(1)},
	{Name: "group.consumer.heartbeat.interval.ms", Type: TypeInt, Default: "5000", check: atLeast(1)},
	{Name: "group.consumer.max.size", Type: TypeInt, Default: "2147483647", check: atLeast(1)},
	{Name: "group.consumer.assignors", Type: TypeList, Default: "uniform,range"},
	{Name: "group.consumer.migration.policy", Type: TypeString, Default: "bidirectional", check: oneOf("disabled", "downgrade", "upgrade", "bidirectional")},
	{Name: "group.share.session.timeout.ms", Type: TypeInt, Default: "45000", check: atLeast(1)},
	{Name: "group.share.heartbeat.interval.ms", Type: TypeInt, Default: "5000", check: atLeast(1)},
	{Name: "group.share.max.size", Type: TypeInt, Default: "200", check: atLeast(1)},
	{Name: "group.share.record.lock.duration.ms", Type: TypeInt, Default: "30000", check: atLeast(1000)},
	{Name: "group.share.delivery.count.limit", Type: TypeInt, Default: "5", check: atLeast(2)},
	{Name: "group.share.partition.max.record.locks", Type: TypeInt, Default: "2000", check: atLeast(100)},
	{Name: "group.share.max.share.sessions", Type: TypeInt, Default: "2000", check: atLeast(1)},
}

// TopicDef returns the definition of a topic setting.
func TopicDef(name string) (*Def, bool) { return findDef(topicDefs, name) }

// TopicDefs returns every topic setting definition, in Kafka's order.
func TopicDefs() []Def { return topicDefs }

// BrokerDef returns the definition of a broker setting.
func BrokerDef(name string) (*Def, bool) { return findDef(brokerDefs, name) }

// BrokerDefs returns every broker setting definition.
func BrokerDefs() []Def { return brokerDefs }

func findDef(defs []Def, name string) (*Def, bool) {
	for i := range defs {
		if defs[i].Name == name {
			return &defs[i], true
		}
	}
	return nil, false
}

// ValidateTopicConfigs checks topic overrides as CreateTopics and
// AlterConfigs do, naming the key and the reason on error.
func ValidateTopicConfigs(cfg map[string]string) error {
	for k, v := range cfg {
		d, ok := TopicDef(k)
		if !ok {
			return fmt.Errorf("unknown topic config name: %s", k)
		}
		if err := d.Check(v); err != nil {
			return fmt.Errorf("invalid value %s for configuration %s: %w", v, k, err)
		}
	}
	return nil
}
