package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds `samsa bench`: the command and its flags, what the three
// workloads share (topic setup, the clock and the measured window, progress
// lines) and the result in human and JSON form. The workloads are in
// bench_produce.go, bench_consume.go and bench_e2e.go, the latency histogram
// in bench_hist.go and the /proc readings in bench_proc.go.

// benchWorkload names a `samsa bench` subcommand.
type benchWorkload string

const (
	workloadProduce benchWorkload = "produce"
	workloadConsume benchWorkload = "consume"
	workloadE2E     benchWorkload = "e2e"
)

const (
	benchClientID     = "samsa-bench"
	benchDefaultTopic = "samsa-bench"
	// benchStampBytes is the size of the send-time stamp e2e puts at the
	// start of every value.
	benchStampBytes = 8
	benchMaxKeys    = 10_000_000
	benchMaxClients = 256
	// benchMaxBatchBytes is franz-go's default limit on one request.
	benchMaxBatchBytes = 100 << 20
	// benchRecordOverhead bounds a record's framing inside a batch plus the
	// batch header, for the check that one record fits in a batch.
	benchRecordOverhead = 128
	// benchStampedBufBytes caps the value buffers one producer keeps when
	// every record carries its own stamp (e2e): each in-flight slot has
	// its own buffer, so large records get fewer slots.
	benchStampedBufBytes = 64 << 20
	// benchGroupJoinTimeout bounds the wait for a consumer group to hand
	// out every partition (Kafka delays the first rebalance by 3s).
	benchGroupJoinTimeout = 60 * time.Second
	// benchFetchMaxWait is the Java consumer's fetch.max.wait.ms default.
	benchFetchMaxWait = 500 * time.Millisecond
	// benchGCPercent is the generator's GOGC unless the environment sets one.
	benchGCPercent = 400
)

// benchOptions are the flags of the bench workloads; each subcommand
// registers the ones it uses.
type benchOptions struct {
	topic             string
	create            bool
	recreate          bool
	partitions        int32
	replicationFactor int16
	recordSize        int
	keys              int
	acks              string
	compression       string
	linger            time.Duration
	batchMaxBytes     int32
	maxBuffered       int
	rate              float64
	duration          time.Duration
	count             int64
	warmup            time.Duration
	producers         int
	consumers         int
	group             string
	fromStart         bool
	pid               int
	json              bool
	progress          time.Duration
	allowErrors       bool
}

// Defaults sets the flag defaults. The producer settings are Kafka 4's
// producer defaults (acks=all with idempotence, linger.ms=5, no
// compression) except the batch size: 1 MiB, as in the OpenMessaging
// Benchmark's throughput driver, so that batching is bounded by linger and
// not by Kafka's 16 KiB batch.size; pass --batch-max-bytes 16384 for
// Kafka's default.
func (o *benchOptions) Defaults() {
	*o = benchOptions{
		topic:             benchDefaultTopic,
		partitions:        6,
		replicationFactor: 1,
		recordSize:        1024,
		acks:              "all",
		compression:       "none",
		linger:            5 * time.Millisecond,
		batchMaxBytes:     1 << 20,
		maxBuffered:       10_000,
		duration:          10 * time.Second,
		producers:         1,
		consumers:         1,
		progress:          time.Second,
	}
}

func (w benchWorkload) produces() bool { return w == workloadProduce || w == workloadE2E }
func (w benchWorkload) consumes() bool { return w == workloadConsume || w == workloadE2E }

// register adds the flags workload w uses to fs, with o's current values
// as defaults.
func (o *benchOptions) register(fs *pflag.FlagSet, w benchWorkload) {
	fs.StringVar(&o.topic, "topic", o.topic, "topic to use")
	fs.BoolVar(&o.create, "create", o.create, "create the topic if it does not exist")
	fs.BoolVar(&o.recreate, "recreate", o.recreate, "delete the topic first, then create it (implies --create)")
	fs.Int32Var(&o.partitions, "partitions", o.partitions, "partitions of a topic created by --create")
	fs.Int16Var(&o.replicationFactor, "replication-factor", o.replicationFactor, "replication factor of a topic created by --create")
	fs.DurationVar(&o.duration, "duration", o.duration, "how long to measure, after --warmup (0: until --count; given --count alone, no time limit)")
	fs.Int64Var(&o.count, "count", o.count, "stop after this many measured records (0: no limit)")
	fs.DurationVar(&o.warmup, "warmup", o.warmup, "run this long before measuring; its records are left out of the results")
	fs.IntVar(&o.pid, "pid", o.pid, "the broker's process id: report its CPU time and peak RSS over the measured window (Linux /proc)")
	fs.BoolVar(&o.json, "json", o.json, "print the result as one JSON object on standard output")
	fs.DurationVar(&o.progress, "progress", o.progress, "interval of progress lines on standard error (0: none)")
	fs.BoolVar(&o.allowErrors, "allow-errors", o.allowErrors, "exit 0 even if records failed")
	if w.produces() {
		fs.IntVar(&o.recordSize, "record-size", o.recordSize, "value size in bytes")
		fs.IntVar(&o.keys, "keys", o.keys, "cycle record keys over this many distinct values (0: no keys)")
		fs.StringVar(&o.acks, "acks", o.acks, "acknowledgements to wait for: all, 1 or 0")
		fs.StringVar(&o.compression, "compression", o.compression, "batch compression: none, gzip, snappy, lz4 or zstd")
		fs.DurationVar(&o.linger, "linger", o.linger, "how long a batch waits for more records (linger.ms)")
		fs.Int32Var(&o.batchMaxBytes, "batch-max-bytes", o.batchMaxBytes, "largest batch per partition, in bytes (batch.size; Kafka's default is 16384)")
		fs.IntVar(&o.maxBuffered, "max-buffered-records", o.maxBuffered, "records each producer may have sent and not yet acknowledged")
		fs.Float64Var(&o.rate, "rate", o.rate, "records per second over all producers, sent on a fixed schedule (0: as fast as possible)")
		fs.IntVar(&o.producers, "producers", o.producers, "producer clients")
	}
	if w.consumes() {
		fs.IntVar(&o.consumers, "consumers", o.consumers, "consumer clients; partitions are assigned round-robin unless --group is given")
		fs.StringVar(&o.group, "group", o.group, "consume as this consumer group (no offsets are committed)")
	}
	if w == workloadConsume {
		fs.BoolVar(&o.fromStart, "from-start", o.fromStart, "read from the start of every partition and stop once caught up with the end offsets at start (default: read from the end)")
	}
}

// resolve applies the rules that depend on which flags were given.
func (o *benchOptions) resolve(fs *pflag.FlagSet) {
	if fs.Changed("count") && !fs.Changed("duration") {
		o.duration = 0 // --count alone: no time limit
	}
	if o.recreate {
		o.create = true
	}
}

// Validate checks the options for workload w.
func (o *benchOptions) Validate(w benchWorkload) error {
	switch {
	case strings.TrimSpace(o.topic) == "":
		return errors.New("invalid --topic: must not be empty")
	case o.create && o.partitions < 1:
		return fmt.Errorf("invalid --partitions %d: must be 1 or more", o.partitions)
	case o.create && o.replicationFactor < 1:
		return fmt.Errorf("invalid --replication-factor %d: must be 1 or more", o.replicationFactor)
	case o.duration < 0:
		return fmt.Errorf("invalid --duration %s: must not be negative", o.duration)
	case o.count < 0:
		return fmt.Errorf("invalid --count %d: must be 0 (no limit) or more", o.count)
	case o.duration == 0 && o.count == 0:
		return errors.New("nothing bounds the run: give --duration or --count")
	case o.warmup < 0:
		return fmt.Errorf("invalid --warmup %s: must not be negative", o.warmup)
	case o.pid < 0:
		return fmt.Errorf("invalid --pid %d: must be a process id", o.pid)
	case o.progress < 0:
		return fmt.Errorf("invalid --progress %s: must be positive, or 0 for none", o.progress)
	}
	if w.produces() {
		if err := o.validateProducer(w); err != nil {
			return err
		}
	}
	if w.consumes() && (o.consumers < 1 || o.consumers > benchMaxClients) {
		return fmt.Errorf("invalid --consumers %d: must be 1 to %d", o.consumers, benchMaxClients)
	}
	return nil
}

func (o *benchOptions) validateProducer(w benchWorkload) error {
	minSize := 0
	if w == workloadE2E {
		minSize = benchStampBytes
	}
	switch {
	case o.recordSize < minSize:
		if w == workloadE2E {
			return fmt.Errorf("invalid --record-size %d: e2e needs at least %d bytes for the send-time stamp", o.recordSize, benchStampBytes)
		}
		return fmt.Errorf("invalid --record-size %d: must be 0 or more", o.recordSize)
	case o.keys < 0 || o.keys > benchMaxKeys:
		return fmt.Errorf("invalid --keys %d: must be 0 (no keys) to %d", o.keys, benchMaxKeys)
	case o.linger < 0:
		return fmt.Errorf("invalid --linger %s: must not be negative", o.linger)
	case o.batchMaxBytes < 512 || o.batchMaxBytes > benchMaxBatchBytes:
		return fmt.Errorf("invalid --batch-max-bytes %d: must be 512 to %d", o.batchMaxBytes, benchMaxBatchBytes)
	case int64(o.recordSize)+int64(len(benchKey(int64(max(o.keys-1, 0)))))+benchRecordOverhead > int64(o.batchMaxBytes):
		return fmt.Errorf("--record-size %d does not fit in a batch of --batch-max-bytes %d", o.recordSize, o.batchMaxBytes)
	case o.maxBuffered < 1:
		return fmt.Errorf("invalid --max-buffered-records %d: must be 1 or more", o.maxBuffered)
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0):
		return fmt.Errorf("invalid --rate %v: must be records per second, or 0 for unlimited", o.rate)
	case o.producers < 1 || o.producers > benchMaxClients:
		return fmt.Errorf("invalid --producers %d: must be 1 to %d", o.producers, benchMaxClients)
	}
	if _, err := parseAcks(o.acks); err != nil {
		return err
	}
	_, err := parseCompression(o.compression)
	return err
}

// producerOpts turns the producer flags into client options.
func (o *benchOptions) producerOpts() ([]kgo.Opt, error) {
	acks, err := parseAcks(o.acks)
	if err != nil {
		return nil, err
	}
	codec, err := parseCompression(o.compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(o.topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(o.linger),
		kgo.ProducerBatchMaxBytes(o.batchMaxBytes),
	}
	if acks != kgo.AllISRAcks() {
		// Idempotence needs acks=all. Without it franz-go allows one
		// request in flight per broker; Kafka's Java producer allows 5.
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts, nil
}

// config is the "config" object of the JSON result: the settings of the
// run, partitions being the topic's actual count.
func (o *benchOptions) config(w benchWorkload, seeds []string, partitions int) map[string]any {
	c := map[string]any{
		"brokers":          seeds,
		"topic":            o.topic,
		"partitions":       partitions,
		"duration_seconds": o.duration.Seconds(),
		"count":            o.count,
		"warmup_seconds":   o.warmup.Seconds(),
		"create":           o.create,
		"recreate":         o.recreate,
	}
	if o.create {
		c["replication_factor"] = o.replicationFactor
	}
	if o.pid > 0 {
		c["pid"] = o.pid
	}
	if w.produces() {
		c["record_size"] = o.recordSize
		c["keys"] = o.keys
		c["acks"] = o.acks
		c["compression"] = o.compression
		c["linger_ms"] = float64(o.linger) / float64(time.Millisecond)
		c["batch_max_bytes"] = o.batchMaxBytes
		c["max_buffered_records"] = o.maxBuffered
		c["rate"] = o.rate
		c["producers"] = o.producers
	}
	if w.consumes() {
		c["consumers"] = o.consumers
		c["group"] = o.group
	}
	if w == workloadConsume {
		c["from_start"] = o.fromStart
	}
	return c
}

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
		newBenchWorkloadCmd(cf, workloadProduce, "Produce records as fast as possible or at --rate; measure throughput and send→ack latency"),
		newBenchWorkloadCmd(cf, workloadConsume, "Consume a topic that has data; measure throughput"),
		newBenchWorkloadCmd(cf, workloadE2E, "Produce stamped records and consume them in-process; measure end-to-end latency"),
	)
	return cmd
}

func newBenchWorkloadCmd(cf *clientFlags, w benchWorkload, short string) *cobra.Command {
	o := &benchOptions{}
	o.Defaults()
	cmd := &cobra.Command{
		Use:   string(w),
		Short: short,
		Long:  short + ".\n\nSee `samsa bench --help` for the measurements and the JSON result.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.resolve(cmd.Flags())
			if err := o.Validate(w); err != nil {
				return err
			}
			return runBench(cmd, cf, o, w)
		},
	}
	o.register(cmd.Flags(), w)
	return cmd
}

// benchResult is the outcome of a run; its JSON form is the contract with
// scripts driving the command.
type benchResult struct {
	Workload         string          `json:"workload"`
	Records          int64           `json:"records"`
	Bytes            int64           `json:"bytes"`
	WireBytes        int64           `json:"wire_bytes"`
	Seconds          float64         `json:"seconds"`
	RecordsPerSec    float64         `json:"records_per_sec"`
	MBPerSec         float64         `json:"mb_per_sec"`
	WireMBPerSec     float64         `json:"wire_mb_per_sec"`
	Latency          *latencySummary `json:"latency_ms,omitempty"`
	ProduceLatency   *latencySummary `json:"produce_latency_ms,omitempty"`
	BrokerCPUSeconds *float64        `json:"broker_cpu_seconds,omitempty"`
	BrokerPeakRSSMiB *float64        `json:"broker_peak_rss_mib,omitempty"`
	BrokerHWMMiB     *float64        `json:"broker_hwm_mib,omitempty"`
	ClientCPUSeconds *float64        `json:"client_cpu_seconds,omitempty"`
	Errors           int64           `json:"errors"`
	Missing          int64           `json:"missing,omitempty"`
	FirstError       string          `json:"first_error,omitempty"`
	Interrupted      bool            `json:"interrupted,omitempty"`
	Config           map[string]any  `json:"config"`
}

// setTotals fills the counts and the rates derived from them.
func (r *benchResult) setTotals(records, bytes int64, seconds float64) {
	r.Records, r.Bytes, r.Seconds = records, bytes, round6(seconds)
	if seconds > 0 {
		r.RecordsPerSec = round3(float64(records) / seconds)
		r.MBPerSec = round3(float64(bytes) / seconds / (1 << 20))
		r.WireMBPerSec = round3(float64(r.WireBytes) / seconds / (1 << 20))
	}
}

func round3(f float64) float64 { return math.Round(f*1e3) / 1e3 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// exitErr is the command's error for a finished run.
func (r *benchResult) exitErr(allowErrors bool) error {
	if r.Interrupted {
		return errors.New("interrupted: the results above are partial")
	}
	if allowErrors || (r.Errors == 0 && r.Missing == 0) {
		return nil
	}
	var what []string
	if r.Errors > 0 {
		what = append(what, plural(r.Errors, "error", "errors"))
	}
	if r.Missing > 0 {
		what = append(what, fmt.Sprintf("%s produced but never consumed", plural(r.Missing, "record", "records")))
	}
	msg := strings.Join(what, " and ")
	if r.FirstError != "" {
		msg += " (first: " + r.FirstError + ")"
	}
	return errors.New(msg + "; --allow-errors accepts this")
}

// printHuman writes the result for people.
func (r *benchResult) printHuman(w io.Writer, pid int) {
	fmt.Fprintf(w, "%s: %d records, %.1f MiB in %.3fs: %.0f records/s, %.2f MiB/s (wire %.2f MiB/s)\n",
		r.Workload, r.Records, float64(r.Bytes)/(1<<20), r.Seconds, r.RecordsPerSec, r.MBPerSec, r.WireMBPerSec)
	printLat := func(name string, l *latencySummary) {
		if l != nil {
			fmt.Fprintf(w, "  %s ms: p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f  (%d samples)\n",
				name, l.P50, l.P99, l.P999, l.Max, l.Mean, l.Samples)
		}
	}
	latName := "latency"
	switch r.Workload {
	case string(workloadProduce):
		latName = "send→ack latency"
	case string(workloadE2E):
		latName = "end-to-end latency"
	}
	printLat(latName, r.Latency)
	printLat("send→ack latency", r.ProduceLatency)
	if r.BrokerCPUSeconds != nil {
		cores := 0.0
		if r.Seconds > 0 {
			cores = *r.BrokerCPUSeconds / r.Seconds
		}
		fmt.Fprintf(w, "  broker pid %d: %.2f CPU-seconds (%.2f cores), peak RSS %.1f MiB in the window (VmHWM %.1f MiB)\n",
			pid, *r.BrokerCPUSeconds, cores, *r.BrokerPeakRSSMiB, *r.BrokerHWMMiB)
	}
	if r.ClientCPUSeconds != nil {
		cores := 0.0
		if r.Seconds > 0 {
			cores = *r.ClientCPUSeconds / r.Seconds
		}
		fmt.Fprintf(w, "  generator: %.2f CPU-seconds (%.2f cores)\n", *r.ClientCPUSeconds, cores)
	}
	if r.Errors > 0 || r.Missing > 0 {
		fmt.Fprintf(w, "  errors: %d, missing: %d; first error: %s\n", r.Errors, r.Missing, r.FirstError)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "  interrupted: partial results")
	}
}

// benchClock is the run's clock: nanoseconds since base on Go's monotonic
// clock. e2e stamps are on it too, which is why the consumers run in the
// same process.
type benchClock struct{ base time.Time }

func (c benchClock) now() int64 { return int64(time.Since(c.base)) }

// benchTimes are the run's milestones on the clock. Until start is called
// nothing is measured (warmupEnd is in the infinite future).
type benchTimes struct {
	startNs     atomic.Int64
	warmupEndNs atomic.Int64
	stopNs      atomic.Int64 // math.MaxInt64: no time limit
}

func newBenchTimes() *benchTimes {
	t := &benchTimes{}
	t.warmupEndNs.Store(math.MaxInt64)
	t.stopNs.Store(math.MaxInt64)
	return t
}

// start sets the milestones of a run starting at ns.
func (t *benchTimes) start(ns int64, o *benchOptions) {
	t.startNs.Store(ns)
	w := ns + int64(o.warmup)
	stop := int64(math.MaxInt64)
	if o.duration > 0 {
		stop = w + int64(o.duration)
	}
	t.stopNs.Store(stop)
	t.warmupEndNs.Store(w)
}

// firstError keeps the first of concurrent errors.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// wireCounter counts bytes written to and read from brokers.
type wireCounter struct {
	written atomic.Int64
	read    atomic.Int64
}

// benchHooks is a client's franz-go hook: it counts wire bytes and notes
// the client's first fetch request.
type benchHooks struct {
	wire    *wireCounter
	fetched chan struct{} // closed on the first fetch written
	once    sync.Once
}

func newBenchHooks(wire *wireCounter) *benchHooks {
	return &benchHooks{wire: wire, fetched: make(chan struct{})}
}

func (h *benchHooks) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, err error) {
	h.wire.written.Add(int64(n))
	if key == int16(kmsg.Fetch) && err == nil {
		h.once.Do(func() { close(h.fetched) })
	}
}

func (h *benchHooks) OnBrokerRead(_ kgo.BrokerMetadata, _ int16, n int, _, _ time.Duration, _ error) {
	h.wire.read.Add(int64(n))
}

// benchEnv is one run of a workload.
type benchEnv struct {
	cmd      *cobra.Command
	cf       *clientFlags
	o        *benchOptions
	w        benchWorkload
	stderr   io.Writer
	clock    benchClock
	times    *benchTimes
	prodWire wireCounter
	consWire wireCounter
}

func runBench(cmd *cobra.Command, cf *clientFlags, o *benchOptions, w benchWorkload) error {
	if err := cf.validate(); err != nil {
		return err
	}
	seeds, err := cf.seeds(cmd)
	if err != nil {
		return err
	}
	if o.pid > 0 {
		if err := checkProc(procDir(o.pid)); err != nil {
			return fmt.Errorf("cannot read process %d (--pid): %s", o.pid, procErrText(err))
		}
	}
	// franz-go allocates every fetch response afresh; collecting less
	// often leaves more CPU to the broker being measured (about a quarter
	// less generator CPU when consuming). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(benchGCPercent))
	}
	ctx := commandContext(cmd)
	e := &benchEnv{cmd: cmd, cf: cf, o: o, w: w, stderr: cmd.ErrOrStderr(), times: newBenchTimes()}
	td, err := e.prepareTopic(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return err
	}
	var res *benchResult
	switch w {
	case workloadProduce:
		res, err = e.runProduce(ctx)
	case workloadConsume:
		res, err = e.runConsume(ctx, td)
	case workloadE2E:
		res, err = e.runE2E(ctx, td)
	}
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return err
	}
	res.Workload = string(w)
	res.Config = o.config(w, seeds, len(td.Partitions))
	res.printHuman(e.stderr, o.pid)
	if o.json {
		b, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("cannot encode the result: %v", err)
		}
		if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b); err != nil {
			return fmt.Errorf("cannot write the result: %v", err)
		}
	}
	return res.exitErr(o.allowErrors)
}

func procDir(pid int) string { return filepath.Join("/proc", strconv.Itoa(pid)) }

func procErrText(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "no such process (or no /proc on this system)"
	}
	if errors.Is(err, os.ErrPermission) {
		return "permission denied"
	}
	return err.Error()
}

// fail wraps a cluster error with what was being done, except that an
// unreachable cluster is said plainly.
func (e *benchEnv) fail(what string, err error) error {
	msg := e.cf.explain(e.cmd, err)
	if strings.HasPrefix(msg, "cannot reach") {
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %s", what, msg)
}

func (e *benchEnv) failKafka(what string, err error, brokerMsg string) error {
	if _, ok := errors.AsType[*kerr.Error](err); ok {
		return fmt.Errorf("%s: %s", what, e.cf.explainKafka(e.cmd, err, brokerMsg))
	}
	return e.fail(what, err)
}

func (e *benchEnv) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "samsa: bench: warning: "+format+"\n", args...)
}

// newClient builds a bench client from the connection flags.
func (e *benchEnv) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	return e.cf.newClient(e.cmd, append([]kgo.Opt{kgo.ClientID(benchClientID)}, opts...)...)
}

// prepareTopic deletes and creates the topic as the flags ask and waits
// until every partition has a leader.
func (e *benchEnv) prepareTopic(ctx context.Context) (kadm.TopicDetail, error) {
	cl, err := e.newClient()
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	adm := e.cf.adminFor(cl)
	defer adm.Close()
	o := e.o
	if o.recreate {
		if err := e.deleteTopic(ctx, adm); err != nil {
			return kadm.TopicDetail{}, err
		}
	}
	created := false
	if o.create {
		if created, err = e.createTopic(ctx, adm); err != nil {
			return kadm.TopicDetail{}, err
		}
	}
	td, err := e.waitTopic(ctx, adm, created)
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	if o.create && !created && len(td.Partitions) != int(o.partitions) && e.cmd.Flags().Changed("partitions") {
		e.warnf("topic %s already exists with %s; --partitions %d not applied (use --recreate)",
			o.topic, plural(int64(len(td.Partitions)), "partition", "partitions"), o.partitions)
	}
	return td, nil
}

func (e *benchEnv) deleteTopic(ctx context.Context, adm *kadm.Client) error {
	topic := e.o.topic
	rctx, cancel := context.WithTimeout(ctx, e.cf.timeout)
	defer cancel()
	resp, err := adm.DeleteTopic(rctx, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return nil
	case err != nil:
		return e.failKafka("cannot delete topic "+topic, err, resp.ErrMessage)
	}
	// Deletion can complete after the response; wait until the topic
	// is gone from metadata.
	for {
		md, err := adm.Metadata(rctx, topic)
		if err != nil {
			return e.fail("cannot delete topic "+topic, err)
		}
		if td, ok := md.Topics[topic]; !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return nil
		}
		select {
		case <-rctx.Done():
			return fmt.Errorf("cannot delete topic %s: it still exists after %s", topic, e.cf.timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createTopic creates the topic; it reports false if it already existed.
func (e *benchEnv) createTopic(ctx context.Context, adm *kadm.Client) (bool, error) {
	o := e.o
	rctx, cancel := context.WithTimeout(ctx, e.cf.timeout)
	defer cancel()
	for {
		resp, err := adm.CreateTopic(rctx, o.partitions, o.replicationFactor, nil, o.topic)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, kerr.TopicAlreadyExists) && !o.recreate:
			return false, nil
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Just deleted: the cluster may still be removing it.
		default:
			return false, e.failKafka("cannot create topic "+o.topic, err, resp.ErrMessage)
		}
		select {
		case <-rctx.Done():
			return false, fmt.Errorf("cannot create topic %s: it still exists %s after deleting it", o.topic, e.cf.timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitTopic waits until the topic has a leader for every partition.
// Right after creating it, "unknown topic" is retried too.
func (e *benchEnv) waitTopic(ctx context.Context, adm *kadm.Client, justCreated bool) (kadm.TopicDetail, error) {
	topic := e.o.topic
	rctx, cancel := context.WithTimeout(ctx, e.cf.timeout)
	defer cancel()
	for {
		md, err := adm.Metadata(rctx, topic)
		if err != nil {
			return kadm.TopicDetail{}, e.fail("cannot look up topic "+topic, err)
		}
		td, ok := md.Topics[topic]
		unknown := !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition)
		switch {
		case unknown && !justCreated:
			return kadm.TopicDetail{}, fmt.Errorf("topic %s does not exist (--create creates it)", topic)
		case !unknown && td.Err != nil && !kerr.IsRetriable(td.Err):
			return kadm.TopicDetail{}, e.fail("cannot look up topic "+topic, td.Err)
		case !unknown && td.Err == nil && len(td.Partitions) > 0 && allLeaders(td):
			return td, nil
		}
		select {
		case <-rctx.Done():
			if ctx.Err() != nil {
				return kadm.TopicDetail{}, ctx.Err()
			}
			return kadm.TopicDetail{}, fmt.Errorf("topic %s has partitions without a leader after %s", topic, e.cf.timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allLeaders(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// listOffsets returns where each partition starts and ends now; spec picks
// the starts (beginning or end).
func (e *benchEnv) listOffsets(ctx context.Context, parts []int32, spec startSpec) (starts, ends map[int32]int64, err error) {
	cl, err := e.newClient()
	if err != nil {
		return nil, nil, err
	}
	adm := e.cf.adminFor(cl)
	defer adm.Close()
	rctx, cancel := context.WithTimeout(ctx, e.cf.timeout)
	defer cancel()
	starts, ends, err = resolveStarts(rctx, adm, e.o.topic, parts, spec)
	if err != nil {
		return nil, nil, e.fail("cannot list offsets of topic "+e.o.topic, err)
	}
	return starts, ends, nil
}

// benchStop says why a wait ended.
type benchStop int

const (
	stopTime      benchStop = iota // the clock reached the time
	stopDone                       // the work finished first
	stopInterrupt                  // ctx ended
)

// waitUntil blocks until the clock reads ns (math.MaxInt64: never), done
// closes, or ctx ends.
func (e *benchEnv) waitUntil(ctx context.Context, ns int64, done <-chan struct{}) benchStop {
	var tc <-chan time.Time
	if ns != math.MaxInt64 {
		d := time.Duration(ns - e.clock.now())
		if d <= 0 {
			return stopTime
		}
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-tc:
		return stopTime
	case <-done:
		return stopDone
	case <-ctx.Done():
		return stopInterrupt
	}
}

// benchWindow takes the readings that bracket the measured window: the
// generator's own CPU time, wire bytes, and with --pid the broker's CPU
// time and memory.
type benchWindow struct {
	e       *benchEnv
	began   bool
	self0   float64
	selfErr error
	wire0   int64
	broker  *procWatch
	procErr error
}

// wireBytes is the counter that stands for the workload's traffic.
func (e *benchEnv) wireBytes() int64 {
	if e.w == workloadConsume {
		return e.consWire.read.Load()
	}
	return e.prodWire.written.Load()
}

func (e *benchEnv) newWindow() *benchWindow { return &benchWindow{e: e} }

// begin takes the opening readings; later calls do nothing.
func (w *benchWindow) begin() {
	if w.began {
		return
	}
	w.began = true
	w.wire0 = w.e.wireBytes()
	w.self0, w.selfErr = procCPUSeconds("/proc/self")
	if pid := w.e.o.pid; pid > 0 {
		w.broker, w.procErr = startProcWatch(procDir(pid))
	}
}

// end takes the closing readings into r.
func (w *benchWindow) end(r *benchResult) {
	w.begin()
	r.WireBytes = w.e.wireBytes() - w.wire0
	if w.selfErr == nil {
		if self1, err := procCPUSeconds("/proc/self"); err == nil {
			v := round3(self1 - w.self0)
			r.ClientCPUSeconds = &v
		}
	}
	if w.e.o.pid == 0 {
		return
	}
	if w.procErr == nil {
		var rep procReport
		if rep, w.procErr = w.broker.finish(); w.procErr == nil {
			cpu, peak, hwm := round3(rep.cpuSeconds), round3(rep.peakRSSMiB), round3(rep.hwmMiB)
			r.BrokerCPUSeconds, r.BrokerPeakRSSMiB, r.BrokerHWMMiB = &cpu, &peak, &hwm
			return
		}
	}
	w.e.warnf("cannot read process %d (--pid): %s", w.e.o.pid, procErrText(w.procErr))
}

// benchProgress prints a progress line every --progress on standard error.
// Its goroutine is owned by the run and ended by stop.
type benchProgress struct {
	quit chan struct{}
	done chan struct{}
}

// startProgress prints, each interval, the rate of the records counted by
// totals and (if hists gives any) the p99 latency so far.
func (e *benchEnv) startProgress(totals func() (records, bytes int64), hists func() []*latencyHist) *benchProgress {
	p := &benchProgress{quit: make(chan struct{}), done: make(chan struct{})}
	if e.o.progress <= 0 {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(e.o.progress)
		defer t.Stop()
		lastNs := e.clock.now()
		lastRecs, lastBytes := totals()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
			}
			now := e.clock.now()
			recs, bytes := totals()
			secs := float64(now-lastNs) / 1e9
			line := fmt.Sprintf("%s %6.1fs %10.0f records/s %9.2f MiB/s",
				e.w, float64(now-e.times.startNs.Load())/1e9,
				float64(recs-lastRecs)/secs, float64(bytes-lastBytes)/secs/(1<<20))
			if hs := hists(); len(hs) > 0 {
				snap := newHistSnapshot()
				for _, h := range hs {
					snap.add(h)
				}
				if snap.n > 0 {
					line += fmt.Sprintf("   p99 %.3f ms", nsToMillis(float64(snap.percentile(0.99))))
				}
			}
			if now < e.times.warmupEndNs.Load() {
				line += "   (warmup)"
			}
			fmt.Fprintln(e.stderr, line)
			lastNs, lastRecs, lastBytes = now, recs, bytes
		}
	}()
	return p
}

func (p *benchProgress) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}
