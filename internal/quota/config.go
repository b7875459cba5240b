package quota

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// SensorExpiry is how long a sensor (the rate of one resolved entity) is
// kept without a recording, as Kafka's
// ClientQuotaManager.INACTIVE_SENSOR_EXPIRATION_TIME_SECONDS (1 hour).
const SensorExpiry = time.Hour

// Config holds the broker settings the quotas use. Field comments give
// Kafka's names; MaxSensors is Samsa's own.
type Config struct {
	QuotaWindowNum                   int // quota.window.num
	QuotaWindowSizeSeconds           int // quota.window.size.seconds
	ControllerQuotaWindowNum         int // controller.quota.window.num
	ControllerQuotaWindowSizeSeconds int // controller.quota.window.size.seconds
	// MaxConnectionCreationRate is max.connection.creation.rate, the
	// broker-wide accept rate (connections per second); math.MaxInt32, the
	// default, is unlimited.
	MaxConnectionCreationRate int
	// MaxSensors bounds the sensors kept (one per resolved entity and quota
	// type, and one per IP with a connection rate): beyond it the least
	// recently used is dropped. Default 100,000 (a sensor is about 400
	// bytes plus its names, so some 40 MB at most).
	MaxSensors int
}

// Defaults returns Kafka's defaults; the receiver is ignored.
func (Config) Defaults() Config {
	return Config{
		QuotaWindowNum:                   11,
		QuotaWindowSizeSeconds:           1,
		ControllerQuotaWindowNum:         11,
		ControllerQuotaWindowSizeSeconds: 1,
		MaxConnectionCreationRate:        math.MaxInt32,
		MaxSensors:                       100_000,
	}
}

// Validate checks the settings against Kafka's bounds (atLeast(1) for the
// windows, atLeast(0) for the connection rate).
func (c Config) Validate() error {
	var errs []error
	bad := func(name string, v int, want string) {
		errs = append(errs, fmt.Errorf("quota config: %s = %d, want %s", name, v, want))
	}
	if c.QuotaWindowNum < 1 {
		bad("quota.window.num", c.QuotaWindowNum, ">= 1")
	}
	if c.QuotaWindowSizeSeconds < 1 {
		bad("quota.window.size.seconds", c.QuotaWindowSizeSeconds, ">= 1")
	}
	if c.ControllerQuotaWindowNum < 1 {
		bad("controller.quota.window.num", c.ControllerQuotaWindowNum, ">= 1")
	}
	if c.ControllerQuotaWindowSizeSeconds < 1 {
		bad("controller.quota.window.size.seconds", c.ControllerQuotaWindowSizeSeconds, ">= 1")
	}
	if c.MaxConnectionCreationRate < 0 {
		bad("max.connection.creation.rate", c.MaxConnectionCreationRate, ">= 0")
	}
	if c.MaxSensors < 1 {
		bad("max sensors", c.MaxSensors, ">= 1")
	}
	return errors.Join(errs...)
}

// window is a sampled rate's or a token bucket's MetricConfig: samples
// of sizeMs each.
type window struct {
	samples int
	sizeMs  int64
}

func (c Config) clientWindow() window {
	return window{samples: c.QuotaWindowNum, sizeMs: int64(c.QuotaWindowSizeSeconds) * 1000}
}

func (c Config) controllerWindow() window {
	return window{samples: c.ControllerQuotaWindowNum, sizeMs: int64(c.ControllerQuotaWindowSizeSeconds) * 1000}
}
