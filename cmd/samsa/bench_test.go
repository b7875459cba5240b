package main

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// runBenchArgs parses args with a bench subcommand whose run only resolves
// and validates, and returns the options and the error.
func runBenchArgs(t *testing.T, w benchWorkload, args ...string) (*benchOptions, error) {
	t.Helper()
	o := &benchOptions{}
	o.Defaults()
	cmd := &cobra.Command{
		Use:           string(w),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.resolve(cmd.Flags())
			return o.Validate(w)
		},
	}
	o.register(cmd.Flags(), w)
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return o, cmd.Execute()
}

func TestBenchFlagValidation(t *testing.T) {
	cases := []struct {
		w    benchWorkload
		args []string
		want string // "" = valid
	}{
		{workloadProduce, nil, ""},
		{workloadConsume, []string{"--from-start", "--consumers", "3"}, ""},
		{workloadE2E, []string{"--rate", "1000", "--record-size", "8"}, ""},
		{workloadProduce, []string{"--record-size", "-1"}, "invalid --record-size -1: must be 0 or more"},
		{workloadE2E, []string{"--record-size", "7"}, "invalid --record-size 7: e2e needs at least 8 bytes for the send-time stamp"},
		{workloadProduce, []string{"--acks", "2"}, `invalid --acks "2": want all, 1 or 0`},
		{workloadProduce, []string{"--compression", "brotli"}, `invalid --compression "brotli": want none, gzip, snappy, lz4 or zstd`},
		{workloadProduce, []string{"--rate", "-5"}, "invalid --rate -5: must be records per second, or 0 for unlimited"},
		{workloadProduce, []string{"--rate", "NaN"}, "invalid --rate NaN: must be records per second, or 0 for unlimited"},
		{workloadProduce, []string{"--producers", "0"}, "invalid --producers 0: must be 1 to 256"},
		{workloadConsume, []string{"--consumers", "0"}, "invalid --consumers 0: must be 1 to 256"},
		{workloadProduce, []string{"--duration", "0"}, "nothing bounds the run: give --duration or --count"},
		{workloadProduce, []string{"--duration", "-1s"}, "invalid --duration -1s: must not be negative"},
		{workloadProduce, []string{"--count", "-1"}, "invalid --count -1: must be 0 (no limit) or more"},
		{workloadProduce, []string{"--warmup", "-1s"}, "invalid --warmup -1s: must not be negative"},
		{workloadProduce, []string{"--linger", "-1ms"}, "invalid --linger -1ms: must not be negative"},
		{workloadProduce, []string{"--batch-max-bytes", "100"}, "invalid --batch-max-bytes 100: must be 512 to 104857600"},
		{workloadProduce, []string{"--record-size", "1000", "--batch-max-bytes", "1024"}, "--record-size 1000 does not fit in a batch of --batch-max-bytes 1024"},
		{workloadProduce, []string{"--keys", "-1"}, "invalid --keys -1: must be 0 (no keys) to 10000000"},
		{workloadProduce, []string{"--max-buffered-records", "0"}, "invalid --max-buffered-records 0: must be 1 or more"},
		{workloadProduce, []string{"--create", "--partitions", "0"}, "invalid --partitions 0: must be 1 or more"},
		{workloadProduce, []string{"--recreate", "--replication-factor", "0"}, "invalid --replication-factor 0: must be 1 or more"},
		{workloadProduce, []string{"--partitions", "0"}, ""}, // not creating: ignored
		{workloadProduce, []string{"--topic", " "}, "invalid --topic: must not be empty"},
		{workloadProduce, []string{"--pid", "-3"}, "invalid --pid -3: must be a process id"},
		{workloadProduce, []string{"--progress", "-1s"}, "invalid --progress -1s: must be positive, or 0 for none"},
		{workloadProduce, []string{"--duration", "soon"}, `invalid value "soon" for --duration: want a duration such as 500ms, 10s or 1m`},
		// Flags belong to the workloads that use them.
		{workloadProduce, []string{"--from-start"}, "unknown flag: --from-start"},
		{workloadConsume, []string{"--rate", "10"}, "unknown flag: --rate"},
		{workloadConsume, []string{"--record-size", "10"}, "unknown flag: --record-size"},
		{workloadE2E, []string{"--from-start"}, "unknown flag: --from-start"},
	}
	for _, tc := range cases {
		t.Run(string(tc.w)+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := runBenchArgs(t, tc.w, tc.args...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %q", err)
			case tc.want != "" && err == nil:
				t.Fatalf("want error %q, got none", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("error = %q, want %q", err, tc.want)
			}
		})
	}
}

func TestBenchFlagDefaultsAndResolve(t *testing.T) {
	o, err := runBenchArgs(t, workloadProduce)
	if err != nil {
		t.Fatal(err)
	}
	if o.topic != "samsa-bench" || o.partitions != 6 || o.replicationFactor != 1 || o.recordSize != 1024 ||
		o.acks != "all" || o.compression != "none" || o.linger != 5*time.Millisecond ||
		o.batchMaxBytes != 1<<20 || o.duration != 10*time.Second || o.producers != 1 || o.progress != time.Second {
		t.Fatalf("unexpected defaults %+v", *o)
	}
	// --count alone lifts the time limit; with --duration both apply.
	if o, _ = runBenchArgs(t, workloadProduce, "--count", "100"); o.duration != 0 || o.count != 100 {
		t.Fatalf("--count alone: duration %s count %d", o.duration, o.count)
	}
	if o, _ = runBenchArgs(t, workloadProduce, "--count", "100", "--duration", "3s"); o.duration != 3*time.Second {
		t.Fatalf("--count with --duration: duration %s", o.duration)
	}
	if o, _ = runBenchArgs(t, workloadProduce, "--recreate"); !o.create {
		t.Fatal("--recreate does not imply --create")
	}
}

func TestSendSchedule(t *testing.T) {
	// Producers together send one record every 1/rate seconds, evenly
	// interleaved, starting at start.
	const start = int64(5e9)
	for _, tc := range []struct {
		rate      float64
		producers int
	}{{1000, 1}, {1000, 4}, {3, 2}, {123457, 7}, {0.5, 3}} {
		var all []int64
		const perProducer = 1000
		for i := range tc.producers {
			s := newSendSchedule(tc.rate, tc.producers, i, start)
			for k := range int64(perProducer) {
				all = append(all, s.at(k))
			}
		}
		slices.Sort(all)
		for j, at := range all {
			want := start + int64(float64(j)*1e9/tc.rate)
			if d := at - want; d < -1 || d > 1 {
				t.Fatalf("rate %v, %d producers: send %d at %d ns, want %d (±1)", tc.rate, tc.producers, j, at, want)
			}
		}
	}
	// Computed from k, not accumulated: no drift after many records.
	s := newSendSchedule(3, 1, 0, 0) // period 333333333.33… ns
	if got, want := s.at(3_000_000_000), int64(1e18); got < want-1000 || got > want+1000 {
		t.Fatalf("record 3e9 at rate 3 is at %d ns, want %d", got, want)
	}
	// Unlimited: no period.
	if s := newSendSchedule(0, 4, 2, start); s.periodNs != 0 || s.startNs != start {
		t.Fatalf("unlimited schedule %+v", s)
	}
}

func TestSplitCount(t *testing.T) {
	for _, tc := range []struct {
		total int64
		n     int
		want  []int64
	}{
		{10, 3, []int64{4, 3, 3}},
		{2, 4, []int64{1, 1, 0, 0}},
		{0, 2, []int64{0, 0}},
		{9, 1, []int64{9}},
	} {
		var got []int64
		for i := range tc.n {
			got = append(got, splitCount(tc.total, tc.n, i))
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("splitCount(%d, %d) = %v, want %v", tc.total, tc.n, got, tc.want)
		}
	}
}

func TestHistBuckets(t *testing.T) {
	// Every value lands in a bucket whose range holds it, buckets are
	// contiguous, and no bucket is wider than 1/1024 of its values.
	check := func(v int64) {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		lo := int64(0)
		if i > 0 {
			lo = histUpper(i-1) + 1
		}
		hi := histUpper(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if v >= histLinearMax && float64(hi-lo+1) > float64(lo)/1024 {
			t.Fatalf("bucket %d [%d, %d] wider than 1/1024", i, lo, hi)
		}
	}
	for v := range int64(10_000) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		check(r.Int64N(1 << r.IntN(63)))
	}
	check(math.MaxInt64)
	if histIndex(math.MaxInt64) != histBuckets-1 {
		t.Fatalf("MaxInt64 in bucket %d, want the last (%d)", histIndex(math.MaxInt64), histBuckets-1)
	}
	if histIndex(-5) != 0 {
		t.Fatal("negative values go to bucket 0")
	}
	for i := 1; i < histBuckets; i++ {
		if histUpper(i) <= histUpper(i-1) {
			t.Fatalf("bucket %d upper %d not above bucket %d upper %d", i, histUpper(i), i-1, histUpper(i-1))
		}
	}
}

func TestHistPercentiles(t *testing.T) {
	// Against exact percentiles of a sorted sample: within 0.1%, never
	// below the exact value, and the maximum exact.
	r := rand.New(rand.NewPCG(3, 4))
	h := newLatencyHist()
	var samples []int64
	var sum int64
	for range 200_000 {
		// Log-normal around 1 ms with a long tail, in nanoseconds.
		v := int64(math.Exp(r.NormFloat64()*1.2 + math.Log(1e6)))
		samples = append(samples, v)
		sum += v
		h.record(v)
	}
	slices.Sort(samples)
	s := newHistSnapshot()
	s.add(h)
	if s.n != uint64(len(samples)) || s.max != samples[len(samples)-1] {
		t.Fatalf("n %d max %d, want %d %d", s.n, s.max, len(samples), samples[len(samples)-1])
	}
	for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := s.percentile(q)
		if got < exact || float64(got-exact) > float64(exact)/1000 {
			t.Fatalf("p%v = %d, exact %d", q*100, got, exact)
		}
	}
	if got, want := s.mean(), float64(sum)/float64(len(samples)); math.Abs(got-want) > 1e-6*want {
		t.Fatalf("mean %v, want %v", got, want)
	}
	sum1 := s.summary()
	if !(sum1.P50 <= sum1.P99 && sum1.P99 <= sum1.P999 && sum1.P999 <= sum1.Max) {
		t.Fatalf("summary out of order: %+v", sum1)
	}

	// Small exact values and the merge of two histograms.
	a, b := newLatencyHist(), newLatencyHist()
	for v := int64(1); v <= 100; v++ {
		if v%2 == 0 {
			a.record(v * 1000) // 1 µs .. 100 µs
		} else {
			b.record(v * 1000)
		}
	}
	m := newHistSnapshot()
	m.add(a)
	m.add(b)
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 50_000}, {0.99, 99_000}, {1, 100_000}} {
		got := m.percentile(tc.q)
		if got < tc.want || got > tc.want+tc.want/1000 {
			t.Fatalf("merged p%v = %d, want %d", tc.q*100, got, tc.want)
		}
	}
	if got := newHistSnapshot().percentile(0.99); got != 0 {
		t.Fatalf("empty histogram p99 = %d", got)
	}
	if got := nsToMillis(1_234_567); got != 1.235 {
		t.Fatalf("nsToMillis(1234567) = %v, want 1.235", got)
	}
}

// A real /proc/PID/stat line; the command name holds spaces and a ')'.
const fakeStat = "4242 (samsa (x) y) S 1 4242 4242 0 -1 4194560 2143 0 0 0 1234 567 0 0 20 0 12 0 98765 1234567890 5000 18446744073709551615 1 1 0 0 0 0 0 0 2143 0 0 0 17 1 0 0 0 0 0\n"

const fakeStatus = `Name:	samsa
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 2000000 kB
VmSize:	 1900000 kB
VmHWM:	   81920 kB
VmRSS:	   40960 kB
Threads:	12
`

func TestParseProc(t *testing.T) {
	ticks, err := parseProcStatCPU([]byte(fakeStat))
	if err != nil || ticks != 1234+567 {
		t.Fatalf("parseProcStatCPU = %d, %v; want %d", ticks, err, 1234+567)
	}
	for _, bad := range []string{"", "4242 samsa S 1", "4242 (samsa) S 1 2 3", "4242 (samsa) S 1 4242 4242 0 -1 4194560 2143 0 0 0 x 567 0"} {
		if _, err := parseProcStatCPU([]byte(bad)); err == nil {
			t.Fatalf("parseProcStatCPU(%q) gave no error", bad)
		}
	}
	hwm, err := parseProcStatusKiB([]byte(fakeStatus), "VmHWM")
	if err != nil || hwm != 81920 {
		t.Fatalf("VmHWM = %d, %v", hwm, err)
	}
	rss, err := parseProcStatusKiB([]byte(fakeStatus), "VmRSS")
	if err != nil || rss != 40960 {
		t.Fatalf("VmRSS = %d, %v", rss, err)
	}
	if _, err := parseProcStatusKiB([]byte(fakeStatus), "VmSwap"); err == nil || err.Error() != "no VmSwap line" {
		t.Fatalf("missing line: %v", err)
	}
	if _, err := parseProcStatusKiB([]byte("VmRSS:\t12 MB\n"), "VmRSS"); err == nil {
		t.Fatal("a unit other than kB was accepted")
	}
}

func TestProcWatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", fakeStat) // 1801 ticks
	write("status", fakeStatus)
	if err := checkProc(dir); err != nil {
		t.Fatal(err)
	}
	w, err := startProcWatch(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The resident set peaks between samples' reach of start and end:
	// only the sampler can see it.
	write("status", strings.Replace(fakeStatus, "40960", "102400", 1))
	time.Sleep(5 * procSampleEvery)
	write("status", strings.Replace(fakeStatus, "40960", "20480", 1))
	write("stat", strings.Replace(fakeStat, " 1234 567 ", " 1434 617 ", 1)) // +250 ticks
	rep, err := w.finish()
	if err != nil {
		t.Fatal(err)
	}
	if rep.cpuSeconds != 2.5 || rep.peakRSSMiB != 100 || rep.hwmMiB != 80 {
		t.Fatalf("report %+v, want cpu 2.5 s, peak 100 MiB, hwm 80 MiB", rep)
	}

	if err := checkProc(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing process: %v", err)
	}
	if got := procErrText(os.ErrNotExist); !strings.HasPrefix(got, "no such process") {
		t.Fatalf("procErrText = %q", got)
	}
	// The real thing, on ourselves.
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		if err := checkProc("/proc/self"); err != nil {
			t.Fatalf("/proc/self: %v", err)
		}
	}
}

func TestEndTracker(t *testing.T) {
	done := 0
	starts := map[int32]int64{0: 0, 1: 5, 2: 7}
	ends := map[int32]int64{0: 10, 1: 5, 2: 9} // partition 1 is empty
	tr := newEndTracker(starts, ends, func() { done++ })
	if tr.remaining.Load() != 2 {
		t.Fatalf("remaining %d, want 2", tr.remaining.Load())
	}
	tr.saw(0, 8)
	tr.saw(2, 8) // offset 8 is partition 2's last (end 9)
	tr.saw(2, 8)
	tr.saw(7, 100) // unknown partition
	if done != 0 || tr.remaining.Load() != 1 {
		t.Fatalf("done %d remaining %d", done, tr.remaining.Load())
	}
	tr.saw(0, 9)
	tr.saw(0, 12)
	if done != 1 {
		t.Fatalf("onDone called %d times, want 1", done)
	}
	// A group consumer starting at or past the end has nothing to read.
	done = 0
	tr = newEndTracker(map[int32]int64{0: 0}, map[int32]int64{0: 4}, func() { done++ })
	tr.startsAt(0, 3)
	if done != 0 {
		t.Fatal("caught up before the end")
	}
	tr.startsAt(0, 4)
	if done != 1 {
		t.Fatal("not caught up after starting at the end")
	}
	// Nothing to read at all: done at once.
	done = 0
	newEndTracker(map[int32]int64{0: 3}, map[int32]int64{0: 3}, func() { done++ })
	if done != 1 {
		t.Fatal("empty topic not done at once")
	}
}

func TestConsumeQuota(t *testing.T) {
	sh := &consumeShared{quota: 10, finished: make(chan struct{})}
	if got := sh.take(4); got != 4 {
		t.Fatalf("take(4) = %d", got)
	}
	if got := sh.take(4); got != 4 {
		t.Fatalf("take(4) = %d", got)
	}
	select {
	case <-sh.finished:
		t.Fatal("finished before the quota")
	default:
	}
	if got := sh.take(4); got != 2 {
		t.Fatalf("take(4) at 8 of 10 = %d, want 2", got)
	}
	<-sh.finished
	if got := sh.take(1); got != 0 {
		t.Fatalf("take after the quota = %d", got)
	}
	unlimited := &consumeShared{finished: make(chan struct{})}
	if got := unlimited.take(1000); got != 1000 {
		t.Fatalf("unlimited take = %d", got)
	}
}

func TestGroupAssignment(t *testing.T) {
	g := newGroupAssignment(4, 2)
	ready := func() bool {
		select {
		case <-g.ready:
			return true
		default:
			return false
		}
	}
	g.assign(0, []int32{0, 1, 2, 3}) // the first member gets everything
	if ready() {
		t.Fatal("ready while one of two consumers has no partition")
	}
	g.revoke(0, []int32{2, 3})
	g.assign(1, []int32{2, 3})
	if !ready() || !g.owns(0) || !g.owns(1) {
		t.Fatal("not ready with partitions spread over both consumers")
	}
	// More consumers than partitions: ready once each partition has an owner.
	g = newGroupAssignment(1, 3)
	g.assign(2, []int32{0})
	if !ready() || g.owns(0) {
		t.Fatal("single partition")
	}
}

func TestBenchResult(t *testing.T) {
	r := &benchResult{}
	r.WireBytes = 3 << 20
	r.setTotals(1000, 2<<20, 2)
	if r.RecordsPerSec != 500 || r.MBPerSec != 1 || r.WireMBPerSec != 1.5 {
		t.Fatalf("rates %+v", r)
	}
	if err := r.exitErr(false); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	r.Errors, r.FirstError = 3, "timed out"
	if err := r.exitErr(false); err == nil || err.Error() != "3 errors (first: timed out); --allow-errors accepts this" {
		t.Fatalf("errors: %v", err)
	}
	if err := r.exitErr(true); err != nil {
		t.Fatalf("--allow-errors: %v", err)
	}
	r.Errors, r.Missing, r.FirstError = 0, 1, ""
	if err := r.exitErr(false); err == nil || err.Error() != "1 record produced but never consumed; --allow-errors accepts this" {
		t.Fatalf("missing: %v", err)
	}
	r.Interrupted = true
	if err := r.exitErr(true); err == nil || !strings.HasPrefix(err.Error(), "interrupted") {
		t.Fatalf("interrupted: %v", err)
	}
	// Zero seconds (nothing measured) leaves the rates at zero.
	z := &benchResult{}
	z.setTotals(0, 0, 0)
	if z.RecordsPerSec != 0 || math.IsNaN(z.MBPerSec) {
		t.Fatalf("zero run %+v", z)
	}
}

func TestBenchPayloadAndKeys(t *testing.T) {
	p := benchPayload(4096)
	if len(p) != 4096 || !bytes.Equal(p, benchPayload(4096)) {
		t.Fatal("payload not deterministic")
	}
	for _, c := range p {
		if c < 'A' || c > 'Z' {
			t.Fatalf("payload byte %q is not an uppercase letter", c)
		}
	}
	keys := benchKeys(3)
	if len(keys) != 3 || string(keys[0]) != "key-0" || string(keys[2]) != "key-2" {
		t.Fatalf("keys %q", keys)
	}
}
