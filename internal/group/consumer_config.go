package group

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
)

// ConsumerSettings are the broker settings of KIP-848 consumer groups, by
// Kafka name. The zero value means Kafka's defaults.
type ConsumerSettings struct {
	// SessionTimeout is group.consumer.session.timeout.ms.
	SessionTimeout time.Duration
	// HeartbeatInterval is group.consumer.heartbeat.interval.ms.
	HeartbeatInterval time.Duration
	// MaxSize is group.consumer.max.size.
	MaxSize int
	// Assignors is group.consumer.assignors; the first is the default.
	Assignors []string
	// MigrationPolicy is group.consumer.migration.policy: "bidirectional"
	// (Kafka 4's default), "upgrade", "downgrade" or "disabled". It decides
	// whether a classic group becomes a consumer group on a
	// ConsumerGroupHeartbeat (upgrade), and whether a consumer group
	// becomes a classic one when it is empty and gets a JoinGroup, or when
	// its last member using the consumer protocol leaves classic members
	// behind (downgrade); see doc.go.
	MigrationPolicy string
}

// Defaults returns Kafka's defaults.
func (ConsumerSettings) Defaults() ConsumerSettings {
	return ConsumerSettings{
		SessionTimeout:    45 * time.Second,
		HeartbeatInterval: 5 * time.Second,
		MaxSize:           math.MaxInt32,
		Assignors:         []string{AssignorUniform, AssignorRange},
		MigrationPolicy:   "bidirectional",
	}
}

// Validate checks the settings.
func (s ConsumerSettings) Validate() error {
	var errs []error
	if s.SessionTimeout <= 0 {
		errs = append(errs, errors.New("group.consumer.session.timeout.ms must be positive"))
	}
	if s.HeartbeatInterval <= 0 || s.HeartbeatInterval >= s.SessionTimeout {
		errs = append(errs, errors.New("group.consumer.heartbeat.interval.ms must be positive and below group.consumer.session.timeout.ms"))
	}
	if s.MaxSize < 1 {
		errs = append(errs, errors.New("group.consumer.max.size must be at least 1"))
	}
	if len(s.Assignors) == 0 {
		errs = append(errs, errors.New("group.consumer.assignors must name at least one assignor"))
	}
	for _, a := range s.Assignors {
		if _, ok := LookupAssignor(a); !ok {
			errs = append(errs, fmt.Errorf("group.consumer.assignors: unknown assignor %q (Samsa has %s)", a, strings.Join(AssignorNames(), ", ")))
		}
	}
	switch s.MigrationPolicy {
	case "bidirectional", "upgrade", "downgrade", "disabled":
	default:
		errs = append(errs, fmt.Errorf("group.consumer.migration.policy: %q is not one of bidirectional, upgrade, downgrade, disabled", s.MigrationPolicy))
	}
	return errors.Join(errs...)
}

// orDefaults fills the zero value with Kafka's defaults.
func (s ConsumerSettings) orDefaults() ConsumerSettings {
	d := s.Defaults()
	if s.SessionTimeout == 0 {
		s.SessionTimeout = d.SessionTimeout
	}
	if s.HeartbeatInterval == 0 {
		s.HeartbeatInterval = d.HeartbeatInterval
	}
	if s.MaxSize == 0 {
		s.MaxSize = d.MaxSize
	}
	if len(s.Assignors) == 0 {
		s.Assignors = d.Assignors
	}
	if s.MigrationPolicy == "" {
		s.MigrationPolicy = d.MigrationPolicy
	}
	return s
}

func (s ConsumerSettings) upgradeAllowed() bool {
	return s.MigrationPolicy == "bidirectional" || s.MigrationPolicy == "upgrade"
}

func (s ConsumerSettings) downgradeAllowed() bool {
	return s.MigrationPolicy == "bidirectional" || s.MigrationPolicy == "downgrade"
}

func (s ConsumerSettings) supportsAssignor(name string) bool {
	return slices.Contains(s.Assignors, name)
}

// ConsumerSettingsFrom reads the settings from a broker configuration;
// names it does not define keep Kafka's defaults.
func ConsumerSettingsFrom(b *config.Broker) (ConsumerSettings, error) {
	s := ConsumerSettings{}.Defaults()
	var errs []error
	num := func(name string) (int64, bool) {
		v, ok := b.Values[name]
		if !ok || strings.TrimSpace(v) == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", name, v))
			return 0, false
		}
		return n, true
	}
	if n, ok := num("group.consumer.session.timeout.ms"); ok {
		s.SessionTimeout = time.Duration(n) * time.Millisecond
	}
	if n, ok := num("group.consumer.heartbeat.interval.ms"); ok {
		s.HeartbeatInterval = time.Duration(n) * time.Millisecond
	}
	if n, ok := num("group.consumer.max.size"); ok {
		s.MaxSize = int(min(n, math.MaxInt32))
	}
	if v, ok := b.Values["group.consumer.assignors"]; ok && strings.TrimSpace(v) != "" {
		s.Assignors = nil
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			// Kafka also accepts the assignors' class names.
			switch a {
			case "org.apache.kafka.coordinator.group.assignor.UniformAssignor":
				a = AssignorUniform
			case "org.apache.kafka.coordinator.group.assignor.RangeAssignor":
				a = AssignorRange
			}
			if a != "" {
				s.Assignors = append(s.Assignors, a)
			}
		}
	}
	if v, ok := b.Values["group.consumer.migration.policy"]; ok && strings.TrimSpace(v) != "" {
		s.MigrationPolicy = strings.ToLower(strings.TrimSpace(v))
	}
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	return s, s.Validate()
}
