package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func TestMachineLimits(t *testing.T) {
	l, err := measureLimits(context.Background(), t.TempDir(), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if l.appendMBps <= 0 || l.loopbackMBps <= 0 {
		t.Fatalf("limits %+v", l)
	}
}

// TestProbeAndIdleConns runs the ApiVersions probe and the idle connections
// of workload 5 against a real Samsa node.
func TestProbeAndIdleConns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	n := clustertest.Start(t, clustertest.Options{})
	ctx := context.Background()
	if _, err := probe(ctx, n.Addr, nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ic, err := openIdle(ctx, n.Addr, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.close()
	if got := ic.alive(); got != 50 {
		t.Fatalf("%d of 50 idle connections alive", got)
	}
	ic.conns[0].Close()
	ic.conns[0] = nil
	if got := ic.alive(); got != 49 {
		t.Fatalf("%d of 49 idle connections alive", got)
	}
	if _, err := probe(ctx, "127.0.0.1:1", nil, time.Second); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}

// TestKafkaLifecycle formats, starts, probes and stops Kafka from the jars
// of `make kafka-dist`, and runs both perf tools against it; skipped when
// the jars are not there.
func TestKafkaLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM broker")
	}
	o := options{}.Defaults()
	libs, _ := filepath.Abs(filepath.Join("..", "..", o.kafkaLibs))
	if _, err := os.Stat(filepath.Join(libs, "kafka_2.13-"+kafkaVersion+".jar")); err != nil {
		t.Skip("no Kafka jars; run `make kafka-dist`")
	}
	o.kafkaLibs = libs
	o.workDir = t.TempDir()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	b, err := startKafka(ctx, lg, &o, o.workDir, secPlaintext)
	if err != nil {
		t.Fatal(err)
	}
	defer b.stop(lg)
	if b.readyAfter <= 0 || b.idleRSS <= 0 {
		t.Fatalf("ready %v idle rss %v", b.readyAfter, b.idleRSS)
	}
	o.perfRecords = 2000
	h := newHarness(lg, &o)
	r := &run{Workload: "perf", System: sysKafka, Metrics: map[string]float64{}}
	if err := h.perfTools(ctx, b, r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pp_records_per_sec", "pp_p99_ms", "cp_records_per_sec", "cp_mb_per_sec"} {
		if r.Metrics[k] <= 0 {
			t.Errorf("%s = %v", k, r.Metrics[k])
		}
	}
	if err := b.stop(lg); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	default:
		t.Fatal("Kafka still running after stop")
	}
}

// TestSecureRuns starts each broker with its SASL_SSL listener (Kafka only
// when the jars are there) and runs samsa bench produce and consume through
// it, as workloads tls1 and tls3 do.
func TestSecureRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts brokers")
	}
	o := options{}.Defaults()
	o.samsaBin = clustertest.Binary(t)
	o.duration, o.warmup = 2*time.Second, 0
	starts := map[string]func(context.Context, *slog.Logger, *options, string, string) (*broker, error){sysSamsa: startSamsa}
	if libs, _ := filepath.Abs(filepath.Join("..", "..", o.kafkaLibs)); fileExists(filepath.Join(libs, "kafka_2.13-"+kafkaVersion+".jar")) {
		o.kafkaLibs = libs
		starts[sysKafka] = startKafka
	} else {
		t.Log("no Kafka jars (make kafka-dist): Samsa only")
	}
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	for sys, start := range starts {
		t.Run(sys, func(t *testing.T) {
			o.workDir = t.TempDir()
			b, err := start(ctx, lg, &o, o.workDir, secSASLSSL)
			if err != nil {
				t.Fatal(err)
			}
			defer b.stop(lg)
			if b.tls != "TLSv1.3 TLS_AES_128_GCM_SHA256" || b.sec == nil {
				t.Fatalf("negotiated %q", b.tls)
			}
			h := newHarness(lg, &o)
			r := &run{Workload: "tls3", System: sys, Security: secSASLSSL, Metrics: map[string]float64{}}
			br, err := h.benchRun(ctx, b, r, "", "produce", "--topic", "t", "--create", "--partitions", "2", "--record-size", "1024",
				"--count", "2000", "--duration", "1m", "--warmup", "0s", "--rate", "0")
			if err != nil {
				t.Fatal(err)
			}
			if br.Records != 2000 || !strings.Contains(string(br.Config), `"security_protocol":"SASL_SSL"`) || !strings.Contains(string(br.Config), `"sasl_mechanism":"SCRAM-SHA-512"`) {
				t.Fatalf("produce: %d records, config %s", br.Records, br.Config)
			}
			if br, err = h.benchRun(ctx, b, r, "", "consume", "--topic", "t", "--from-start", "--count", "2000", "--duration", "1m", "--warmup", "0s"); err != nil || br.Records != 2000 {
				t.Fatalf("consume: %d records, %v", br.Records, err)
			}
			if _, ok := r.Metrics["cpu_s_per_gb"]; !ok || r.Metrics["errors"] != 0 {
				t.Fatalf("metrics %v notes %v", r.Metrics, r.Notes)
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
