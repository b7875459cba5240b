package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Workload names what a run does.
type Workload string

const (
	// Produce sends records and measures send→ack latency.
	Produce Workload = "produce"
	// Consume reads a topic that has data.
	Consume Workload = "consume"
	// EndToEnd sends records stamped with their send time and reads them
	// back in this process: produce→consume latency.
	EndToEnd Workload = "e2e"
)

// Produces reports whether w runs producers.
func (w Workload) Produces() bool { return w == Produce || w == EndToEnd }

// Consumes reports whether w runs consumers.
func (w Workload) Consumes() bool { return w == Consume || w == EndToEnd }

const (
	// DefaultTopic is the topic a run uses unless told otherwise.
	DefaultTopic = "samsa-bench"
	// ClientID is the client id of every client a run creates.
	ClientID = "samsa-bench"
	// StampBytes is the size of the send-time stamp EndToEnd puts at the
	// start of every value.
	StampBytes = 8
	// MaxKeys and MaxClients bound Keys, Producers and Consumers.
	MaxKeys    = 10_000_000
	MaxClients = 256
	// MaxBatchBytes is franz-go's default limit on one request.
	MaxBatchBytes = 100 << 20
	// recordOverhead bounds a record's framing inside a batch plus the
	// batch header, for the check that one record fits in a batch.
	recordOverhead = 128
	// stampedBufBytes caps the value buffers one producer keeps when
	// every record carries its own stamp (e2e): each in-flight slot has
	// its own buffer, so large records get fewer slots.
	stampedBufBytes = 64 << 20
	// groupJoinTimeout bounds the wait for a consumer group to hand out
	// every partition (Kafka delays the first rebalance by 3s).
	groupJoinTimeout = 60 * time.Second
	// fetchMaxWait is the Java consumer's fetch.max.wait.ms default.
	fetchMaxWait = 500 * time.Millisecond
)

// Config is one run. Its settings are `samsa bench`'s flags, and
// Validate's messages name them as flags (--record-size), since that is
// where a Config comes from.
type Config struct {
	Workload Workload
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// TLS, if set, makes every client the run creates dial with TLS
	// (security.protocol SSL or SASL_SSL); each client gets a clone.
	TLS *tls.Config
	// SASL, if set, authenticates every connection (SASL_PLAINTEXT or
	// SASL_SSL); SCRAM builds a SCRAM mechanism.
	SASL sasl.Mechanism
	// ClientOpts are added to every client the run creates after the
	// seeds, client id, timeouts, TLS and SASL.
	ClientOpts []kgo.Opt
	// Timeout bounds each conversation with the cluster: dialing, admin
	// requests, record delivery, the wait for consumers to be ready.
	Timeout time.Duration

	Topic             string
	Create            bool // create the topic if it does not exist
	Recreate          bool // delete the topic first, then create it
	Partitions        int32
	ReplicationFactor int16
	// CheckPartitions warns when Create finds the topic existing with a
	// partition count other than Partitions.
	CheckPartitions bool

	// Duration is how long to measure after Warmup (0: until Count).
	Duration time.Duration
	// Count stops the run after this many measured records (0: no limit).
	Count  int64
	Warmup time.Duration

	// Producer settings (Produce, EndToEnd).
	RecordSize    int
	Keys          int    // cycle keys over this many values (0: no keys)
	Acks          string // all, 1 or 0
	Compression   string // none, gzip, snappy, lz4 or zstd
	Linger        time.Duration
	BatchMaxBytes int32
	MaxBuffered   int     // records each producer may have in flight
	Rate          float64 // records/s over all producers (0: unlimited)
	Producers     int

	// Consumer settings (Consume, EndToEnd).
	Consumers int
	Group     string // consume as this group (no offsets are committed)
	FromStart bool   // Consume: read from the start and stop once caught up

	// PID is the broker's process id: with it, the result has the
	// broker's CPU time and memory over the measured window (Linux /proc).
	PID int

	// Progress is how often OnProgress is called (0: never).
	Progress   time.Duration
	OnProgress func(Progress)
	// DescribeError renders a record or fetch error as the result's
	// FirstError; nil uses err.Error().
	DescribeError func(error) string
	// Logger receives warnings about the run; nil discards them.
	Logger *slog.Logger
}

// Defaults returns the defaults of workload w. The producer settings are
// Kafka 4's producer defaults (acks=all with idempotence, linger.ms=5, no
// compression) except the batch size: 1 MiB, as in the OpenMessaging
// Benchmark's throughput driver, so that batching is bounded by linger and
// not by Kafka's 16 KiB batch.size.
func Defaults(w Workload) Config {
	return Config{
		Workload:          w,
		Brokers:           []string{"127.0.0.1:9092"},
		Timeout:           10 * time.Second,
		Topic:             DefaultTopic,
		Partitions:        6,
		ReplicationFactor: 1,
		RecordSize:        1024,
		Acks:              "all",
		Compression:       "none",
		Linger:            5 * time.Millisecond,
		BatchMaxBytes:     1 << 20,
		MaxBuffered:       10_000,
		Duration:          10 * time.Second,
		Producers:         1,
		Consumers:         1,
		Progress:          time.Second,
	}
}

// Validate checks the settings the workload uses.
func (c *Config) Validate() error {
	if err := c.validateCommon(); err != nil {
		return err
	}
	if c.Workload.Produces() {
		if err := c.validateProducer(); err != nil {
			return err
		}
	}
	if c.Workload.Consumes() && (c.Consumers < 1 || c.Consumers > MaxClients) {
		return fmt.Errorf("invalid --consumers %d: must be 1 to %d", c.Consumers, MaxClients)
	}
	return nil
}

func (c *Config) validateCommon() error {
	switch {
	case c.Workload != Produce && c.Workload != Consume && c.Workload != EndToEnd:
		return fmt.Errorf("loadgen: unknown workload %q", c.Workload)
	case len(c.Brokers) == 0:
		return errors.New("loadgen: no brokers given")
	case c.Timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: must be positive", c.Timeout)
	case strings.TrimSpace(c.Topic) == "":
		return errors.New("invalid --topic: must not be empty")
	case (c.Create || c.Recreate) && c.Partitions < 1:
		return fmt.Errorf("invalid --partitions %d: must be 1 or more", c.Partitions)
	case (c.Create || c.Recreate) && c.ReplicationFactor < 1:
		return fmt.Errorf("invalid --replication-factor %d: must be 1 or more", c.ReplicationFactor)
	case c.Duration < 0:
		return fmt.Errorf("invalid --duration %s: must not be negative", c.Duration)
	case c.Count < 0:
		return fmt.Errorf("invalid --count %d: must be 0 (no limit) or more", c.Count)
	case c.Duration == 0 && c.Count == 0:
		return errors.New("nothing bounds the run: give --duration or --count")
	case c.Warmup < 0:
		return fmt.Errorf("invalid --warmup %s: must not be negative", c.Warmup)
	case c.PID < 0:
		return fmt.Errorf("invalid --pid %d: must be a process id", c.PID)
	case c.Progress < 0:
		return fmt.Errorf("invalid --progress %s: must be positive, or 0 for none", c.Progress)
	}
	return nil
}

func (c *Config) validateProducer() error {
	minSize := 0
	if c.Workload == EndToEnd {
		minSize = StampBytes
	}
	switch {
	case c.RecordSize < minSize:
		if c.Workload == EndToEnd {
			return fmt.Errorf("invalid --record-size %d: e2e needs at least %d bytes for the send-time stamp", c.RecordSize, StampBytes)
		}
		return fmt.Errorf("invalid --record-size %d: must be 0 or more", c.RecordSize)
	case c.Keys < 0 || c.Keys > MaxKeys:
		return fmt.Errorf("invalid --keys %d: must be 0 (no keys) to %d", c.Keys, MaxKeys)
	case c.Linger < 0:
		return fmt.Errorf("invalid --linger %s: must not be negative", c.Linger)
	case c.BatchMaxBytes < 512 || c.BatchMaxBytes > MaxBatchBytes:
		return fmt.Errorf("invalid --batch-max-bytes %d: must be 512 to %d", c.BatchMaxBytes, MaxBatchBytes)
	case int64(c.RecordSize)+int64(len(key(int64(max(c.Keys-1, 0)))))+recordOverhead > int64(c.BatchMaxBytes):
		return fmt.Errorf("--record-size %d does not fit in a batch of --batch-max-bytes %d", c.RecordSize, c.BatchMaxBytes)
	case c.MaxBuffered < 1:
		return fmt.Errorf("invalid --max-buffered-records %d: must be 1 or more", c.MaxBuffered)
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("invalid --rate %v: must be records per second, or 0 for unlimited", c.Rate)
	case c.Producers < 1 || c.Producers > MaxClients:
		return fmt.Errorf("invalid --producers %d: must be 1 to %d", c.Producers, MaxClients)
	}
	if _, err := ParseAcks(c.Acks); err != nil {
		return err
	}
	_, err := ParseCompression(c.Compression)
	return err
}

// ParseAcks parses an acks setting: all (-1), 1 (leader) or 0 (none).
func ParseAcks(s string) (kgo.Acks, error) {
	switch strings.ToLower(s) {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1", "leader":
		return kgo.LeaderAck(), nil
	case "0", "none":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("invalid --acks %q: want all, 1 or 0", s)
}

// ParseCompression parses a compression.type: none, gzip, snappy, lz4 or
// zstd.
func ParseCompression(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("invalid --compression %q: want none, gzip, snappy, lz4 or zstd", s)
}

// producerOpts turns the producer settings into client options.
func (c *Config) producerOpts() ([]kgo.Opt, error) {
	acks, err := ParseAcks(c.Acks)
	if err != nil {
		return nil, err
	}
	codec, err := ParseCompression(c.Compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(c.Topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(c.BatchMaxBytes),
	}
	if acks != kgo.AllISRAcks() {
		// Idempotence needs acks=all. Without it franz-go allows one
		// request in flight per broker; Kafka's Java producer allows 5.
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts, nil
}

// summary is the "config" object of the result: the settings of the run,
// partitions being the topic's actual count.
func (c *Config) summary(partitions int) map[string]any {
	m := map[string]any{
		"brokers":          c.Brokers,
		"topic":            c.Topic,
		"partitions":       partitions,
		"duration_seconds": c.Duration.Seconds(),
		"count":            c.Count,
		"warmup_seconds":   c.Warmup.Seconds(),
		"create":           c.Create,
		"recreate":         c.Recreate,
	}
	if c.Create {
		m["replication_factor"] = c.ReplicationFactor
	}
	if c.PID > 0 {
		m["pid"] = c.PID
	}
	m["security_protocol"] = c.SecurityProtocol()
	if c.SASL != nil {
		m["sasl_mechanism"] = c.SASL.Name()
	}
	if c.Workload.Produces() {
		m["record_size"] = c.RecordSize
		m["keys"] = c.Keys
		m["acks"] = c.Acks
		m["compression"] = c.Compression
		m["linger_ms"] = float64(c.Linger) / float64(time.Millisecond)
		m["batch_max_bytes"] = c.BatchMaxBytes
		m["max_buffered_records"] = c.MaxBuffered
		m["rate"] = c.Rate
		m["producers"] = c.Producers
	}
	if c.Workload.Consumes() {
		m["consumers"] = c.Consumers
		m["group"] = c.Group
	}
	if c.Workload == Consume {
		m["from_start"] = c.FromStart
	}
	return m
}
