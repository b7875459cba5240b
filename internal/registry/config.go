package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// DefaultListen is where the registry serves unless told otherwise:
// Confluent's port, on loopback.
const DefaultListen = "127.0.0.1:8081"

const (
	defaultCompatibility = "BACKWARD"
	modeReadWrite        = "READWRITE"
	modeReadOnly         = "READONLY"
	modeReadOnlyOverride = "READONLY_OVERRIDE"
	modeImport           = "IMPORT"
)

var (
	compatibilityLevels = []string{"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
	modes               = []string{modeReadWrite, modeReadOnly, modeReadOnlyOverride, modeImport}
)

// Config configures a Registry. Field comments name the Confluent property
// each stands for.
type Config struct {
	// Listen is the HTTP address (listeners), host:port.
	Listen string
	// AdvertisedURL is the URL other instances forward writes to
	// (host.name and the listener's port); default http://Listen.
	AdvertisedURL string
	// Brokers are the Kafka bootstrap addresses
	// (kafkastore.bootstrap.servers).
	Brokers []string
	// ClientOpts are extra franz-go options for every Kafka client the
	// registry opens (TLS, SASL).
	ClientOpts []kgo.Opt
	// Topic is the store (kafkastore.topic), default _schemas.
	Topic string
	// ReplicationFactor of Topic when the registry creates it
	// (kafkastore.topic.replication.factor), default 3, lowered to the
	// number of brokers when there are fewer.
	ReplicationFactor int
	// GroupID is the group instances elect their leader in
	// (schema.registry.group.id), default schema-registry. The
	// leader's writes use it as their transactional id too.
	GroupID string
	// LeaderEligible says this instance may become leader
	// (leader.eligibility), default true.
	LeaderEligible *bool
	// MaxSchemaBytes bounds a schema's text (42209 above it), default
	// 900 KiB so that its _schemas record fits Kafka's default
	// max.message.bytes.
	MaxSchemaBytes int
	// Timeout bounds a write (kafkastore.timeout.ms), default 10s, and
	// each start-up step.
	Timeout time.Duration
	// Handlers are the schema types served; default Avro, Protobuf and
	// JSON Schema.
	Handlers []schema.Handler
	// TLS, when set, serves HTTPS (the listener's certificate, and with
	// ssl.client.auth=required only clients with a certificate the trust
	// store accepts); the advertised URL defaults to https://Listen.
	// ForwardTLS is the client side of forwarding to a leader over HTTPS
	// (nil: the system's roots).
	TLS        *tls.Config
	ForwardTLS *tls.Config
	// Auth, when set, requires HTTP basic credentials of a Kafka user on
	// every request (401 otherwise) and asks the broker's ACLs whether the
	// user may: reads need DESCRIBE on Topic, writes WRITE on it (403
	// otherwise). Auth is the caller's; the registry does not close it.
	Auth *httpserve.BasicAuth
	// Logger is where the registry logs.
	Logger *slog.Logger
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Topic == "" {
		c.Topic = "_schemas"
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 3
	}
	if c.GroupID == "" {
		c.GroupID = "schema-registry"
	}
	if c.LeaderEligible == nil {
		t := true
		c.LeaderEligible = &t
	}
	if c.MaxSchemaBytes == 0 {
		c.MaxSchemaBytes = 900 << 10
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Handlers == nil {
		c.Handlers = DefaultHandlers()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports what is wrong with c (after Defaults).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("registry listen %q: %w", c.Listen, err))
	}
	if c.AdvertisedURL != "" && !strings.HasPrefix(c.AdvertisedURL, "http://") && !strings.HasPrefix(c.AdvertisedURL, "https://") {
		errs = append(errs, fmt.Errorf("registry advertised URL %q: want http:// or https://", c.AdvertisedURL))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("registry: no Kafka brokers (kafkastore.bootstrap.servers)"))
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("registry replication factor %d: want 1..32767", c.ReplicationFactor))
	}
	if c.MaxSchemaBytes < 1 {
		errs = append(errs, fmt.Errorf("registry max schema bytes %d: want > 0", c.MaxSchemaBytes))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("registry timeout %v: want > 0", c.Timeout))
	}
	if len(c.Handlers) == 0 {
		errs = append(errs, errors.New("registry: no schema types"))
	}
	return errors.Join(errs...)
}
