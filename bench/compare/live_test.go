package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
