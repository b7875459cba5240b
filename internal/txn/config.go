package txn

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
)

// Settings are the broker settings the coordinator uses, by Kafka name.
type Settings struct {
	// MaxTimeout is transaction.max.timeout.ms: InitProducerId with a
	// longer transaction timeout gets INVALID_TRANSACTION_TIMEOUT.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms: an id idle (no
	// transaction, no update) this long is removed.
	IDExpiration time.Duration
	// AbortInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms.
	AbortInterval time.Duration
	// RemoveExpiredInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms.
	RemoveExpiredInterval time.Duration
	// MarkerRetryInterval is how soon markers that could not be written
	// are tried again (Kafka retries through its marker channel manager).
	MarkerRetryInterval time.Duration
}

// Defaults returns Kafka's defaults.
func (Settings) Defaults() Settings {
	return Settings{
		MaxTimeout:            15 * time.Minute,
		IDExpiration:          7 * 24 * time.Hour,
		AbortInterval:         10 * time.Second,
		RemoveExpiredInterval: time.Hour,
		MarkerRetryInterval:   500 * time.Millisecond,
	}
}

// Validate checks the settings.
func (s Settings) Validate() error {
	var errs []error
	if s.MaxTimeout <= 0 {
		errs = append(errs, errors.New("transaction.max.timeout.ms must be positive"))
	}
	if s.IDExpiration <= 0 {
		errs = append(errs, errors.New("transactional.id.expiration.ms must be positive"))
	}
	if s.AbortInterval <= 0 {
		errs = append(errs, errors.New("transaction.abort.timed.out.transaction.cleanup.interval.ms must be positive"))
	}
	if s.RemoveExpiredInterval <= 0 {
		errs = append(errs, errors.New("transaction.remove.expired.transaction.cleanup.interval.ms must be positive"))
	}
	if s.MarkerRetryInterval <= 0 {
		errs = append(errs, errors.New("the marker retry interval must be positive"))
	}
	return errors.Join(errs...)
}

// SettingsFrom reads the settings from a broker configuration; names it
// does not define keep Kafka's defaults.
func SettingsFrom(b *config.Broker) (Settings, error) {
	s := Settings{}.Defaults()
	var errs []error
	ms := func(name string, dst *time.Duration) {
		v, ok := b.Values[name]
		if !ok || v == "" {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", name, v))
			return
		}
		*dst = time.Duration(n) * time.Millisecond
	}
	ms("transaction.max.timeout.ms", &s.MaxTimeout)
	ms("transactional.id.expiration.ms", &s.IDExpiration)
	ms("transaction.abort.timed.out.transaction.cleanup.interval.ms", &s.AbortInterval)
	ms("transaction.remove.expired.transaction.cleanup.interval.ms", &s.RemoveExpiredInterval)
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
	Logger   *slog.Logger
	// Markers and IDs may be nil in New when they depend on an object
	// built after the coordinator (the broker); Attach supplies them
	// before the coordinator leads any partition.
	Markers Markers
	IDs     ProducerIDs
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Log == nil || c.Clock == nil || c.Logger == nil {
		return errors.New("txn: Log, Clock and Logger are required")
	}
	return c.Settings.Validate()
}
