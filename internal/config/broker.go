package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Broker is a broker's static configuration. Values holds every known
// broker setting, resolved to its Kafka default where not set; the typed
// fields are derived from it by Resolve.
type Broker struct {
	// Values is every broker setting by Kafka name.
	Values map[string]string
	// Set names the settings the user gave (file or flags); the rest are
	// defaults. DescribeConfigs reports STATIC_BROKER_CONFIG for these.
	Set map[string]bool
	// Unknown holds the settings the user gave that Samsa does not define
	// (LoadFile), so that Validate can refuse the unimplemented ones that
	// protect the broker (protect.go).
	Unknown map[string]string

	NodeID     int32
	DataDir    string
	Listen     string // host:port of the first Kafka listener
	Advertised string // host:port
	// Listeners are the Kafka listeners (listeners.go), the first one
	// Listen's; InterBrokerListener names the one followers fetch from
	// (inter.broker.listener.name; "": the first).
	Listeners                []Listener
	InterBrokerListener      string
	NumPartitions            int32
	DefaultReplicationFactor int16
	AutoCreateTopics         bool
	MessageMaxBytes          int32
	SocketRequestMaxBytes    int32
	// Connection limits (Kafka's names); see their Docs in defs.go.
	MaxConnections               int32
	MaxConnectionsPerIP          int32
	MaxConnectionsPerIPOverrides string
	ConnectionsMaxIdleMs         int64
	QueuedMaxRequestBytes        int64 // -1: unbounded
	RetentionCheckIntervalMs     int64
	OffsetsTopicPartitions       int32
	TxnStatePartitions           int32
	Rack                         string
}

// Defaults returns a broker configuration holding Kafka's defaults, with the
// data directory at ./samsa-data.
func (Broker) Defaults() Broker {
	b := Broker{Values: make(map[string]string), Set: make(map[string]bool)}
	for _, d := range brokerDefs {
		b.Values[d.Name] = d.Default
	}
	if err := b.Resolve(); err != nil {
		panic("config: defaults do not resolve: " + err.Error())
	}
	return b
}

// LoadFile reads a server.properties file into b. It returns the names it
// does not know, also kept in b.Unknown; the caller warns about each
// (Validate refuses those that protect the broker).
func (b *Broker) LoadFile(path string) (unknown []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	props, err := ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := BrokerDef(k); !ok {
			unknown = append(unknown, k)
			if b.Unknown == nil {
				b.Unknown = map[string]string{}
			}
			b.Unknown[k] = props[k]
			continue
		}
		if err := b.SetValue(k, props[k]); err != nil {
			return unknown, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	return unknown, nil
}

// SetValue sets one known broker setting after checking its value.
func (b *Broker) SetValue(name, value string) error {
	d, ok := BrokerDef(name)
	if !ok {
		return fmt.Errorf("unknown broker config %s", name)
	}
	value = strings.TrimSpace(value)
	if err := d.Check(value); err != nil {
		return fmt.Errorf("invalid value for %s: %w", name, err)
	}
	b.Values[name] = value
	b.Set[name] = true
	return nil
}

// Resolve derives the typed fields from Values.
func (b *Broker) Resolve() error {
	var errs []error
	geti := func(name string) int64 {
		n, err := strconv.ParseInt(b.Values[name], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", name, b.Values[name]))
		}
		return n
	}
	b.NodeID = int32(geti("node.id"))
	b.DataDir = b.Values["log.dir"]
	if dirs := b.Values["log.dirs"]; dirs != "" {
		parts := strings.Split(dirs, ",")
		if len(parts) > 1 {
			errs = append(errs, fmt.Errorf("log.dirs: Samsa supports one log directory, got %d", len(parts)))
		}
		b.DataDir = strings.TrimSpace(parts[0])
	}
	var err error
	if err = b.resolveListeners(); err != nil {
		errs = append(errs, err)
	}
	b.NumPartitions = int32(geti("num.partitions"))
	b.DefaultReplicationFactor = int16(geti("default.replication.factor"))
	b.AutoCreateTopics = strings.EqualFold(b.Values["auto.create.topics.enable"], "true")
	b.MessageMaxBytes = int32(geti("message.max.bytes"))
	b.SocketRequestMaxBytes = int32(geti("socket.request.max.bytes"))
	b.MaxConnections = int32(geti("max.connections"))
	b.MaxConnectionsPerIP = int32(geti("max.connections.per.ip"))
	b.MaxConnectionsPerIPOverrides = b.Values["max.connections.per.ip.overrides"]
	b.ConnectionsMaxIdleMs = geti("connections.max.idle.ms")
	b.QueuedMaxRequestBytes = geti("queued.max.request.bytes")
	b.RetentionCheckIntervalMs = geti("log.retention.check.interval.ms")
	b.OffsetsTopicPartitions = int32(geti("offsets.topic.num.partitions"))
	b.TxnStatePartitions = int32(geti("transaction.state.log.num.partitions"))
	b.Rack = b.Values["broker.rack"]
	return errors.Join(errs...)
}

// Validate checks the resolved configuration, and refuses settings that
// would protect the broker but are not implemented (protect.go).
func (b *Broker) Validate() error {
	var errs []error
	if err := b.checkProtections(); err != nil {
		errs = append(errs, err)
	}
	if b.NodeID < 0 {
		errs = append(errs, fmt.Errorf("node.id must be >= 0, got %d", b.NodeID))
	}
	if b.DataDir == "" {
		errs = append(errs, errors.New("log.dirs must not be empty"))
	}
	if b.SocketRequestMaxBytes <= 0 {
		errs = append(errs, errors.New("socket.request.max.bytes must be positive"))
	}
	return errors.Join(errs...)
}

// listenerAddr takes Kafka's "PLAINTEXT://host:port" (first listener only) or
// a bare host:port and returns host:port.
// TopicDefault returns the broker-level default of a topic setting, and the
// broker setting it came from.
func (b *Broker) TopicDefault(topicKey string) (value, brokerKey string) {
	d, ok := TopicDef(topicKey)
	if !ok {
		return "", ""
	}
	if d.Broker == "" {
		// A topic-only setting: its own default.
		return d.Default, d.Name
	}
	switch d.Broker {
	case "log.retention.ms":
		if v := b.Values["log.retention.ms"]; v != "" {
			return v, "log.retention.ms"
		}
		if v := b.Values["log.retention.minutes"]; v != "" {
			n, _ := strconv.ParseInt(v, 10, 64)
			return strconv.FormatInt(n*60_000, 10), "log.retention.minutes"
		}
		n, _ := strconv.ParseInt(b.Values["log.retention.hours"], 10, 64)
		return strconv.FormatInt(n*3_600_000, 10), "log.retention.hours"
	case "log.roll.ms":
		if v := b.Values["log.roll.ms"]; v != "" {
			return v, "log.roll.ms"
		}
		n, _ := strconv.ParseInt(b.Values["log.roll.hours"], 10, 64)
		return strconv.FormatInt(n*3_600_000, 10), "log.roll.hours"
	case "log.flush.interval.ms":
		if v := b.Values["log.flush.interval.ms"]; v != "" {
			return v, "log.flush.interval.ms"
		}
		return strconv.FormatInt(math.MaxInt64, 10), "log.flush.scheduler.interval.ms"
	}
	return b.Values[d.Broker], d.Broker
}

// Int returns the named setting as an integer, or def when it is unset or
// not a number.
func (b *Broker) Int(name string, def int64) int64 {
	v, ok := b.Values[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// Bool returns the named setting as a boolean: true only for "true" in
// any case.
func (b *Broker) Bool(name string) bool {
	return strings.EqualFold(strings.TrimSpace(b.Values[name]), "true")
}
