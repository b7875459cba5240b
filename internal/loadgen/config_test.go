package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := Defaults(Produce)
	if c.Topic != "samsa-bench" || c.Partitions != 6 || c.ReplicationFactor != 1 || c.RecordSize != 1024 ||
		c.Acks != "all" || c.Compression != "none" || c.Linger != 5*time.Millisecond ||
		c.BatchMaxBytes != 1<<20 || c.Duration != 10*time.Second || c.Producers != 1 || c.Progress != time.Second {
		t.Fatalf("unexpected defaults %+v", c)
	}
	for _, w := range []Workload{Produce, Consume, EndToEnd} {
		c := Defaults(w)
		if err := c.Validate(); err != nil {
			t.Fatalf("defaults of %s: %v", w, err)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		w    Workload
		set  func(*Config)
		want string // "" = valid
	}{
		{Consume, func(c *Config) { c.FromStart, c.Consumers = true, 3 }, ""},
		{EndToEnd, func(c *Config) { c.Rate, c.RecordSize = 1000, 8 }, ""},
		{Produce, func(c *Config) { c.RecordSize = -1 }, "invalid --record-size -1: must be 0 or more"},
		{EndToEnd, func(c *Config) { c.RecordSize = 7 }, "invalid --record-size 7: e2e needs at least 8 bytes for the send-time stamp"},
		{Produce, func(c *Config) { c.Acks = "2" }, `invalid --acks "2": want all, 1 or 0`},
		{Produce, func(c *Config) { c.Compression = "brotli" }, `invalid --compression "brotli": want none, gzip, snappy, lz4 or zstd`},
		{Produce, func(c *Config) { c.Rate = -5 }, "invalid --rate -5: must be records per second, or 0 for unlimited"},
		{Produce, func(c *Config) { c.Rate = math.NaN() }, "invalid --rate NaN: must be records per second, or 0 for unlimited"},
		{Produce, func(c *Config) { c.Producers = 0 }, "invalid --producers 0: must be 1 to 256"},
		{Consume, func(c *Config) { c.Consumers = 0 }, "invalid --consumers 0: must be 1 to 256"},
		{Produce, func(c *Config) { c.Duration = 0 }, "nothing bounds the run: give --duration or --count"},
		{Produce, func(c *Config) { c.Duration, c.Count = 0, 5 }, ""},
		{Produce, func(c *Config) { c.Duration = -time.Second }, "invalid --duration -1s: must not be negative"},
		{Produce, func(c *Config) { c.Count = -1 }, "invalid --count -1: must be 0 (no limit) or more"},
		{Produce, func(c *Config) { c.Warmup = -time.Second }, "invalid --warmup -1s: must not be negative"},
		{Produce, func(c *Config) { c.Linger = -time.Millisecond }, "invalid --linger -1ms: must not be negative"},
		{Produce, func(c *Config) { c.BatchMaxBytes = 100 }, "invalid --batch-max-bytes 100: must be 512 to 104857600"},
		{Produce, func(c *Config) { c.RecordSize, c.BatchMaxBytes = 1000, 1024 }, "--record-size 1000 does not fit in a batch of --batch-max-bytes 1024"},
		{Produce, func(c *Config) { c.Keys = -1 }, "invalid --keys -1: must be 0 (no keys) to 10000000"},
		{Produce, func(c *Config) { c.MaxBuffered = 0 }, "invalid --max-buffered-records 0: must be 1 or more"},
		{Produce, func(c *Config) { c.Create, c.Partitions = true, 0 }, "invalid --partitions 0: must be 1 or more"},
		{Produce, func(c *Config) { c.Recreate, c.ReplicationFactor = true, 0 }, "invalid --replication-factor 0: must be 1 or more"},
		{Produce, func(c *Config) { c.Partitions = 0 }, ""}, // not creating: ignored
		{Produce, func(c *Config) { c.Topic = " " }, "invalid --topic: must not be empty"},
		{Produce, func(c *Config) { c.PID = -3 }, "invalid --pid -3: must be a process id"},
		{Produce, func(c *Config) { c.Progress = -time.Second }, "invalid --progress -1s: must be positive, or 0 for none"},
		{Produce, func(c *Config) { c.Timeout = 0 }, "invalid --timeout 0s: must be positive"},
		{Produce, func(c *Config) { c.Brokers = nil }, "loadgen: no brokers given"},
		{"bogus", func(*Config) {}, `loadgen: unknown workload "bogus"`},
		// Settings of other workloads are not checked.
		{Consume, func(c *Config) { c.RecordSize, c.Acks = -1, "2" }, ""},
		{Produce, func(c *Config) { c.Consumers = 0 }, ""},
	}
	for i, tc := range cases {
		c := Defaults(tc.w)
		tc.set(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("case %d (%s): unexpected error %q", i, tc.w, err)
		case tc.want != "" && err == nil:
			t.Errorf("case %d (%s): want error %q, got none", i, tc.w, tc.want)
		case tc.want != "" && err.Error() != tc.want:
			t.Errorf("case %d (%s): error = %q, want %q", i, tc.w, err, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	c := Defaults(Consume)
	c.Brokers, c.PID, c.Create = []string{"b:1"}, 42, true
	m := c.summary(3)
	if m["partitions"] != 3 || m["pid"] != 42 || m["replication_factor"] != int16(1) || m["from_start"] != false || m["consumers"] != 1 {
		t.Fatalf("consume summary %v", m)
	}
	if _, ok := m["record_size"]; ok {
		t.Fatalf("consume summary has producer settings: %v", m)
	}
	p := Defaults(Produce)
	m = p.summary(6)
	if m["linger_ms"] != 5.0 || m["acks"] != "all" || m["duration_seconds"] != 10.0 {
		t.Fatalf("produce summary %v", m)
	}
	for _, k := range []string{"consumers", "from_start", "pid", "replication_factor"} {
		if _, ok := m[k]; ok {
			t.Fatalf("produce summary has %s: %v", k, m)
		}
	}
}
