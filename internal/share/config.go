package share

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
)

// Config is the share-group settings, under Kafka's names.
type Config struct {
	// SessionTimeout is group.share.session.timeout.ms.
	SessionTimeout time.Duration
	// HeartbeatInterval is group.share.heartbeat.interval.ms.
	HeartbeatInterval time.Duration
	// MaxSize is group.share.max.size.
	MaxSize int
	// MaxSessions is group.share.max.share.sessions (per broker).
	MaxSessions int
	// Partition holds group.share.record.lock.duration.ms,
	// group.share.delivery.count.limit and
	// group.share.partition.max.record.locks.
	Partition PartitionConfig
}

// Defaults returns Kafka 4.4's defaults.
func (Config) Defaults() Config {
	return Config{
		SessionTimeout:    45 * time.Second,
		HeartbeatInterval: 5 * time.Second,
		MaxSize:           200,
		MaxSessions:       2000,
		Partition:         PartitionConfig{}.Defaults(),
	}
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.SessionTimeout <= 0 || c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout {
		return errors.New("share: group.share.heartbeat.interval.ms must be positive and below group.share.session.timeout.ms")
	}
	if c.MaxSize < 1 || c.MaxSessions < 1 {
		return errors.New("share: group.share.max.size and group.share.max.share.sessions must be positive")
	}
	return c.Partition.Validate()
}

// ConfigFrom reads the settings from a broker configuration; names it does
// not set keep Kafka's defaults.
func ConfigFrom(b *config.Broker) (Config, error) {
	c := Config{}.Defaults()
	var errs []error
	num := func(name string, set func(int64)) {
		v, ok := b.Values[name]
		if !ok || strings.TrimSpace(v) == "" {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w", name, v, err))
			return
		}
		set(n)
	}
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	num("group.share.session.timeout.ms", func(n int64) { c.SessionTimeout = ms(n) })
	num("group.share.heartbeat.interval.ms", func(n int64) { c.HeartbeatInterval = ms(n) })
	num("group.share.max.size", func(n int64) { c.MaxSize = int(n) })
	num("group.share.max.share.sessions", func(n int64) { c.MaxSessions = int(n) })
	num("group.share.record.lock.duration.ms", func(n int64) { c.Partition.LockDuration = ms(n) })
	num("group.share.delivery.count.limit", func(n int64) { c.Partition.DeliveryCountLimit = int16(min(n, 32767)) })
	num("group.share.partition.max.record.locks", func(n int64) { c.Partition.MaxRecordLocks = int(n) })
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}
