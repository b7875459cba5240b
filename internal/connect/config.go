package connect

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	pub "github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// DefaultListen is where a worker serves its REST API unless told
// otherwise: Kafka Connect's port, on loopback.
const DefaultListen = "127.0.0.1:8083"

// Config configures a Worker. Props holds the worker properties by
// Java's names; the typed fields are parsed from it by FromProperties
// (or set directly, as the node does).
type Config struct {
	// Props are the worker properties as given (converter settings are
	// read from them by prefix: key.converter.schemas.enable, …).
	Props map[string]string
	// Listen is the REST address, host:port (listeners).
	Listen string
	// AdvertisedURL is the URL other workers forward requests to
	// (rest.advertised.*); default http://<bound address>.
	AdvertisedURL string
	// Brokers are the Kafka bootstrap addresses (bootstrap.servers).
	Brokers []string
	// ClientOpts are extra franz-go options (TLS, SASL) for every client.
	ClientOpts []kgo.Opt
	// Standalone runs without a group: connectors from files and REST,
	// offsets in OffsetFile.
	Standalone bool
	// OffsetFile is offset.storage.file.filename (standalone); "" keeps
	// offsets in memory.
	OffsetFile string
	// GroupID is group.id (distributed), default connect-cluster.
	GroupID string
	// ConfigTopic, OffsetTopic, StatusTopic are the internal topics
	// (config.storage.topic, …).
	ConfigTopic, OffsetTopic, StatusTopic string
	// OffsetFlushInterval is offset.flush.interval.ms (default 60 s);
	// OffsetFlushTimeout offset.flush.timeout.ms (default 5 s).
	OffsetFlushInterval time.Duration
	OffsetFlushTimeout  time.Duration
	// ShutdownTimeout is task.shutdown.graceful.timeout.ms (default 5 s).
	ShutdownTimeout time.Duration
	// ExactlyOnceSource is exactly.once.source.support=enabled.
	ExactlyOnceSource bool
	// RebalanceDelay is scheduled.rebalance.max.delay.ms (default 5 min).
	RebalanceDelay time.Duration
	// SinkSessionTimeout and SinkHeartbeatInterval are the sink tasks'
	// consumer.session.timeout.ms and consumer.heartbeat.interval.ms
	// (0: the client's defaults, 45 s and 3 s): how long partitions of a
	// worker killed stay assigned to it.
	SinkSessionTimeout, SinkHeartbeatInterval time.Duration
	// NoTopicTracking is topic.tracking.enable=false, NoTopicReset
	// topic.tracking.allow.reset=false.
	NoTopicTracking, NoTopicReset bool
	// Plugins are the connectors, converters, transformations and
	// predicates the worker knows.
	Plugins *pub.Registry
	// Logger is where the worker logs; LogLevel, when set, is changed by
	// PUT /admin/loggers/root.
	Logger   *slog.Logger
	LogLevel *slog.LevelVar
	// ClusterID is shown by GET /; "" asks the brokers.
	ClusterID string
	// MemoryLimit is samsa.memory.limit.mb in bytes: the soft memory
	// limit (runtime/debug.SetMemoryLimit) `samsa connect` sets for its
	// process; 0 leaves Go's default (GOMEMLIMIT). An embedded worker
	// shares the node's process and ignores it.
	MemoryLimit int64
	// TLS, when set, serves the REST API over HTTPS (its ClientAuth
	// decides whether clients need a certificate).
	TLS *tls.Config
	// ForwardTLS is the client TLS for a peer worker at host (forwarding
	// to the leader over https://); nil trusts the system's roots.
	ForwardTLS func(host string) *tls.Config
	// Auth, when set, requires Kafka users' HTTP basic credentials on
	// every endpoint but GET / (auth.go).
	Auth *httpserve.BasicAuth
}

// FromProperties parses worker properties (Java's names) into a Config.
func FromProperties(props map[string]string) (Config, error) {
	c := Config{Props: props}
	get := func(k string) string { return strings.TrimSpace(props[k]) }
	if s := get("bootstrap.servers"); s != "" {
		for _, b := range strings.Split(s, ",") {
			if b = strings.TrimSpace(b); b != "" {
				c.Brokers = append(c.Brokers, b)
			}
		}
	}
	var errs []error
	if s := get("listeners"); s != "" {
		first := strings.TrimSpace(strings.Split(s, ",")[0])
		u, err := url.Parse(first)
		if err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("listeners %q: want http://host:port", s))
		} else {
			c.Listen = u.Host
			if strings.HasPrefix(c.Listen, ":") {
				c.Listen = "0.0.0.0" + c.Listen
			}
		}
	} else if p := get("rest.port"); p != "" {
		c.Listen = net.JoinHostPort(get("rest.host.name"), p)
	}
	if h := get("rest.advertised.host.name"); h != "" {
		port := get("rest.advertised.port")
		if port == "" {
			_, port, _ = net.SplitHostPort(c.Listen)
		}
		scheme := get("rest.advertised.listener")
		if scheme == "" {
			scheme = "http"
		}
		c.AdvertisedURL = scheme + "://" + net.JoinHostPort(h, port)
	}
	c.OffsetFile = get("offset.storage.file.filename")
	c.GroupID = get("group.id")
	c.ConfigTopic, c.OffsetTopic, c.StatusTopic = get("config.storage.topic"), get("offset.storage.topic"), get("status.storage.topic")
	ms := func(k string, dst *time.Duration) {
		if s := get(k); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s %q: want milliseconds", k, s))
				return
			}
			*dst = time.Duration(n) * time.Millisecond
		}
	}
	ms("offset.flush.interval.ms", &c.OffsetFlushInterval)
	ms("offset.flush.timeout.ms", &c.OffsetFlushTimeout)
	ms("task.shutdown.graceful.timeout.ms", &c.ShutdownTimeout)
	ms("scheduled.rebalance.max.delay.ms", &c.RebalanceDelay)
	ms("consumer.session.timeout.ms", &c.SinkSessionTimeout)
	ms("consumer.heartbeat.interval.ms", &c.SinkHeartbeatInterval)
	switch s := strings.ToLower(get("exactly.once.source.support")); s {
	case "", "disabled":
	case "enabled", "preparing":
		c.ExactlyOnceSource = s == "enabled"
	default:
		errs = append(errs, fmt.Errorf("exactly.once.source.support %q: want enabled, preparing or disabled", s))
	}
	if s := get("samsa.memory.limit.mb"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 16 {
			errs = append(errs, fmt.Errorf("samsa.memory.limit.mb %q: want mebibytes, at least 16", s))
		}
		c.MemoryLimit = n << 20
	}
	c.NoTopicTracking = get("topic.tracking.enable") == "false"
	c.NoTopicReset = get("topic.tracking.allow.reset") == "false"
	return c, errors.Join(errs...)
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Props == nil {
		c.Props = map[string]string{}
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.GroupID == "" {
		c.GroupID = "connect-cluster"
	}
	if c.ConfigTopic == "" {
		c.ConfigTopic = "connect-configs"
	}
	if c.OffsetTopic == "" {
		c.OffsetTopic = "connect-offsets"
	}
	if c.StatusTopic == "" {
		c.StatusTopic = "connect-status"
	}
	if c.OffsetFlushInterval == 0 {
		c.OffsetFlushInterval = time.Minute
	}
	if c.OffsetFlushTimeout == 0 {
		c.OffsetFlushTimeout = 5 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 5 * time.Second
	}
	if c.RebalanceDelay == 0 {
		c.RebalanceDelay = 5 * time.Minute
	}
	if c.Plugins == nil {
		c.Plugins = pub.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, k := range []string{"key.converter", "value.converter"} {
		if c.Props[k] == "" {
			c.Props[k] = "org.apache.kafka.connect.json.JsonConverter"
		}
	}
	if c.Props["header.converter"] == "" {
		c.Props["header.converter"] = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
	}
}

// Validate reports what is wrong with c (after Defaults).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("connect listen %q: %w", c.Listen, err))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("connect: no Kafka brokers (bootstrap.servers)"))
	}
	if c.AdvertisedURL != "" && !strings.HasPrefix(c.AdvertisedURL, "http://") && !strings.HasPrefix(c.AdvertisedURL, "https://") {
		errs = append(errs, fmt.Errorf("connect advertised URL %q: want http:// or https://", c.AdvertisedURL))
	}
	if c.OffsetFlushInterval <= 0 || c.OffsetFlushTimeout <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("connect: flush and shutdown timeouts must be positive"))
	}
	errs = append(errs, workerClientErrors(c.Props)...)
	return errors.Join(errs...)
}

// converterProps returns the settings of prefix ("key.converter.") from
// the worker properties, overridden by the connector's.
func converterProps(worker, conn map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{worker, conn} {
		for k, v := range m {
			if strings.HasPrefix(k, prefix) {
				out[strings.TrimPrefix(k, prefix)] = v
			}
		}
	}
	return out
}
