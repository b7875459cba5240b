package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/samsa-streaming/samsa/internal/loadgen"
)

// This file holds `samsa bench`: its flags and its printing. The workloads,
// the latency histogram and the /proc readings are internal/loadgen.

// benchGCPercent is the generator's GOGC unless the environment sets one.
const benchGCPercent = 400

const benchLong = `Generate load against any Kafka-compatible cluster and measure it.

  samsa bench produce   records/s, MB/s and send→ack latency
  samsa bench consume   records/s and MB/s reading a topic that has data
  samsa bench e2e       produce→consume latency, each value stamped with its
                        send time and read back by consumers in this process

With --rate the producers send on a fixed schedule and latency is measured
from each record's intended send time, so a stalled broker shows up in the
percentiles instead of silently slowing the generator (no coordinated
omission). Without --rate they send as fast as the --max-buffered-records
window allows and latency mostly measures time queued in the client: use a
fixed rate for latency. Records sent during --warmup are left out.

Human output goes to standard error. --json prints one JSON object on
standard output:

  {"workload":"produce|consume|e2e", "records":N, "bytes":N (value bytes),
   "wire_bytes":N (bytes written by producers; read by consumers for consume),
   "seconds":F, "records_per_sec":F, "mb_per_sec":F (MiB/s of values),
   "wire_mb_per_sec":F,
   "latency_ms":{"p50":F,"p99":F,"p999":F,"max":F,"mean":F,"samples":N}
     (produce: send→ack; e2e: send→consume; absent for consume),
   "produce_latency_ms":{...} (e2e only),
   "broker_cpu_seconds":F, "broker_peak_rss_mib":F (VmRSS peak sampled every
     100ms in the window), "broker_hwm_mib":F (VmHWM, since the broker
     started) (all three with --pid),
   "client_cpu_seconds":F (this generator, to check it is not the limit),
   "errors":N, "missing":N (e2e: acknowledged but not consumed),
   "first_error":"...", "interrupted":true, "config":{...}}

The command exits non-zero if any record failed (unless --allow-errors) or
if it was interrupted; the result is still printed.`

// newBenchCmd returns `samsa bench` with produce, consume and e2e.
func newBenchCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a Kafka-compatible cluster: produce, consume, end-to-end latency",
		Long:  benchLong,
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(
		newBenchWorkloadCmd(cf, loadgen.Produce, "Produce records as fast as possible or at --rate; measure throughput and send→ack latency"),
		newBenchWorkloadCmd(cf, loadgen.Consume, "Consume a topic that has data; measure throughput"),
		newBenchWorkloadCmd(cf, loadgen.EndToEnd, "Produce stamped records and consume them in-process; measure end-to-end latency"),
	)
	return cmd
}

// benchFlags are a workload's flags: the run's config and how to report it.
type benchFlags struct {
	cfg         loadgen.Config
	json        bool
	allowErrors bool
}

func newBenchWorkloadCmd(cf *clientFlags, w loadgen.Workload, short string) *cobra.Command {
	f := &benchFlags{cfg: loadgen.Defaults(w)}
	cmd := &cobra.Command{
		Use:   string(w),
		Short: short,
		Long:  short + ".\n\nSee `samsa bench --help` for the measurements and the JSON result.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.resolve(cmd.Flags(), cf)
			if err := f.cfg.Validate(); err != nil {
				return err
			}
			return runBench(cmd, cf, f)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// register adds the flags the workload uses to fs, with the config's
// current values as defaults.
func (f *benchFlags) register(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.Topic, "topic", c.Topic, "topic to use")
	fs.BoolVar(&c.Create, "create", c.Create, "create the topic if it does not exist")
	fs.BoolVar(&c.Recreate, "recreate", c.Recreate, "delete the topic first, then create it (implies --create)")
	fs.Int32Var(&c.Partitions, "partitions", c.Partitions, "partitions of a topic created by --create")
	fs.Int16Var(&c.ReplicationFactor, "replication-factor", c.ReplicationFactor, "replication factor of a topic created by --create")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long to measure, after --warmup (0: until --count; given --count alone, no time limit)")
	fs.Int64Var(&c.Count, "count", c.Count, "stop after this many measured records (0: no limit)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "run this long before measuring; its records are left out of the results")
	fs.IntVar(&c.PID, "pid", c.PID, "the broker's process id: report its CPU time and peak RSS over the measured window (Linux /proc)")
	fs.BoolVar(&f.json, "json", f.json, "print the result as one JSON object on standard output")
	fs.DurationVar(&c.Progress, "progress", c.Progress, "interval of progress lines on standard error (0: none)")
	fs.BoolVar(&f.allowErrors, "allow-errors", f.allowErrors, "exit 0 even if records failed")
	if c.Workload.Produces() {
		fs.IntVar(&c.RecordSize, "record-size", c.RecordSize, "value size in bytes")
		fs.IntVar(&c.Keys, "keys", c.Keys, "cycle record keys over this many distinct values (0: no keys)")
		fs.StringVar(&c.Acks, "acks", c.Acks, "acknowledgements to wait for: all, 1 or 0")
		fs.StringVar(&c.Compression, "compression", c.Compression, "batch compression: none, gzip, snappy, lz4 or zstd")
		fs.DurationVar(&c.Linger, "linger", c.Linger, "how long a batch waits for more records (linger.ms)")
		fs.Int32Var(&c.BatchMaxBytes, "batch-max-bytes", c.BatchMaxBytes, "largest batch per partition, in bytes (batch.size; Kafka's default is 16384)")
		fs.IntVar(&c.MaxBuffered, "max-buffered-records", c.MaxBuffered, "records each producer may have sent and not yet acknowledged")
		fs.Float64Var(&c.Rate, "rate", c.Rate, "records per second over all producers, sent on a fixed schedule (0: as fast as possible)")
		fs.IntVar(&c.Producers, "producers", c.Producers, "producer clients")
	}
	if c.Workload.Consumes() {
		fs.IntVar(&c.Consumers, "consumers", c.Consumers, "consumer clients; partitions are assigned round-robin unless --group is given")
		fs.StringVar(&c.Group, "group", c.Group, "consume as this consumer group (no offsets are committed)")
	}
	if c.Workload == loadgen.Consume {
		fs.BoolVar(&c.FromStart, "from-start", c.FromStart, "read from the start of every partition and stop once caught up with the end offsets at start (default: read from the end)")
	}
}

// resolve applies the rules that depend on which flags were given.
func (f *benchFlags) resolve(fs *pflag.FlagSet, cf *clientFlags) {
	c := &f.cfg
	if fs.Changed("count") && !fs.Changed("duration") {
		c.Duration = 0 // --count alone: no time limit
	}
	if c.Recreate {
		c.Create = true
	}
	c.CheckPartitions = fs.Changed("partitions")
	c.Timeout = cf.timeout
}

func runBench(cmd *cobra.Command, cf *clientFlags, f *benchFlags) error {
	seeds, err := cf.seeds(cmd)
	if err != nil {
		return err
	}
	sec, err := cf.security(cmd)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	c := f.cfg
	c.Brokers = seeds
	c.TLS, c.SASL = sec.tls, sec.sasl
	c.Logger = slog.New(benchWarnings{stderr})
	c.DescribeError = func(err error) string { return cf.explain(cmd, err) }
	c.OnProgress = func(p loadgen.Progress) { printBenchProgress(stderr, p) }
	// franz-go allocates every fetch response afresh; collecting less
	// often leaves more CPU to the broker being measured (about a quarter
	// less generator CPU when consuming). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(benchGCPercent))
	}
	ctx := commandContext(cmd)
	res, err := loadgen.Run(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return benchError(cmd, cf, err)
	}
	printBenchResult(stderr, res, c.PID)
	if f.json {
		b, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("cannot encode the result: %w", err)
		}
		if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b); err != nil {
			return fmt.Errorf("cannot write the result: %w", err)
		}
	}
	return benchExitErr(res, f.allowErrors)
}

// benchError says a failed conversation with the cluster in the words of
// the other client commands; an unreachable cluster is said plainly.
func benchError(cmd *cobra.Command, cf *clientFlags, err error) error {
	ce, ok := errors.AsType[*loadgen.ClusterError](err)
	if !ok {
		return err
	}
	msg := cf.explainKafka(cmd, ce.Err, ce.BrokerMessage)
	if strings.HasPrefix(msg, "cannot reach") {
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %s", ce.Op, msg)
}

// benchWarnings prints the load generator's warnings on standard error.
type benchWarnings struct{ w io.Writer }

func (h benchWarnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h benchWarnings) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h benchWarnings) WithGroup(string) slog.Handler                { return h }

func (h benchWarnings) Handle(_ context.Context, r slog.Record) error {
	_, err := fmt.Fprintf(h.w, "samsa: bench: warning: %s\n", r.Message)
	return err
}

func printBenchProgress(w io.Writer, p loadgen.Progress) {
	line := fmt.Sprintf("%s %6.1fs %10.0f records/s %9.2f MiB/s", p.Workload, p.Elapsed.Seconds(), p.RecordsPerSec, p.MiBPerSec)
	if p.HasP99 {
		line += fmt.Sprintf("   p99 %.3f ms", loadgen.NanosToMillis(float64(p.P99)))
	}
	if p.Warmup {
		line += "   (warmup)"
	}
	fmt.Fprintln(w, line)
}

// benchExitErr is the command's error for a finished run.
func benchExitErr(r *loadgen.Result, allowErrors bool) error {
	if r.Interrupted {
		return errors.New("interrupted: the results above are partial")
	}
	if err := r.Failure(); err != nil && !allowErrors {
		return fmt.Errorf("%w; --allow-errors accepts this", err)
	}
	return nil
}

// printBenchResult writes the result for people.
func printBenchResult(w io.Writer, r *loadgen.Result, pid int) {
	fmt.Fprintf(w, "%s: %d records, %.1f MiB in %.3fs: %.0f records/s, %.2f MiB/s (wire %.2f MiB/s)\n",
		r.Workload, r.Records, float64(r.Bytes)/(1<<20), r.Seconds, r.RecordsPerSec, r.MBPerSec, r.WireMBPerSec)
	printLat := func(name string, l *loadgen.LatencySummary) {
		if l != nil {
			fmt.Fprintf(w, "  %s ms: p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f  (%d samples)\n",
				name, l.P50, l.P99, l.P999, l.Max, l.Mean, l.Samples)
		}
	}
	latName := "latency"
	switch r.Workload {
	case loadgen.Produce:
		latName = "send→ack latency"
	case loadgen.EndToEnd:
		latName = "end-to-end latency"
	}
	printLat(latName, r.Latency)
	printLat("send→ack latency", r.ProduceLatency)
	cores := func(cpu float64) float64 {
		if r.Seconds > 0 {
			return cpu / r.Seconds
		}
		return 0
	}
	if r.BrokerCPUSeconds != nil {
		fmt.Fprintf(w, "  broker pid %d: %.2f CPU-seconds (%.2f cores), peak RSS %.1f MiB in the window (VmHWM %.1f MiB)\n",
			pid, *r.BrokerCPUSeconds, cores(*r.BrokerCPUSeconds), *r.BrokerPeakRSSMiB, *r.BrokerHWMMiB)
	}
	if r.ClientCPUSeconds != nil {
		fmt.Fprintf(w, "  generator: %.2f CPU-seconds (%.2f cores)\n", *r.ClientCPUSeconds, cores(*r.ClientCPUSeconds))
	}
	if r.Errors > 0 || r.Missing > 0 {
		fmt.Fprintf(w, "  errors: %d, missing: %d; first error: %s\n", r.Errors, r.Missing, r.FirstError)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "  interrupted: partial results")
	}
}
