package cli_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// These tests run `samsa bench` (the binary) against a real broker started
// by clustertest, with --pid pointing at the broker process, and read its
// --json output.

// runBenchCLI runs `samsa bench ARGS` and returns stdout, stderr and the
// error main printed.
func runBenchCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	r := runCLI(t, "", append([]string{"bench"}, args...)...)
	return r.stdout, r.stderr, r.err
}

// benchJSON runs a bench that must succeed and decodes its one JSON line.
func benchJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	stdout, stderr, err := runBenchCLI(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("samsa bench %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("stdout is not one line:\n%s", stdout)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	t.Logf("samsa bench %s:\n%s", strings.Join(args, " "), stderr)
	return m
}

func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("field %q missing or not a number in %v", key, m)
	}
	return v
}

// checkCommon checks the fields every workload reports.
func checkCommon(t *testing.T, m map[string]any, workload string, recordSize float64) {
	t.Helper()
	if m["workload"] != workload {
		t.Fatalf("workload = %v, want %s", m["workload"], workload)
	}
	records, bytes, secs := num(t, m, "records"), num(t, m, "bytes"), num(t, m, "seconds")
	if records <= 0 || secs <= 0 || secs > 30 {
		t.Fatalf("records %v seconds %v", records, secs)
	}
	if recordSize > 0 && bytes != records*recordSize {
		t.Fatalf("bytes %v, want records × %v = %v", bytes, recordSize, records*recordSize)
	}
	if rps := num(t, m, "records_per_sec"); rps <= 0 || rps < 0.99*records/secs || rps > 1.01*records/secs {
		t.Fatalf("records_per_sec %v for %v records in %v s", rps, records, secs)
	}
	if mbps := num(t, m, "mb_per_sec"); mbps <= 0 || mbps < 0.99*bytes/secs/(1<<20) || mbps > 1.01*bytes/secs/(1<<20) {
		t.Fatalf("mb_per_sec %v for %v bytes in %v s", mbps, bytes, secs)
	}
	cfg, ok := m["config"].(map[string]any)
	if !ok {
		t.Fatalf("config missing: %v", m)
	}
	if c, _ := cfg["compression"].(string); c == "" || c == "none" {
		if wire := num(t, m, "wire_bytes"); wire < bytes {
			t.Fatalf("wire_bytes %v below the %v value bytes", wire, bytes)
		}
	}
	if e := num(t, m, "errors"); e != 0 {
		t.Fatalf("errors %v (first: %v)", e, m["first_error"])
	}
	if cpu := num(t, m, "broker_cpu_seconds"); cpu < 0 || cpu > 2*secs*64 {
		t.Fatalf("broker_cpu_seconds %v", cpu)
	}
	if rss := num(t, m, "broker_peak_rss_mib"); rss <= 1 || rss > 1<<20 {
		t.Fatalf("broker_peak_rss_mib %v", rss)
	}
	if num(t, m, "broker_hwm_mib") <= 1 {
		t.Fatalf("broker_hwm_mib %v", m["broker_hwm_mib"])
	}
}

// checkLatency checks that a latency object is present and ordered.
func checkLatency(t *testing.T, m map[string]any, key string) {
	t.Helper()
	l, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s missing in %v", key, m)
	}
	p50, p99, p999, mx := num(t, l, "p50"), num(t, l, "p99"), num(t, l, "p999"), num(t, l, "max")
	if !(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= mx) {
		t.Fatalf("%s out of order: %v", key, l)
	}
	if mx > 30_000 {
		t.Fatalf("%s max %v ms is implausible", key, mx)
	}
}

func TestBenchEndToEnd(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{})
	pid := node.PID()
	if pid <= 0 {
		t.Fatalf("node pid %d", pid)
	}
	common := []string{"-b", node.Addr, "--pid", strconv.Itoa(pid), "--progress", "500ms"}

	var produced float64
	t.Run("produce", func(t *testing.T) {
		m := benchJSON(t, append([]string{"produce", "--create", "--partitions", "3", "--duration", "2s", "--record-size", "512"}, common...)...)
		checkCommon(t, m, "produce", 512)
		checkLatency(t, m, "latency_ms")
		produced = num(t, m, "records")
		cfg := m["config"].(map[string]any)
		if cfg["topic"] != "samsa-bench" || cfg["partitions"] != float64(3) || cfg["record_size"] != float64(512) || cfg["acks"] != "all" {
			t.Fatalf("config %v", cfg)
		}
		if _, ok := m["client_cpu_seconds"]; !ok {
			t.Fatal("client_cpu_seconds missing")
		}
	})

	t.Run("consume", func(t *testing.T) {
		if produced == 0 {
			t.Fatal("the produce subtest measured no records, so there is nothing to consume")
		}
		// --from-start with no --count stops once caught up with the
		// end: every produced record, read by two consumers.
		m := benchJSON(t, append([]string{"consume", "--from-start", "--consumers", "2"}, common...)...)
		checkCommon(t, m, "consume", 512)
		if got := num(t, m, "records"); got != produced {
			t.Fatalf("consumed %v records, produced %v", got, produced)
		}
		if _, ok := m["latency_ms"]; ok {
			t.Fatal("consume reports latency")
		}
		// --count stops at exactly that many.
		m = benchJSON(t, append([]string{"consume", "--from-start", "--count", "1000", "--consumers", "3"}, common...)...)
		if got := num(t, m, "records"); got != 1000 {
			t.Fatalf("--count 1000 consumed %v", got)
		}
	})

	t.Run("e2e", func(t *testing.T) {
		const rate, secs = 2000, 2.0
		m := benchJSON(t, append([]string{"e2e", "--topic", "bench-e2e", "--create", "--rate", "2000", "--duration", "2s", "--warmup", "500ms", "--record-size", "100"}, common...)...)
		checkCommon(t, m, "e2e", 100)
		checkLatency(t, m, "latency_ms")
		checkLatency(t, m, "produce_latency_ms")
		// A fixed rate over the measured window: records ≈ rate × duration.
		if got := num(t, m, "records"); got < 0.95*rate*secs || got > 1.05*rate*secs {
			t.Fatalf("e2e measured %v records at %v/s over %vs", got, rate, secs)
		}
		if _, ok := m["missing"]; ok {
			t.Fatalf("missing records: %v", m["missing"])
		}
	})

	t.Run("produce options", func(t *testing.T) {
		// acks=1 (no idempotence), compression, keys, several producers,
		// a --count bound with a warmup; --recreate on the e2e topic.
		m := benchJSON(t, append([]string{"produce", "--topic", "bench-e2e", "--recreate", "--partitions", "2", "--acks", "1", "--compression", "lz4",
			"--keys", "10", "--producers", "3", "--count", "3000", "--warmup", "200ms"}, common...)...)
		checkCommon(t, m, "produce", 1024)
		if got := num(t, m, "records"); got != 3000 {
			t.Fatalf("--count 3000 produced %v", got)
		}
		// lz4 on letters: fewer bytes on the wire than in the values.
		if wire, b := num(t, m, "wire_bytes"), num(t, m, "bytes"); wire >= b {
			t.Fatalf("lz4: wire %v not below value bytes %v", wire, b)
		}
		if got := m["config"].(map[string]any)["partitions"]; got != float64(2) {
			t.Fatalf("--recreate --partitions 2: topic has %v partitions", got)
		}
	})

	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		m := benchJSON(t, append([]string{"consume", "--from-start", "--group", "bench-group", "--consumers", "2"}, common...)...)
		checkCommon(t, m, "consume", 512)
		if got := num(t, m, "records"); got <= 0 || (produced > 0 && got > produced) {
			t.Fatalf("group consumed %v of %v", got, produced)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, _, err := runBenchCLI(t, "produce", "-b", node.Addr, "--topic", "no-such-topic", "--duration", "1s")
		if err == nil || err.Error() != "topic no-such-topic does not exist (--create creates it)" {
			t.Fatalf("missing topic: %v", err)
		}
		_, _, err = runBenchCLI(t, "consume", "-b", node.Addr, "--topic", "bench-empty", "--create", "--from-start")
		if err == nil || !strings.HasPrefix(err.Error(), "topic bench-empty has no records to consume") {
			t.Fatalf("empty topic: %v", err)
		}
		_, _, err = runBenchCLI(t, "produce", "-b", "127.0.0.1:1", "--timeout", "2s", "--duration", "1s")
		if err == nil || !strings.HasPrefix(err.Error(), "cannot reach a broker at 127.0.0.1:1") {
			t.Fatalf("unreachable broker: %v", err)
		}
		_, _, err = runBenchCLI(t, "produce", "-b", node.Addr, "--pid", "999999999", "--duration", "1s")
		if err == nil || !strings.HasPrefix(err.Error(), "cannot read process 999999999 (--pid)") {
			t.Fatalf("bad pid: %v", err)
		}
	})
}
