package group

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
)

// Settings are the broker settings the coordinator uses, by Kafka name.
type Settings struct {
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout are
	// group.{min,max}.session.timeout.ms.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// MaxSize is group.max.size.
	MaxSize int
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes.
	OffsetMetadataMaxBytes int
	// OffsetsRetention is offsets.retention.minutes.
	OffsetsRetention time.Duration
	// RetentionCheckInterval is offsets.retention.check.interval.ms.
	RetentionCheckInterval time.Duration
	// Consumer are the KIP-848 group.consumer.* settings (consumer_config.go);
	// the zero value means Kafka's defaults.
	Consumer ConsumerSettings
}

// Defaults returns Kafka's defaults.
func (Settings) Defaults() Settings {
	return Settings{
		InitialRebalanceDelay:  3 * time.Second,
		MinSessionTimeout:      6 * time.Second,
		MaxSessionTimeout:      30 * time.Minute,
		MaxSize:                math.MaxInt32,
		OffsetMetadataMaxBytes: 4096,
		OffsetsRetention:       7 * 24 * time.Hour,
		RetentionCheckInterval: 10 * time.Minute,
	}
}

// Validate checks the settings.
func (s Settings) Validate() error {
	var errs []error
	if s.InitialRebalanceDelay < 0 {
		errs = append(errs, errors.New("group.initial.rebalance.delay.ms must not be negative"))
	}
	if s.MinSessionTimeout < 0 || s.MaxSessionTimeout < s.MinSessionTimeout {
		errs = append(errs, errors.New("group.min.session.timeout.ms must be between 0 and group.max.session.timeout.ms"))
	}
	if s.MaxSize < 1 {
		errs = append(errs, errors.New("group.max.size must be at least 1"))
	}
	if s.OffsetsRetention <= 0 {
		errs = append(errs, errors.New("offsets.retention.minutes must be positive"))
	}
	if s.RetentionCheckInterval <= 0 {
		errs = append(errs, errors.New("offsets.retention.check.interval.ms must be positive"))
	}
	return errors.Join(errs...)
}

// SettingsFrom reads the settings from a broker configuration; names it
// does not define keep Kafka's defaults.
func SettingsFrom(b *config.Broker) (Settings, error) {
	s := Settings{}.Defaults()
	var errs []error
	num := func(name string, unit time.Duration, dst *time.Duration) {
		v, ok := b.Values[name]
		if !ok || v == "" {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", name, v))
			return
		}
		*dst = time.Duration(n) * unit
	}
	num("group.initial.rebalance.delay.ms", time.Millisecond, &s.InitialRebalanceDelay)
	num("group.min.session.timeout.ms", time.Millisecond, &s.MinSessionTimeout)
	num("group.max.session.timeout.ms", time.Millisecond, &s.MaxSessionTimeout)
	num("offsets.retention.minutes", time.Minute, &s.OffsetsRetention)
	num("offsets.retention.check.interval.ms", time.Millisecond, &s.RetentionCheckInterval)
	var size, meta time.Duration = time.Duration(s.MaxSize), time.Duration(s.OffsetMetadataMaxBytes)
	num("group.max.size", 1, &size)
	num("offset.metadata.max.bytes", 1, &meta)
	s.MaxSize, s.OffsetMetadataMaxBytes = int(size), int(meta)
	cs, err := ConsumerSettingsFrom(b)
	if err != nil {
		errs = append(errs, err)
	}
	s.Consumer = cs
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	return s, s.Validate()
}

// Config configures a Coordinator.
type Config struct {
	Settings Settings
	Log      Log
	Clock    Clock
	Topics   Topics
	Logger   *slog.Logger
	// Images, if set, returns the current topic metadata. Classic members
	// inside consumer groups use it (JoinGroup and SyncGroup carry no
	// image); without it they use the image the group's last
	// ConsumerGroupHeartbeat brought.
	Images func() TopicImage
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Log == nil || c.Clock == nil || c.Topics == nil || c.Logger == nil {
		return errors.New("group: Log, Clock, Topics and Logger are required")
	}
	return c.Settings.Validate()
}
