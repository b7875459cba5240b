package connect

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	pub "github.com/samsa-streaming/samsa/connect"
)

// clientKind is one of the Kafka clients a task uses, named by the
// prefix of its settings: worker properties "consumer.session.timeout.ms",
// connector settings "consumer.override.session.timeout.ms".
type clientKind string

const (
	consumerClient clientKind = "consumer"
	producerClient clientKind = "producer"
	adminClient    clientKind = "admin"
)

// Source producers buffer at most this many records (franz-go's default
// is 50,000): with buffer.memory it bounds what an unthrottled source
// keeps in memory waiting to be sent.
const sourceMaxBufferedRecords = 10000

// javaClientDefaults are the settings Java's Worker gives its task
// clients before the worker's and the connector's: a sink consumer starts
// at the earliest offset, a source producer waits for all replicas, one
// request in flight, not idempotent, and buffers 32 MiB.
func javaClientDefaults(kind clientKind, task TaskID) map[string]string {
	switch kind {
	case consumerClient:
		return map[string]string{"auto.offset.reset": "earliest", "max.poll.records": "500",
			"client.id": "connector-consumer-" + task.String()}
	case producerClient:
		return map[string]string{"acks": "all", "enable.idempotence": "false",
			"max.in.flight.requests.per.connection": "1", "buffer.memory": "33554432",
			"linger.ms": "5", "client.id": "connector-producer-" + task.String()}
	}
	return map[string]string{}
}

// overridePolicy is connector.client.config.override.policy: All (Java
// 4.4's default), None, Principal or Allowlist (with
// connector.client.config.override.allowlist).
type overridePolicy struct {
	name  string
	allow map[string]bool // Allowlist's names; nil otherwise
}

// principalSetting says whether the Principal policy lets connectors
// change a setting.
func principalSetting(name string) bool {
	switch name {
	case "sasl.jaas.config", "sasl.mechanism", "security.protocol":
		return true
	}
	return false
}

func parseOverridePolicy(props map[string]string) (overridePolicy, error) {
	s := strings.TrimSpace(props["connector.client.config.override.policy"])
	s = strings.TrimSuffix(strings.TrimPrefix(s, "org.apache.kafka.connect.connector.policy."), "ConnectorClientConfigOverridePolicy")
	switch s {
	case "", "All":
		return overridePolicy{name: "All"}, nil
	case "None", "Principal":
		return overridePolicy{name: s}, nil
	case "Allowlist":
		p := overridePolicy{name: s, allow: map[string]bool{}}
		for _, k := range strings.Split(props["connector.client.config.override.allowlist"], ",") {
			if k = strings.TrimSpace(k); k != "" {
				p.allow[k] = true
			}
		}
		return p, nil
	}
	return overridePolicy{}, fmt.Errorf("connector.client.config.override.policy %q: want All, None, Principal or Allowlist", props["connector.client.config.override.policy"])
}

func (p overridePolicy) allows(name string) bool {
	switch p.name {
	case "All":
		return true
	case "Principal":
		return principalSetting(name)
	case "Allowlist":
		return p.allow[name]
	}
	return false
}

// overrideErrors checks a connector's <kind>.override.* settings against
// the policy and the settings' types; it returns the errors by prefixed
// name (every override given has an entry).
func overrideErrors(workerProps, conn map[string]string, kind clientKind) map[string][]string {
	pol, _ := parseOverridePolicy(workerProps) // the worker's config was validated
	prefix := string(kind) + ".override."
	out := map[string][]string{}
	for k, v := range conn {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		out[k] = nil
		if !pol.allows(name) {
			out[k] = append(out[k], fmt.Sprintf("The '%s' policy does not allow '%s' to be overridden in the connector configuration.", pol.name, name))
			continue
		}
		if _, _, err := clientSetting(kind, name, v, nil); err != nil {
			out[k] = append(out[k], err.Error())
		}
	}
	return out
}

// clientSettings merges Java's defaults, the worker's <kind>.* properties
// and the connector's <kind>.override.* settings (those the policy
// allows; creation refused the others).
func clientSettings(workerProps, conn map[string]string, kind clientKind, task TaskID) map[string]string {
	out := javaClientDefaults(kind, task)
	prefix := string(kind) + "."
	for k, v := range workerProps {
		if name, ok := strings.CutPrefix(k, prefix); ok && !strings.HasPrefix(name, "override.") {
			out[name] = v
		}
	}
	pol, _ := parseOverridePolicy(workerProps)
	for k, v := range conn {
		if name, ok := strings.CutPrefix(k, prefix+"override."); ok && pol.allows(name) {
			out[name] = v
		}
	}
	return out
}

// clientConf is what a client's settings turn into.
type clientConf struct {
	opts           []kgo.Opt
	maxPollRecords int    // consumer: records per poll
	groupID        string // consumer: group.id override
	idempotent     bool   // producer: enable.idempotence
}

// buildClient turns settings into franz-go options. Settings it does not
// know are logged and ignored (lg nil: only checked); bad values are
// errors.
func buildClient(kind clientKind, settings map[string]string, lg *slog.Logger) (clientConf, error) {
	c := clientConf{maxPollRecords: 500}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	inflight := 0
	acksAll := true
	for _, k := range names {
		opt, known, err := clientSetting(kind, k, settings[k], &c)
		if err != nil {
			return c, err
		}
		switch k {
		case "max.in.flight.requests.per.connection":
			inflight, _ = strconv.Atoi(strings.TrimSpace(settings[k]))
			continue
		case "acks":
			acksAll = isAcksAll(settings[k])
		}
		if !known && lg != nil {
			lg.Warn("client setting not supported; ignored", "client", string(kind), "setting", k)
		}
		if opt != nil {
			c.opts = append(c.opts, opt)
		}
	}
	if kind != producerClient {
		return c, nil
	}
	switch {
	case c.idempotent && !acksAll:
		return c, fmt.Errorf("must set acks to all in order to use the idempotent producer")
	case c.idempotent && inflight > 5:
		return c, fmt.Errorf("must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer")
	case !c.idempotent:
		c.opts = append(c.opts, kgo.DisableIdempotentWrite())
		if inflight > 0 {
			c.opts = append(c.opts, kgo.MaxProduceRequestsInflightPerBroker(inflight))
		}
	}
	return c, nil
}

func isAcksAll(v string) bool {
	v = strings.TrimSpace(v)
	return v == "all" || v == "-1"
}

// clientSetting maps one Kafka client setting to a franz-go option
// (nil for settings with no option, or applied to c); known is false for
// settings Samsa does not map.
func clientSetting(kind clientKind, k, v string, c *clientConf) (opt kgo.Opt, known bool, err error) {
	v = strings.TrimSpace(v)
	if c == nil {
		c = &clientConf{}
	}
	if opt, known, err = commonSetting(k, v); known || err != nil {
		return opt, known, err
	}
	switch kind {
	case consumerClient:
		return consumerSetting(k, v, c)
	case producerClient:
		return producerSetting(k, v, c)
	}
	return nil, false, nil
}

// ignoredSetting says whether a setting is accepted without a warning:
// Samsa's clients have nothing to set for it (serialization is the
// converters', blocking is franz-go's own, sinks commit themselves).
func ignoredSetting(name string) bool {
	switch name {
	case "key.serializer", "value.serializer", "key.deserializer", "value.deserializer",
		"max.block.ms", "enable.auto.commit":
		return true
	}
	return false
}

func commonSetting(k, v string) (kgo.Opt, bool, error) {
	switch k {
	case "client.id":
		return kgo.ClientID(v), true, nil
	case "bootstrap.servers":
		var seeds []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				seeds = append(seeds, s)
			}
		}
		if len(seeds) == 0 {
			return nil, true, invalidValue(k, v, "Empty list")
		}
		return kgo.SeedBrokers(seeds...), true, nil
	}
	return nil, ignoredSetting(k), nil
}

func consumerSetting(k, v string, c *clientConf) (kgo.Opt, bool, error) {
	switch k {
	case "session.timeout.ms":
		d, err := msSetting(k, v)
		return kgo.SessionTimeout(d), true, err
	case "heartbeat.interval.ms":
		d, err := msSetting(k, v)
		return kgo.HeartbeatInterval(d), true, err
	case "max.poll.interval.ms":
		d, err := msSetting(k, v)
		return kgo.RebalanceTimeout(d), true, err
	case "request.timeout.ms":
		d, err := msSetting(k, v)
		return kgo.RequestTimeoutOverhead(d), true, err
	case "fetch.max.wait.ms":
		d, err := msSetting(k, v)
		return kgo.FetchMaxWait(d), true, err
	case "fetch.min.bytes":
		n, err := intSetting(k, v, 1)
		return kgo.FetchMinBytes(int32(n)), true, err
	case "fetch.max.bytes":
		n, err := intSetting(k, v, 1)
		return kgo.FetchMaxBytes(int32(n)), true, err
	case "max.partition.fetch.bytes":
		n, err := intSetting(k, v, 1)
		return kgo.FetchMaxPartitionBytes(int32(n)), true, err
	case "max.poll.records":
		n, err := intSetting(k, v, 1)
		c.maxPollRecords = int(n)
		return nil, true, err
	case "group.id":
		c.groupID = v
		return nil, true, nil
	case "auto.offset.reset":
		switch strings.ToLower(v) {
		case "earliest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), true, nil
		case "latest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), true, nil
		case "none":
			return kgo.ConsumeResetOffset(kgo.NoResetOffset()), true, nil
		}
		return nil, true, invalidValue(k, v, "String must be one of: earliest, latest, none")
	case "isolation.level":
		switch strings.ToLower(v) {
		case "read_uncommitted":
			return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), true, nil
		case "read_committed":
			return kgo.FetchIsolationLevel(kgo.ReadCommitted()), true, nil
		}
		return nil, true, invalidValue(k, v, "String must be one of: read_committed, read_uncommitted")
	}
	return nil, false, nil
}

func producerSetting(k, v string, c *clientConf) (kgo.Opt, bool, error) {
	switch k {
	case "linger.ms":
		d, err := msSetting(k, v)
		return kgo.ProducerLinger(d), true, err
	case "request.timeout.ms":
		d, err := msSetting(k, v)
		return kgo.ProduceRequestTimeout(max(d, 100*time.Millisecond)), true, err
	case "delivery.timeout.ms":
		d, err := msSetting(k, v)
		switch {
		case d >= time.Duration(1<<31-1)*time.Millisecond: // Java's "forever"
			d = 0
		case d > 0 && d < time.Second: // franz-go's least
			d = time.Second
		}
		return kgo.RecordDeliveryTimeout(d), true, err
	case "batch.size":
		n, err := intSetting(k, v, 0)
		return kgo.ProducerBatchMaxBytes(int32(max(n, 1<<10))), true, err
	case "buffer.memory":
		n, err := intSetting(k, v, 0)
		return kgo.MaxBufferedBytes(int(n)), true, err
	case "max.in.flight.requests.per.connection":
		_, err := intSetting(k, v, 1)
		return nil, true, err // applied by buildClient
	case "enable.idempotence":
		b, err := boolSetting(k, v)
		c.idempotent = b
		return nil, true, err
	case "acks":
		switch v {
		case "all", "-1":
			return kgo.RequiredAcks(kgo.AllISRAcks()), true, nil
		case "1":
			return kgo.RequiredAcks(kgo.LeaderAck()), true, nil
		case "0":
			return kgo.RequiredAcks(kgo.NoAck()), true, nil
		}
		return nil, true, invalidValue(k, v, "String must be one of: all, -1, 0, 1")
	case "compression.type":
		codec, ok := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
			"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[strings.ToLower(v)]
		if !ok {
			return nil, true, invalidValue(k, v, "String must be one of: none, gzip, snappy, lz4, zstd")
		}
		return kgo.ProducerBatchCompression(codec), true, nil
	}
	return nil, false, nil
}

// invalidValue is Java's ConfigException message.
func invalidValue(k, v, why string) error {
	return fmt.Errorf("Invalid value %s for configuration %s: %s", v, k, why)
}

func intSetting(k, v string, least int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, invalidValue(k, v, "Not a number of type INT")
	}
	if n < least {
		return 0, invalidValue(k, v, fmt.Sprintf("Value must be at least %d", least))
	}
	return n, nil
}

func msSetting(k, v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, invalidValue(k, v, "Not a number of type LONG")
	}
	if n < 0 {
		return 0, invalidValue(k, v, "Value must be at least 0")
	}
	return time.Duration(n) * time.Millisecond, nil
}

func boolSetting(k, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidValue(k, v, "Expected value to be either true or false")
}

// workerClientErrors checks the worker's consumer.*, producer.* and
// admin.* properties and its override policy.
func workerClientErrors(props map[string]string) []error {
	var errs []error
	if _, err := parseOverridePolicy(props); err != nil {
		errs = append(errs, err)
	}
	for _, kind := range []clientKind{consumerClient, producerClient, adminClient} {
		settings := clientSettings(props, nil, kind, TaskID{})
		if _, err := buildClient(kind, settings, nil); err != nil {
			errs = append(errs, fmt.Errorf("worker %s settings: %w", kind, err))
		}
	}
	return errs
}

// overrideInfos adds the connector's client overrides to a validation
// (Java validates a source's producer.override.*, a sink's
// consumer.override.*, and admin.override.* of both against the
// worker's connector.client.config.override.policy).
func overrideInfos(out *ConfigInfos, workerProps, conn map[string]string, kind pub.Kind) {
	kinds := []clientKind{producerClient, adminClient}
	if kind == pub.KindSink {
		kinds[0] = consumerClient
	}
	for _, ck := range kinds {
		errs := overrideErrors(workerProps, conn, ck)
		names := make([]string, 0, len(errs))
		for k := range errs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v := conn[k]
			key := pub.ConfigKey{Name: k, Type: pub.TypeString, Importance: pub.Low, Width: pub.WidthNone,
				Documentation: "A " + string(ck) + " client setting of the connector's tasks.", DisplayName: k}
			out.ErrorCount += len(errs[k])
			out.Configs = append(out.Configs, ConfigInfo{Definition: keyInfo(key),
				Value: valueInfo(key, &pub.ConfigValue{Name: k, Value: v, Errors: errs[k], Visible: true})})
		}
	}
}
