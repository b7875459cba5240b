package quota

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestClientThrottles(t *testing.T) {
	cases := []struct {
		key, version int16
		want         bool
	}{
		{0, 5, false}, {0, 6, true}, {0, 11, true}, // Produce
		{1, 7, false}, {1, 8, true}, // Fetch
		{3, 5, false}, {3, 6, true}, // Metadata
		{18, 1, false}, {18, 2, true}, // ApiVersions
		{19, 2, false}, {19, 3, true}, // CreateTopics
		{44, 0, true},  // IncrementalAlterConfigs
		{48, 1, false}, // DescribeClientQuotas: Kafka's default
		{68, 0, false}, // ConsumerGroupHeartbeat
		{75, 0, true},  // DescribeTopicPartitions
	}
	for _, c := range cases {
		if got := ClientThrottles(c.key, c.version); got != c.want {
			t.Errorf("ClientThrottles(%d, %d) = %v", c.key, c.version, got)
		}
	}
}

func TestStrictMutations(t *testing.T) {
	cases := []struct {
		key, version int16
		want         bool
	}{
		{19, 5, false}, {19, 6, true}, {20, 4, false}, {20, 5, true}, {37, 2, false}, {37, 3, true}, {0, 9, false},
	}
	for _, c := range cases {
		if got := StrictMutations(c.key, c.version); got != c.want {
			t.Errorf("StrictMutations(%d, %d) = %v", c.key, c.version, got)
		}
	}
}

func TestThrottleTimeMs(t *testing.T) {
	for d, want := range map[time.Duration]int32{
		0: 0, -time.Second: 0, time.Microsecond: 1, 1500 * time.Millisecond: 1500,
		1000 * time.Hour: math.MaxInt32,
	} {
		if got := ThrottleTimeMs(d); got != want {
			t.Errorf("ThrottleTimeMs(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}.Defaults()).Validate(); err != nil {
		t.Fatal(err)
	}
	err := Config{MaxConnectionCreationRate: -1}.Validate()
	for _, name := range []string{"quota.window.num", "quota.window.size.seconds", "controller.quota.window.num",
		"controller.quota.window.size.seconds", "max.connection.creation.rate", "max sensors"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("zero config: %v does not name %s", err, name)
		}
	}
	if _, err := NewManager(Config{}, nil); err == nil {
		t.Error("NewManager accepted an invalid config")
	}
}
