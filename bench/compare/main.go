package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are the harness settings; Defaults are the full `make
// bench-compare` run, quick() the smoke run.
type options struct {
	runs         int           // runs per system for workloads 1, 2 and 4
	shortRuns    int           // runs per system for workloads 3, 5, 6, tls1, tls3 and perf
	duration     time.Duration // measured time of a samsa bench run
	warmup       time.Duration // unmeasured lead-in of a samsa bench run
	workloads    string        // comma-separated ids, or "all"
	workDir      string        // binary, run directories, limit files, raw results
	kafkaLibs    string        // jars from `make kafka-dist`
	java         string
	goCmd        string
	doc          string // markdown file whose generated section is rewritten
	consumeCount int    // records pre-produced and consumed in workload 3
	perfRecords  int    // records for ProducerPerformance/ConsumerPerformance
	idleConns    int    // idle connections in workload 5
	manyParts    int    // partitions in workload 5
	e2eRate      int    // records/s for workload 4; 0 = half the slower median of workload 1
	limitBytes   int64  // bytes per machine-limit probe
	keep         bool   // keep run directories
	quick        bool
	samsaBin     string // -samsa-bin, or built by runAll
	commandLine  string
}

func (options) Defaults() options {
	return options{
		runs:         5,
		shortRuns:    3,
		duration:     20 * time.Second,
		warmup:       5 * time.Second,
		workloads:    "all",
		workDir:      ".cache/bench",
		kafkaLibs:    ".cache/kafka/libs",
		java:         "java",
		goCmd:        "go",
		doc:          "docs/benchmarks.md",
		consumeCount: 1 << 20, // 1 GiB of 1 KiB records
		perfRecords:  500_000,
		idleConns:    1000,
		manyParts:    1000,
		limitBytes:   1 << 30,
	}
}

// applyQuick shortens everything not set explicitly on the command line.
func (o *options) applyQuick(set map[string]bool) {
	q := map[string]func(){
		"runs":          func() { o.runs = 1 },
		"short-runs":    func() { o.shortRuns = 1 },
		"duration":      func() { o.duration = 3 * time.Second },
		"warmup":        func() { o.warmup = time.Second },
		"consume-count": func() { o.consumeCount = 100_000 },
		"perf-records":  func() { o.perfRecords = 100_000 },
		"doc":           func() { o.doc = filepath.Join(o.workDir, "benchmarks-quick.md") },
	}
	for name, f := range q {
		if !set[name] {
			f()
		}
	}
}

func (o options) Validate() error {
	var errs []error
	if o.runs < 1 || o.shortRuns < 1 {
		errs = append(errs, errors.New("-runs and -short-runs must be at least 1"))
	}
	if o.duration <= 0 || o.warmup < 0 {
		errs = append(errs, errors.New("-duration must be positive and -warmup not negative"))
	}
	if o.consumeCount < 1 || o.perfRecords < 1 || o.idleConns < 0 || o.manyParts < 1 || o.e2eRate < 0 {
		errs = append(errs, errors.New("counts must be positive"))
	}
	if o.limitBytes < 1<<20 {
		errs = append(errs, errors.New("-limit-bytes must be at least 1 MiB"))
	}
	if _, err := selectWorkloads(o.workloads); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func main() {
	o := options{}.Defaults()
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	fs.IntVar(&o.runs, "runs", o.runs, "runs per system for workloads 1, 2 and 4")
	fs.IntVar(&o.shortRuns, "short-runs", o.shortRuns, "runs per system for workloads 3, 5, 6, tls1, tls3 and perf")
	fs.DurationVar(&o.duration, "duration", o.duration, "measured duration of each samsa bench run")
	fs.DurationVar(&o.warmup, "warmup", o.warmup, "warm-up before the measured part of each samsa bench run")
	fs.StringVar(&o.workloads, "workloads", o.workloads, "comma-separated workloads to run: 1,2,3,4,5,6,tls1,tls3,perf or all (tls1, tls3: workloads 1 and 3, each broker PLAINTEXT and SASL_SSL)")
	fs.StringVar(&o.workDir, "work-dir", o.workDir, "directory for the Samsa binary, run directories and raw results")
	fs.StringVar(&o.kafkaLibs, "kafka-libs", o.kafkaLibs, "Kafka jars (make kafka-dist)")
	fs.StringVar(&o.java, "java", o.java, "java executable")
	fs.StringVar(&o.goCmd, "go", o.goCmd, "go executable used to build Samsa")
	fs.StringVar(&o.doc, "doc", o.doc, "markdown file to write results into (between the generated-section markers)")
	fs.IntVar(&o.consumeCount, "consume-count", o.consumeCount, "records (1 KiB) pre-produced and consumed in workload 3")
	fs.IntVar(&o.perfRecords, "perf-records", o.perfRecords, "records for ProducerPerformance and ConsumerPerformance")
	fs.IntVar(&o.idleConns, "idle-conns", o.idleConns, "idle connections held open in workload 5")
	fs.IntVar(&o.manyParts, "many-partitions", o.manyParts, "partitions of the topic in workload 5")
	fs.IntVar(&o.e2eRate, "e2e-rate", o.e2eRate, "records/s for workload 4 (0: half the slower system's median workload-1 rate)")
	fs.Int64Var(&o.limitBytes, "limit-bytes", o.limitBytes, "bytes written/sent by each machine-limit probe")
	fs.StringVar(&o.samsaBin, "samsa-bin", "", "use this samsa binary instead of building ./cmd/samsa into WORK-DIR")
	fs.BoolVar(&o.keep, "keep", o.keep, "keep each run's data directory and logs")
	fs.BoolVar(&o.quick, "quick", o.quick, "smoke run: 1 run each, 3 s, small counts, results to WORK-DIR/benchmarks-quick.md (explicit flags win)")
	_ = fs.Parse(os.Args[1:])
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		o.applyQuick(set)
	}
	o.commandLine = strings.TrimSpace("go run ./bench/compare " + strings.Join(os.Args[1:], " "))
	if mk := os.Getenv("BENCH_MAKE_TARGET"); mk != "" {
		o.commandLine = "make " + mk + "  # runs: " + o.commandLine
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := o.Validate(); err != nil {
		lg.Error("bad flags", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runAll(ctx, lg, &o); err != nil {
		lg.Error("bench-compare failed", "err", err)
		os.Exit(1)
	}
}

// runAll prepares the binaries, runs the selected workloads and writes the
// report.
func runAll(ctx context.Context, lg *slog.Logger, o *options) error {
	ids, _ := selectWorkloads(o.workloads)
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(o.workDir)
	if err != nil {
		return err
	}
	o.workDir = abs
	if _, err := os.Stat(filepath.Join(o.kafkaLibs, "kafka_2.13-"+kafkaVersion+".jar")); err != nil {
		return fmt.Errorf("Kafka %s jars missing from %s: run `make kafka-dist` first", kafkaVersion, o.kafkaLibs)
	}
	if o.kafkaLibs, err = filepath.Abs(o.kafkaLibs); err != nil {
		return err
	}
	if o.samsaBin == "" {
		o.samsaBin = filepath.Join(o.workDir, "samsa")
		lg.Info("building samsa", "out", o.samsaBin)
		if out, err := exec.CommandContext(ctx, o.goCmd, "build", "-o", o.samsaBin, "./cmd/samsa").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/samsa: %w\n%s", err, out)
		}
	} else if o.samsaBin, err = filepath.Abs(o.samsaBin); err != nil {
		return err
	}
	if needsBench(ids) {
		if out, err := exec.CommandContext(ctx, o.samsaBin, "bench", "--help").CombinedOutput(); err != nil {
			return fmt.Errorf("`samsa bench` is not available (%w); run only -workloads perf until it lands\n%s", err, lastLines(string(out), 5))
		}
	}
	h := newHarness(lg, o)
	start := time.Now()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := h.workload(id)
		ws := time.Now()
		lg.Info("workload", "id", w.id, "title", w.title, "runs", w.runs)
		h.runWorkload(ctx, w)
		h.took[w.id] = time.Since(ws)
	}
	h.total = time.Since(start)
	if err := h.writeRaw(); err != nil {
		lg.Warn("raw results", "err", err)
	}
	rep := h.report(ids)
	if err := writeGenerated(o.doc, rep); err != nil {
		return err
	}
	fmt.Println(rep)
	lg.Info("done", "doc", o.doc, "took", h.total.Round(time.Second))
	return nil
}

// writeRaw appends every run as one JSON line to WORK-DIR/results.jsonl.
func (h *harness) writeRaw() error {
	f, err := os.Create(filepath.Join(h.o.workDir, "results.jsonl"))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range h.runs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
