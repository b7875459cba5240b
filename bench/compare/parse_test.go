package main

import (
	"math"
	"strings"
	"testing"
)

// Output captured from kafka-tools 4.4.0 against a local broker.
const producerPerfOut = `Option --producer-props has been deprecated and will be removed in a future version. Use --command-property instead.
33017 records sent, 6600.8 records/sec (6.45 MB/sec), 2731.6 ms avg latency, 3206.0 ms max latency.
90990 records sent, 18194.4 records/sec (17.77 MB/sec), 1824.1 ms avg latency, 2751.0 ms max latency.
200000 records sent, 15976.993130 records/sec (15.60 MB/sec), 1689.41 ms avg latency, 3206.00 ms max latency, 1266 ms 50th, 3060 ms 95th, 3165 ms 99th, 3200 ms 99.9th.
`

const consumerPerfOut = `Warning: --messages is deprecated. Use --num-records instead.
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-25 16:34:04:762, 2026-11-25 16:34:09:051, 195.3125, 45.5380, 200000, 46630.9163, 2272, 2017, 96.8332, 99157.1641
`

func TestParseProducerPerf(t *testing.T) {
	p, err := parseProducerPerf([]byte(producerPerfOut))
	if err != nil {
		t.Fatal(err)
	}
	want := producerPerf{records: 200000, recordsPerSec: 15976.99313, mibPerSec: 15.6, avgMs: 1689.41, maxMs: 3206,
		p50Ms: 1266, p95Ms: 3060, p99Ms: 3165, p999Ms: 3200}
	if p != want {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	// Interval lines alone are not a summary.
	if _, err := parseProducerPerf([]byte(strings.Split(producerPerfOut, "\n")[1])); err == nil {
		t.Fatal("interval line parsed as the summary")
	}
}

func TestParseConsumerPerf(t *testing.T) {
	c, err := parseConsumerPerf([]byte(consumerPerfOut))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]float64{"data.consumed.in.MB": 195.3125, "MB.sec": 45.538, "data.consumed.in.nMsg": 200000,
		"nMsg.sec": 46630.9163, "rebalance.time.ms": 2272, "fetch.time.ms": 2017, "fetch.MB.sec": 96.8332, "fetch.nMsg.sec": 99157.1641} {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if _, err := parseConsumerPerf([]byte("start.time, end.time\n")); err == nil {
		t.Fatal("header without result accepted")
	}
	broken := strings.Replace(consumerPerfOut, "45.5380", "fast", 1)
	if _, err := parseConsumerPerf([]byte(broken)); err == nil {
		t.Fatal("non-numeric field accepted")
	}
}

func TestParseBenchOutput(t *testing.T) {
	out := "warming up\n" +
		`{"workload":"produce","records":1000,"bytes":1024000,"seconds":2,"records_per_sec":500,"mb_per_sec":0.512,` +
		`"latency_ms":{"p50":1.5,"p99":3,"p999":7,"max":9},"broker_cpu_seconds":0.25,"broker_peak_rss_mib":40,"errors":0,"config":{"acks":"all"}}` + "\n"
	br, err := parseBenchOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if br.Records != 1000 || br.Bytes != 1024000 || br.LatencyMs.P999 != 7 || br.BrokerPeakRSSMiB != 40 || br.errorCount() != 0 {
		t.Fatalf("parsed %+v", br)
	}
	for raw, want := range map[string]int64{`3`: 3, `["a","b"]`: 2, `"boom"`: 1, `""`: 0, `{"x":1}`: 1} {
		if got := (benchResult{Errors: []byte(raw)}).errorCount(); got != want {
			t.Errorf("errors %s: count %d, want %d", raw, got, want)
		}
	}
	if _, err := parseBenchOutput([]byte("no json here\n")); err == nil {
		t.Fatal("output without JSON accepted")
	}
}

func TestSummarizeAndRatios(t *testing.T) {
	s, ok := summarize([]float64{5, 1, 3, 2})
	if !ok || s.median != 2.5 || s.min != 1 || s.max != 5 || s.n != 4 {
		t.Fatalf("%+v", s)
	}
	if _, ok := summarize(nil); ok {
		t.Fatal("empty summary ok")
	}
	h := newHarness(nil, &options{})
	add := func(sys string, round int, v float64, err string) {
		h.runs = append(h.runs, &run{Workload: "1", System: sys, Round: round, Metrics: map[string]float64{"x": v}, Err: err})
	}
	add(sysSamsa, 1, 10, "")
	add(sysKafka, 1, 5, "")
	add(sysSamsa, 2, 30, "")
	add(sysKafka, 2, 10, "")
	add(sysSamsa, 3, 99, "")
	add(sysKafka, 3, 1, "failed") // a failed run drops its round from the ratios
	r, _ := summarize(h.ratios("1", "x"))
	if r.n != 2 || r.min != 2 || r.max != 3 {
		t.Fatalf("ratios %+v", r)
	}
	if v := h.values("1", sysKafka, "x"); len(v) != 2 {
		t.Fatalf("values %v", v)
	}
	if got := fmtSummary(summary{median: 1234.5, min: 0.5, max: 12.34, n: 3}, true); got != "1234 (0.5–12.3)" && got != "1235 (0.5–12.3)" {
		t.Fatalf("fmtSummary %q", got)
	}
	if fmtNum(math.Pi) != "3.14" {
		t.Fatalf("fmtNum(pi) = %q", fmtNum(math.Pi))
	}
}

func TestReplaceGenerated(t *testing.T) {
	header := "# Bench\n\nhand-written\n"
	out, err := replaceGenerated([]byte(header), "first")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), header) || !strings.Contains(string(out), beginMarker+"\n\nfirst\n\n"+endMarker) {
		t.Fatalf("first write:\n%s", out)
	}
	withTrailer := string(out) + "\nhand-written footer\n"
	out2, err := replaceGenerated([]byte(withTrailer), "second")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out2)
	if strings.Contains(s, "first") || !strings.Contains(s, "second") || !strings.HasPrefix(s, header) || !strings.HasSuffix(s, "hand-written footer\n") {
		t.Fatalf("rewrite:\n%s", s)
	}
	if strings.Count(s, beginMarker) != 1 || strings.Count(s, endMarker) != 1 {
		t.Fatalf("markers duplicated:\n%s", s)
	}
	if _, err := replaceGenerated([]byte(beginMarker+"\nno end"), "x"); err == nil {
		t.Fatal("missing end marker accepted")
	}
}

func TestSelectWorkloads(t *testing.T) {
	ids, err := selectWorkloads("perf,4,1,4")
	if err != nil || strings.Join(ids, ",") != "1,4,perf" {
		t.Fatalf("%v %v", ids, err)
	}
	if _, err := selectWorkloads("8"); err == nil {
		t.Fatal("unknown workload accepted")
	}
	if o := (options{}).Defaults(); o.Validate() != nil {
		t.Fatalf("defaults invalid: %v", o.Validate())
	}
}

func TestKafkaClusterIDAndProps(t *testing.T) {
	for range 50 {
		id, err := kafkaClusterID()
		if err != nil || len(id) != 22 || strings.HasPrefix(id, "-") {
			t.Fatalf("cluster id %q, %v", id, err)
		}
	}
	p := kafkaServerProperties(9092, 9093, "/tmp/x")
	for _, want := range []string{"controller.quorum.voters=1@127.0.0.1:9093", "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093", "log.dirs=/tmp/x", "process.roles=broker,controller"} {
		if !strings.Contains(p, want+"\n") {
			t.Errorf("server.properties lacks %q", want)
		}
	}
	if l := log4j2Properties("/tmp/s.log"); !strings.Contains(l, "appender.file.layout.pattern = [%d] %p %m (%c)%n") {
		t.Errorf("log4j2 pattern escaped wrongly:\n%s", l)
	}
}
