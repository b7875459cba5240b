package connect

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Each implementation's pipeline runs distBenchWarmup, then is measured
// for distBenchWindow: the data is bounded by time, whatever b.N is.
const (
	distBenchWarmup = 5 * time.Second
	distBenchWindow = 15 * time.Second
	// distBenchMemoryLimitMB is the Samsa worker's soft memory limit
	// (samsa.memory.limit.mb), as -Xmx512m is the Java worker's heap cap.
	distBenchMemoryLimitMB = "128"
)

// distBenchResult is one implementation's measurement.
type distBenchResult struct {
	RecordsPerSec float64 // records the sink committed per second
	CPUPerMillion float64 // worker CPU-seconds (user+system) per million records
	RSSMB         float64 // worker resident set at the end of the window, MiB
}

// BenchmarkDistVerifiable is issue 16's Connect benchmark: VerifiableSource
// (2 tasks, unthrottled) -> topic (2 partitions) -> VerifiableSink (2
// tasks) on one Samsa Connect worker and on one Java Connect 4.4.0
// worker, both against the same Samsa broker in the same run. It reports
// each worker's records/s (sink-committed), CPU-seconds per million
// records and RSS, and the ratios Samsa/Java (goal: throughput >= 2,
// CPU <= 0.5, RSS <= 0.2). The Verifiable connectors print a JSON line per
// record on both sides, as in Kafka's system tests.
func BenchmarkDistVerifiable(b *testing.B) {
	broker := clustertest.Start(b, clustertest.Options{Args: []string{
		"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none",
	}})
	broker.RequireGroups(b)
	res := map[string]distBenchResult{}
	for _, impl := range []string{"samsa", "java"} {
		res[impl] = distBenchOne(b, broker, impl)
	}
	s, j := res["samsa"], res["java"]
	b.ReportMetric(s.RecordsPerSec, "samsa-rec/s")
	b.ReportMetric(j.RecordsPerSec, "java-rec/s")
	b.ReportMetric(s.CPUPerMillion, "samsa-cpu-s/Mrec")
	b.ReportMetric(j.CPUPerMillion, "java-cpu-s/Mrec")
	b.ReportMetric(s.RSSMB, "samsa-rss-MiB")
	b.ReportMetric(j.RSSMB, "java-rss-MiB")
	if j.RecordsPerSec > 0 && j.CPUPerMillion > 0 && j.RSSMB > 0 {
		b.ReportMetric(s.RecordsPerSec/j.RecordsPerSec, "throughput-ratio")
		b.ReportMetric(s.CPUPerMillion/j.CPUPerMillion, "cpu-ratio")
		b.ReportMetric(s.RSSMB/j.RSSMB, "rss-ratio")
	}
}

// distBenchOne runs and measures one implementation's worker.
func distBenchOne(b *testing.B, broker *clustertest.Node, impl string) distBenchResult {
	b.Helper()
	topic := "dist-bench-" + impl
	cl := broker.Client(b)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		b.Fatalf("create %s: %v", topic, err)
	}
	cfg := javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "dist-bench-" + impl}
	var w distWorker
	var stop func()
	if impl == "samsa" {
		props := distSamsaProps(cfg)
		props["samsa.memory.limit.mb"] = distBenchMemoryLimitMB // as the Java worker's -Xmx
		sw := distStartSamsa(b, props)[0]
		w, stop = sw, sw.Stop
	} else {
		jw := distStartJava(b, cfg)
		w, stop = jw, jw.Stop
	}
	defer stop()
	distPost(b, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"vsrc","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSourceConnector","tasks.max":"2","topic":"`+topic+`","throughput":"-1"}}`, http.StatusCreated)
	distPost(b, http.MethodPost, w.RESTURL()+"/connectors", `{"name":"vsink","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSinkConnector","tasks.max":"2","topics":"`+topic+`"}}`, http.StatusCreated)
	for _, c := range []string{"vsrc", "vsink"} {
		distWaitFor(b, w.RESTURL()+"/connectors/"+c+"/status", 90*time.Second, javaAllRunning(2))
	}
	time.Sleep(distBenchWarmup)
	sunk := func() int64 {
		offs, err := adm.FetchOffsets(ctx, "connect-vsink")
		if err != nil {
			b.Fatalf("fetch connect-vsink's offsets: %v", err)
		}
		var n int64
		offs.Each(func(o kadm.OffsetResponse) { n += o.At })
		return n
	}
	n0, cpu0 := sunk(), distCPU(b, w.PID())
	t0 := time.Now()
	b.ResetTimer()
	time.Sleep(distBenchWindow)
	n1, cpu1 := sunk(), distCPU(b, w.PID())
	elapsed := time.Since(t0)
	b.StopTimer()
	_, rss, err := distProcStat(w.PID())
	if err != nil {
		b.Fatal(err)
	}
	records := n1 - n0
	if records <= 0 {
		b.Fatalf("%s: the sink committed no record in %s", impl, elapsed)
	}
	r := distBenchResult{
		RecordsPerSec: float64(records) / elapsed.Seconds(),
		CPUPerMillion: (cpu1 - cpu0).Seconds() / float64(records) * 1e6,
		RSSMB:         float64(rss) / (1 << 20),
	}
	b.Logf("%s: %d records in %s: %.0f records/s, %.2f CPU-s per million records, RSS %.0f MiB",
		impl, records, elapsed.Round(time.Millisecond), r.RecordsPerSec, r.CPUPerMillion, r.RSSMB)
	return r
}

// distCPU is a process's CPU time so far.
func distCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	cpu, _, err := distProcStat(pid)
	if err != nil {
		b.Fatal(err)
	}
	return cpu
}
