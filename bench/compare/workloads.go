package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const kafkaVersion = "4.4.0"

// allWorkloads in run order; "7" (3 nodes, RF=3) only appears in the table.
// tls1 and tls3 are workloads 1 and 3 with each broker run twice a round:
// PLAINTEXT and SASL_SSL.
var allWorkloads = []string{"1", "2", "3", "4", "5", "6", "tls1", "tls3", "perf"}

func selectWorkloads(s string) ([]string, error) {
	if s == "all" || s == "" {
		return allWorkloads, nil
	}
	var ids []string
	for _, id := range strings.Split(s, ",") {
		id = strings.TrimSpace(id)
		if !slices.Contains(allWorkloads, id) {
			return nil, fmt.Errorf("unknown workload %q (have %s)", id, strings.Join(allWorkloads, ","))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	// Workload 4 takes its rate from workload 1, so keep the canonical order.
	slices.SortFunc(ids, func(a, b string) int { return slices.Index(allWorkloads, a) - slices.Index(allWorkloads, b) })
	return ids, nil
}

func needsBench(ids []string) bool {
	for _, id := range ids {
		if id != "perf" {
			return true
		}
	}
	return false
}

// run is one broker process under one workload.
type run struct {
	Workload string             `json:"workload"`
	System   string             `json:"system"`
	Round    int                `json:"round"`
	Security string             `json:"security,omitempty"` // "" (PLAINTEXT) or SASL_SSL
	TLS      string             `json:"tls,omitempty"`      // what the probe negotiated
	Metrics  map[string]float64 `json:"metrics"`
	Err      string             `json:"error,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

// metric is one row of a workload's table.
type metric struct {
	key, label string
	// limit names the machine limit the Samsa value is also shown as a
	// fraction of: "append" or "loopback".
	limit string
}

type workload struct {
	id, title string
	runs      int
	metrics   []metric
	// body drives the load against a started broker and fills r.Metrics.
	body func(ctx context.Context, b *broker, r *run) error
}

// harness holds the state of one bench-compare invocation.
type harness struct {
	lg       *slog.Logger
	o        *options
	runs     []*run
	limits   []limits
	limitErr []string
	// commands records one command line per workload and step, with the
	// broker address and pid replaced by ADDR and PID.
	commands map[string][]string
	starts   map[string][]*broker // per system, for idle RSS and start time
	took     map[string]time.Duration
	total    time.Duration
	e2eRate  int
	e2eWhy   string
}

func newHarness(lg *slog.Logger, o *options) *harness {
	return &harness{lg: lg, o: o, commands: map[string][]string{}, starts: map[string][]*broker{}, took: map[string]time.Duration{}}
}

var (
	mThroughput = []metric{
		{"records_per_sec", "records/s", ""},
		{"mb_per_sec", "MB/s", "append"},
	}
	mLatency = []metric{
		{"p50_ms", "latency p50 (ms)", ""},
		{"p99_ms", "latency p99 (ms)", ""},
		{"p999_ms", "latency p99.9 (ms)", ""},
	}
	mClient    = []metric{{"client_cores", "load generator CPU (cores)", ""}}
	mResources = []metric{
		{"cpu_s_per_gb", "broker CPU-s per GB", ""},
		{"peak_rss_mib", "broker peak RSS (MiB)", ""},
	}
)

func concat(ms ...[]metric) []metric { return slices.Concat(ms...) }

// workload returns the definition of workload id.
func (h *harness) workload(id string) workload {
	o := h.o
	produce := func(topic string, parts int, extra ...string) []string {
		a := []string{"produce", "--topic", topic, "--create", "--partitions", strconv.Itoa(parts),
			"--duration", o.duration.String(), "--warmup", o.warmup.String(), "--producers", "1", "--rate", "0"}
		return append(a, extra...)
	}
	switch id {
	case "1":
		return workload{id, "produce 1 KiB records, 6 partitions, acks=all, 1 producer, unlimited rate", o.runs,
			concat(mThroughput, mLatency, mResources, mClient),
			func(ctx context.Context, b *broker, r *run) error {
				_, err := h.benchRun(ctx, b, r, "", produce("w1", 6, "--record-size", "1024", "--acks", "all", "--linger", "5ms", "--compression", "none")...)
				return err
			}}
	case "2":
		return workload{id, "produce 100 B records, 6 partitions, acks=1, linger 5 ms (LinkedIn shape)", o.runs,
			concat(mThroughput, mLatency, mResources, mClient),
			func(ctx context.Context, b *broker, r *run) error {
				_, err := h.benchRun(ctx, b, r, "", produce("w2", 6, "--record-size", "100", "--acks", "1", "--linger", "5ms", "--compression", "none")...)
				return err
			}}
	case "3":
		return workload{id, fmt.Sprintf("consume %d pre-produced 1 KiB records from a warm page cache, 6 partitions, 1 consumer", o.consumeCount), o.shortRuns,
			[]metric{{"records_per_sec", "records/s", ""}, {"mb_per_sec", "MB/s", "loopback"}, {"cpu_s_per_gb", "broker CPU-s per GB", ""}, {"peak_rss_mib", "broker peak RSS (MiB)", ""}, {"client_cores", "load generator CPU (cores)", ""}, {"preproduce_mb_per_sec", "pre-produce MB/s (acks=1)", ""}},
			func(ctx context.Context, b *broker, r *run) error {
				count := strconv.Itoa(o.consumeCount)
				pre, err := h.benchRun(ctx, b, r, "pre", "produce", "--topic", "w3", "--create", "--partitions", "6",
					"--record-size", "1024", "--acks", "1", "--linger", "5ms", "--compression", "none",
					"--count", count, "--duration", "10m", "--warmup", "0s", "--producers", "1", "--rate", "0")
				if err != nil {
					return fmt.Errorf("pre-produce: %w", err)
				}
				if pre.Records < int64(o.consumeCount) {
					return fmt.Errorf("pre-produce wrote %d of %d records", pre.Records, o.consumeCount)
				}
				_, err = h.benchRun(ctx, b, r, "", "consume", "--topic", "w3", "--from-start", "--count", count,
					"--duration", "10m", "--warmup", "0s", "--consumers", "1")
				return err
			}}
	case "4":
		return workload{id, "end-to-end latency at a fixed rate, 1 KiB records, 6 partitions, acks=all", o.runs,
			concat([]metric{{"records_per_sec", "records/s achieved", ""}}, mLatency, []metric{{"max_ms", "latency max (ms)", ""}, {"produce_p99_ms", "send→ack p99 (ms)", ""}}, mResources, mClient),
			func(ctx context.Context, b *broker, r *run) error {
				br, err := h.benchRun(ctx, b, r, "", "e2e", "--topic", "w4", "--create", "--partitions", "6",
					"--record-size", "1024", "--acks", "all", "--linger", "5ms", "--compression", "none", "--rate", strconv.Itoa(h.e2eRate),
					"--duration", o.duration.String(), "--warmup", o.warmup.String(), "--producers", "1", "--consumers", "1")
				if err == nil && br.RecordsPerSec < 0.9*float64(h.e2eRate) {
					r.Notes = append(r.Notes, fmt.Sprintf("did not keep up with the target rate (%.0f of %d records/s): saturated, latency includes queueing", br.RecordsPerSec, h.e2eRate))
				}
				return err
			}}
	case "5":
		return workload{id, fmt.Sprintf("%d partitions and %d idle connections: produce 1 KiB records, acks=all, keyed over 100k keys", o.manyParts, o.idleConns), o.shortRuns,
			concat(mThroughput, mLatency, mResources, mClient, []metric{{"rss_with_idle_mib", "RSS with idle conns, before load (MiB)", ""}, {"idle_alive", "idle conns still open after the run", ""}, {"prewarm_s", "topic create + 1 record per partition (s)", ""}}),
			func(ctx context.Context, b *broker, r *run) error {
				ic, err := openIdle(ctx, b.addr, o.idleConns)
				if err != nil {
					return err
				}
				defer ic.close()
				h.note("5", fmt.Sprintf("harness: create topic w5 with %d partitions (kadm), then one record to each partition, acks=all, waiting for every ack (untimed: partition set-up is not part of the measurement)", o.manyParts))
				ps := time.Now()
				if err := prewarmTopic(ctx, b.addr, "w5", int32(o.manyParts)); err != nil {
					return fmt.Errorf("prewarm: %w", err)
				}
				r.Metrics["prewarm_s"] = time.Since(ps).Seconds()
				h.note("5", fmt.Sprintf("harness: %d TCP connections to ADDR, each one ApiVersions v0 round trip, then silent until the run ends", o.idleConns))
				time.Sleep(time.Second)
				if m, err := b.proc().Memory(); err == nil {
					r.Metrics["rss_with_idle_mib"] = m.RSSMiB()
				}
				_, err = h.benchRun(ctx, b, r, "", produce("w5", o.manyParts, "--record-size", "1024", "--acks", "all", "--linger", "5ms", "--compression", "none", "--keys", "100000")...)
				r.Metrics["idle_alive"] = float64(ic.alive())
				return err
			}}
	case "6":
		return workload{id, "produce 1 KiB records with zstd-compressed batches, 6 partitions, acks=all", o.shortRuns,
			concat(mThroughput, mLatency, mResources, mClient),
			func(ctx context.Context, b *broker, r *run) error {
				_, err := h.benchRun(ctx, b, r, "", produce("w6", 6, "--record-size", "1024", "--acks", "all", "--linger", "5ms", "--compression", "zstd")...)
				return err
			}}
	case "tls1", "tls3":
		w := h.workload(strings.TrimPrefix(id, "tls"))
		w.id, w.runs = id, o.shortRuns
		w.title += "; each broker PLAINTEXT and SASL_SSL (TLS 1.3, SCRAM-SHA-512)"
		return w
	case "perf":
		return workload{id, fmt.Sprintf("Kafka's own perf tools: ProducerPerformance (%d × 1 KiB, acks=all, unthrottled) then ConsumerPerformance of the same records, 6 partitions", o.perfRecords), o.shortRuns,
			[]metric{
				{"pp_records_per_sec", "ProducerPerformance records/s", ""},
				{"pp_mb_per_sec", "ProducerPerformance MB/s", "append"},
				{"pp_p50_ms", "ProducerPerformance p50 (ms)", ""},
				{"pp_p99_ms", "ProducerPerformance p99 (ms)", ""},
				{"pp_p999_ms", "ProducerPerformance p99.9 (ms)", ""},
				{"pp_cpu_s_per_gb", "produce: broker CPU-s per GB", ""},
				{"cp_records_per_sec", "ConsumerPerformance records/s", ""},
				{"cp_mb_per_sec", "ConsumerPerformance MB/s", "loopback"},
				{"cp_fetch_mb_per_sec", "ConsumerPerformance fetch MB/s (after join)", "loopback"},
				{"cp_rebalance_ms", "ConsumerPerformance rebalance (join) time (ms)", ""},
				{"cp_cpu_s_per_gb", "consume: broker CPU-s per GB", ""},
				{"peak_rss_mib", "broker peak RSS (MiB)", ""},
			},
			h.perfTools}
	}
	panic("unknown workload " + id)
}

// runWorkload runs rounds of Samsa then Kafka, measuring the machine limits
// at the start of each round.
func (h *harness) runWorkload(ctx context.Context, w workload) {
	if w.id == "4" {
		h.chooseE2ERate()
	}
	for round := range w.runs {
		if ctx.Err() != nil {
			return
		}
		lim, err := measureLimits(ctx, h.o.workDir, h.o.limitBytes)
		if err != nil {
			h.limitErr = append(h.limitErr, err.Error())
			h.lg.Warn("machine limits", "err", err)
		} else {
			h.limits = append(h.limits, lim)
			h.lg.Info("machine limits", "append_MBps", int(lim.appendMBps), "loopback_MBps", int(lim.loopbackMBps))
		}
		for _, v := range w.variants(round) {
			r := h.runOne(ctx, w, v.system, v.security, round, lim)
			h.runs = append(h.runs, r)
			attrs := []any{"workload", w.id, "system", v.system, "round", round + 1}
			if w.security() {
				attrs = append(attrs, "security", securityName(v.security), "tls", r.TLS)
			}
			for _, m := range w.metrics {
				if v, ok := r.Metrics[m.key]; ok {
					attrs = append(attrs, m.key, fmtNum(v))
				}
			}
			if r.Err != "" {
				h.lg.Error("run failed", append(attrs, "err", firstLine(r.Err))...)
			} else {
				h.lg.Info("run", attrs...)
			}
		}
	}
}

// security reports whether each round runs every system PLAINTEXT and
// SASL_SSL: the tls workloads.
func (w workload) security() bool { return strings.HasPrefix(w.id, "tls") }

// variant is one broker set-up of a round: a system and its listener's
// security.
type variant struct{ system, security string }

// variants are the runs of one round in order: Samsa then Kafka; for a
// security workload each system PLAINTEXT and SASL_SSL back to back,
// SASL_SSL first in every second round so that drift within a round does
// not always fall on the same side of the TLS cost.
func (w workload) variants(round int) []variant {
	if !w.security() {
		return []variant{{sysSamsa, secPlaintext}, {sysKafka, secPlaintext}}
	}
	secs := []string{secPlaintext, secSASLSSL}
	if round%2 == 1 {
		secs = []string{secSASLSSL, secPlaintext}
	}
	var vs []variant
	for _, sys := range []string{sysSamsa, sysKafka} {
		for _, sec := range secs {
			vs = append(vs, variant{sys, sec})
		}
	}
	return vs
}

func securityName(sec string) string {
	if sec == secPlaintext {
		return "PLAINTEXT"
	}
	return sec
}

// chooseE2ERate sets the workload-4 rate: -e2e-rate if given, else half of
// the slower system's median workload-1 records/s.
func (h *harness) chooseE2ERate() {
	if h.o.e2eRate > 0 {
		h.e2eRate = h.o.e2eRate
		h.e2eWhy = "set with -e2e-rate"
		return
	}
	med := map[string]float64{}
	for _, sys := range []string{sysSamsa, sysKafka} {
		if s, ok := summarize(h.values("1", sys, "records_per_sec")); ok {
			med[sys] = s.median
		}
	}
	if len(med) == 2 {
		slower := min(med[sysSamsa], med[sysKafka])
		h.e2eRate = max(1, int(slower/2))
		h.e2eWhy = fmt.Sprintf("half the slower system's median workload-1 rate (Samsa %.0f, Kafka %.0f records/s), so both run below saturation", med[sysSamsa], med[sysKafka])
		return
	}
	h.e2eRate = 5000
	h.e2eWhy = "fallback (workload 1 did not produce medians for both systems)"
}

// runOne starts a fresh broker in a fresh directory, runs the workload body
// against it and stops it.
func (h *harness) runOne(ctx context.Context, w workload, sys, sec string, round int, lim limits) *run {
	r := &run{Workload: w.id, System: sys, Round: round + 1, Security: sec, Metrics: map[string]float64{}}
	name := fmt.Sprintf("w%s-%s-%d", w.id, strings.ToLower(sys), round+1)
	if sec != secPlaintext {
		name += "-" + strings.ToLower(sec)
	}
	dir := filepath.Join(h.o.workDir, "runs", name)
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.Err = err.Error()
		return r
	}
	if !h.o.keep {
		defer os.RemoveAll(dir)
	}
	b, err := h.startBroker(ctx, sys, sec, dir)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.TLS = b.tls
	if sec == secPlaintext {
		h.starts[sys] = append(h.starts[sys], b)
	} else {
		for _, n := range securityNotes(sys) {
			h.note(w.id, n)
		}
	}
	r.Metrics["idle_rss_mib"] = b.idleRSS
	r.Metrics["ready_ms"] = float64(b.readyAfter) / float64(time.Millisecond)
	err = w.body(ctx, b, r)
	if m, merr := b.proc().Memory(); merr == nil {
		if r.Metrics["peak_rss_mib"] == 0 {
			r.Metrics["peak_rss_mib"] = m.HWMMiB()
		}
	}
	if serr := b.stop(h.lg); serr != nil {
		r.Notes = append(r.Notes, serr.Error())
	}
	if err != nil {
		r.Err = err.Error()
		if log := tail(b.logPath, 1500); log != "" {
			r.Err += "\nbroker log tail:\n" + log
		}
		return r
	}
	for _, m := range w.metrics {
		if v, ok := r.Metrics[m.key]; ok && m.limit != "" {
			lv := lim.appendMBps
			if m.limit == "loopback" {
				lv = lim.loopbackMBps
			}
			if lv > 0 {
				r.Metrics[m.key+"_frac"] = v / lv
			}
		}
	}
	return r
}

// startBroker starts sys with security sec in dir. A port found free can
// be taken before the broker binds it, so a failed start gets one more try
// on fresh ports.
func (h *harness) startBroker(ctx context.Context, sys, sec, dir string) (*broker, error) {
	start := startSamsa
	if sys == sysKafka {
		start = startKafka
	}
	b, err := start(ctx, h.lg, h.o, dir, sec)
	if err != nil && ctx.Err() == nil {
		h.lg.Warn("broker start failed; retrying once", "system", sys, "err", firstLine(err.Error()))
		_ = os.RemoveAll(dir)
		if merr := os.MkdirAll(dir, 0o755); merr == nil {
			b, err = start(ctx, h.lg, h.o, dir, sec)
		}
	}
	return b, err
}

// benchResult is the JSON line `samsa bench … --json` prints.
type benchResult struct {
	Workload      string  `json:"workload"`
	Records       int64   `json:"records"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	LatencyMs     struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
	} `json:"latency_ms"`
	ProduceLatencyMs struct {
		P99 float64 `json:"p99"`
	} `json:"produce_latency_ms"`
	BrokerCPUSeconds float64         `json:"broker_cpu_seconds"`
	BrokerPeakRSSMiB float64         `json:"broker_peak_rss_mib"`
	ClientCPUSeconds float64         `json:"client_cpu_seconds"`
	Errors           json.RawMessage `json:"errors"`
	Missing          int64           `json:"missing"`
	FirstError       string          `json:"first_error"`
	Interrupted      bool            `json:"interrupted"`
	Config           json.RawMessage `json:"config"`
}

// errorCount reads "errors" as a number, a list or a string.
func (br benchResult) errorCount() int64 {
	if len(br.Errors) == 0 {
		return 0
	}
	var n float64
	if json.Unmarshal(br.Errors, &n) == nil {
		return int64(n)
	}
	var l []json.RawMessage
	if json.Unmarshal(br.Errors, &l) == nil {
		return int64(len(l))
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(br.Errors, &m) == nil {
		return int64(len(m))
	}
	var s string
	if json.Unmarshal(br.Errors, &s) == nil && s != "" {
		return 1
	}
	return 0
}

// parseBenchOutput takes the last line of stdout that is a JSON object.
func parseBenchOutput(out []byte) (benchResult, error) {
	var br benchResult
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		l := bytes.TrimSpace(lines[i])
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		if err := json.Unmarshal(l, &br); err != nil {
			return br, fmt.Errorf("samsa bench JSON: %w", err)
		}
		return br, nil
	}
	return br, errors.New("samsa bench printed no JSON line")
}

// benchCommand returns the arguments of `samsa bench ARGS` against b, and
// the same with the broker's address, pid and client.properties path
// replaced by ADDR, PID and client.properties, for the report.
func benchCommand(b *broker, args []string) (full, tmpl []string) {
	pid := strconv.Itoa(b.pid())
	full = append(append([]string{"bench"}, args...), "-b", b.addr, "--pid", pid, "--timeout", "60s", "--allow-errors", "--json")
	props := "\x00"
	if b.sec != nil {
		props = b.sec.clientProps
		full = append(full, "--command-config", props)
	}
	for _, a := range full {
		switch a {
		case b.addr:
			a = "ADDR"
		case pid:
			a = "PID"
		case props:
			a = "client.properties"
		}
		tmpl = append(tmpl, a)
	}
	return full, tmpl
}

// benchRun runs `samsa bench ARGS -b ADDR --pid PID --json` against b. With
// prefix "" its result fills the run's main metrics; otherwise
// PREFIX_mb_per_sec only (a preparatory step).
func (h *harness) benchRun(ctx context.Context, b *broker, r *run, prefix string, args ...string) (benchResult, error) {
	full, tmpl := benchCommand(b, args)
	h.note(r.Workload, "samsa "+strings.Join(tmpl, " "))

	timeout := h.o.warmup + h.o.duration + 2*time.Minute
	if slices.Contains(args, "--count") {
		timeout = 12 * time.Minute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cpu0, _ := b.proc().CPUSeconds()
	cmd := exec.CommandContext(cctx, h.o.samsaBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	cpu1, _ := b.proc().CPUSeconds()
	name := "bench"
	if prefix != "" {
		name = "bench-" + prefix
	}
	_ = os.WriteFile(filepath.Join(b.dir, name+".stdout"), stdout.Bytes(), 0o644)
	_ = os.WriteFile(filepath.Join(b.dir, name+".stderr"), stderr.Bytes(), 0o644)
	if err != nil {
		return benchResult{}, fmt.Errorf("samsa %s: %w\n%s", strings.Join(tmpl, " "), err, lastLines(stderr.String(), 15))
	}
	br, err := parseBenchOutput(stdout.Bytes())
	if err != nil {
		return br, fmt.Errorf("%w\nstderr:\n%s", err, lastLines(stderr.String(), 15))
	}
	if br.Records == 0 {
		return br, fmt.Errorf("samsa bench %s measured no records (errors %d, first error %q); stderr:\n%s", args[0], br.errorCount(), br.FirstError, lastLines(stderr.String(), 6))
	}
	if n := br.errorCount(); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("samsa bench %s reported %d errors (first: %s)", args[0], n, br.FirstError))
		r.Metrics[prefixed(prefix, "errors")] += float64(n)
	}
	if br.Missing > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("samsa bench %s: %d acknowledged records never consumed", args[0], br.Missing))
	}
	if br.Interrupted {
		r.Notes = append(r.Notes, fmt.Sprintf("samsa bench %s was interrupted", args[0]))
	}
	mbps := br.MBPerSec
	if br.Seconds > 0 && br.Bytes > 0 {
		mbps = float64(br.Bytes) / br.Seconds / 1e6
	}
	if prefix != "" {
		r.Metrics[prefix+"produce_mb_per_sec"] = mbps
		return br, nil
	}
	r.Metrics["records_per_sec"] = br.RecordsPerSec
	r.Metrics["mb_per_sec"] = mbps
	r.Metrics["p50_ms"] = br.LatencyMs.P50
	r.Metrics["p99_ms"] = br.LatencyMs.P99
	r.Metrics["p999_ms"] = br.LatencyMs.P999
	r.Metrics["max_ms"] = br.LatencyMs.Max
	if br.ProduceLatencyMs.P99 > 0 {
		r.Metrics["produce_p99_ms"] = br.ProduceLatencyMs.P99
	}
	if br.Seconds > 0 && br.ClientCPUSeconds > 0 {
		r.Metrics["client_cores"] = br.ClientCPUSeconds / br.Seconds
	}
	cpu := br.BrokerCPUSeconds
	if cpu <= 0 && cpu1 > cpu0 {
		cpu = cpu1 - cpu0
		r.Notes = append(r.Notes, "broker CPU from /proc over the whole bench run (samsa bench reported none)")
	}
	if br.Bytes > 0 {
		r.Metrics["cpu_s_per_gb"] = cpu / (float64(br.Bytes) / 1e9)
	}
	if br.BrokerPeakRSSMiB > 0 {
		r.Metrics["peak_rss_mib"] = br.BrokerPeakRSSMiB
	}
	return br, nil
}

func prefixed(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "_" + key
}

// note records a command line (or other how-it-ran line) for the report,
// once per workload.
func (h *harness) note(workload, line string) {
	if !slices.Contains(h.commands[workload], line) {
		h.commands[workload] = append(h.commands[workload], line)
	}
}

// perfTools runs ProducerPerformance and then ConsumerPerformance of the same
// records against b, on a 6-partition topic the harness creates first.
func (h *harness) perfTools(ctx context.Context, b *broker, r *run) error {
	const topic = "perf"
	if err := createTopic(ctx, b.addr, topic, 6); err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	h.note("perf", "harness: CreateTopics perf, 6 partitions, replication factor 1 (kadm)")
	java := "java " + strings.Join(toolJVMOpts, " ") + " -Dlog4j2.configurationFile=… -cp '.cache/kafka/libs/*' "
	pargs := producerPerfArgs(b.addr, topic, h.o.perfRecords)
	h.note("perf", java+"org.apache.kafka.tools.ProducerPerformance "+strings.ReplaceAll(strings.Join(pargs, " "), b.addr, "ADDR"))
	cpu0, _ := b.proc().CPUSeconds()
	out, err := h.o.runJavaTool(ctx, 15*time.Minute, filepath.Join(b.dir, "producer-perf.out"), "org.apache.kafka.tools.ProducerPerformance", pargs...)
	if err != nil {
		return err
	}
	cpu1, _ := b.proc().CPUSeconds()
	pp, err := parseProducerPerf(out)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, lastLines(string(out), 10))
	}
	r.Metrics["pp_records_per_sec"] = pp.recordsPerSec
	r.Metrics["pp_mb_per_sec"] = pp.mibPerSec * mib / 1e6
	r.Metrics["pp_p50_ms"] = pp.p50Ms
	r.Metrics["pp_p99_ms"] = pp.p99Ms
	r.Metrics["pp_p999_ms"] = pp.p999Ms
	bytesMoved := float64(pp.records) * 1024
	r.Metrics["pp_cpu_s_per_gb"] = (cpu1 - cpu0) / (bytesMoved / 1e9)

	cargs := consumerPerfArgs(b.addr, topic, h.o.perfRecords)
	h.note("perf", java+"org.apache.kafka.tools.ConsumerPerformance "+strings.ReplaceAll(strings.Join(cargs, " "), b.addr, "ADDR"))
	cpu0, _ = b.proc().CPUSeconds()
	out, err = h.o.runJavaTool(ctx, 15*time.Minute, filepath.Join(b.dir, "consumer-perf.out"), "org.apache.kafka.tools.ConsumerPerformance", cargs...)
	if err != nil {
		return err
	}
	cpu1, _ = b.proc().CPUSeconds()
	cp, err := parseConsumerPerf(out)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, lastLines(string(out), 10))
	}
	if got := cp["data.consumed.in.nMsg"]; got < float64(h.o.perfRecords) {
		r.Notes = append(r.Notes, fmt.Sprintf("ConsumerPerformance read %.0f of %d records", got, h.o.perfRecords))
	}
	r.Metrics["cp_records_per_sec"] = cp["nMsg.sec"]
	r.Metrics["cp_mb_per_sec"] = cp["MB.sec"] * mib / 1e6
	r.Metrics["cp_fetch_mb_per_sec"] = cp["fetch.MB.sec"] * mib / 1e6
	r.Metrics["cp_rebalance_ms"] = cp["rebalance.time.ms"]
	if consumed := cp["data.consumed.in.MB"] * mib; consumed > 0 {
		r.Metrics["cp_cpu_s_per_gb"] = (cpu1 - cpu0) / (consumed / 1e9)
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
