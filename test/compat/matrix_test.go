package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const (
	numPartitions = 3
	numRecords    = 300
	numKeys       = 17
	opTimeout     = 90 * time.Second
)

// codecs is every compression codec Kafka defines, by the name
// compression.type uses.
var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// rec is one record as a test wants it produced and consumed back.
type rec struct {
	Key       string
	Value     string
	Headers   [][2]string
	Timestamp int64 // ms; 0 means set by the client, checked against a window
}

// produced is what a producer reports for one acknowledged record.
type produced struct {
	Index     int   `json:"index"`
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	Timestamp int64 `json:"timestamp"`
}

// consumed is one record as a consumer delivered it. Drivers written in
// other languages print it as a JSON line.
type consumed struct {
	Partition     int32       `json:"partition"`
	Offset        int64       `json:"offset"`
	Timestamp     int64       `json:"timestamp"`
	TimestampType string      `json:"timestamp_type"`
	Key           *string     `json:"key"`
	Value         *string     `json:"value"`
	Headers       [][2]string `json:"headers"`
}

// genRecords makes n keyed records with headers (including a repeated
// header key, whose order must survive) and distinct explicit timestamps.
// Values are compressible and start with the record's index, which is how
// the checks identify a record.
func genRecords(client, codec string, n int) []rec {
	base := time.Now().Add(-time.Hour).UnixMilli()
	out := make([]rec, n)
	for i := range out {
		r := rec{
			Key:   fmt.Sprintf("key-%d", i%numKeys),
			Value: fmt.Sprintf("%06d|%s|%s|%s", i, client, codec, strings.Repeat("samsa streams ", 5+i%40)),
			Headers: [][2]string{
				{"idx", strconv.Itoa(i)},
				{"client", client},
			},
			Timestamp: base + int64(i)*7,
		}
		if i%5 == 0 {
			r.Headers = append(r.Headers, [2]string{"dup", "first"}, [2]string{"dup", "second"})
		}
		out[i] = r
	}
	return out
}

// indexOf returns the record index encoded at the start of a value.
func indexOf(value string) (int, error) {
	head, _, ok := strings.Cut(value, "|")
	if !ok {
		return 0, fmt.Errorf("value %.40q has no index prefix", value)
	}
	return strconv.Atoi(head)
}

// writeTSV writes records as the drivers' input format:
// key TAB value TAB timestampMs [TAB hkey=hvalue]... NEWLINE.
func writeTSV(t testing.TB, recs []rec) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		fmt.Fprintf(&b, "%s\t%s\t%d", r.Key, r.Value, r.Timestamp)
		for _, h := range r.Headers {
			fmt.Fprintf(&b, "\t%s=%s", h[0], h[1])
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "records.tsv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyPartition is the partition Java's default partitioner picks for key.
func keyPartition(key string, partitions int) int32 {
	return clustertest.KeyPartition([]byte(key), partitions)
}

// startBroker starts one samsa node for a test function.
func startBroker(t *testing.T) *clustertest.Node {
	t.Helper()
	return clustertest.Start(t, clustertest.Options{})
}

// createTopic creates a topic with numPartitions partitions.
func createTopic(t testing.TB, node *clustertest.Node, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	adm := kadm.NewClient(node.Client(t))
	resp, err := adm.CreateTopic(ctx, numPartitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// checkOpts says how strictly check compares what came back.
type checkOpts struct {
	// tsFrom and tsTo bound client-assigned timestamps (rec.Timestamp 0).
	tsFrom, tsTo int64
}

// checkProduced verifies producer acknowledgements: one per record, each in
// its key's partition, offsets increasing in production order within a
// partition.
func checkProduced(t testing.TB, want []rec, got []produced) {
	t.Helper()
	errorf := cappedErrorf(t, "producer")
	if len(got) != len(want) {
		errorf("acknowledged %d records, want %d", len(got), len(want))
	}
	seen := make(map[int]bool)
	last := make(map[int32]produced)
	sorted := slices.Clone(got)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Index < sorted[j].Index })
	for _, p := range sorted {
		if p.Index < 0 || p.Index >= len(want) || seen[p.Index] {
			errorf("acknowledged unknown or duplicate record index %d", p.Index)
			continue
		}
		seen[p.Index] = true
		if wp := keyPartition(want[p.Index].Key, numPartitions); p.Partition != wp {
			errorf("record %d (key %q) acknowledged in partition %d, want %d (murmur2)", p.Index, want[p.Index].Key, p.Partition, wp)
		}
		if prev, ok := last[p.Partition]; ok && p.Offset <= prev.Offset {
			errorf("partition %d: record %d got offset %d, not after record %d's offset %d", p.Partition, p.Index, p.Offset, prev.Index, prev.Offset)
		}
		last[p.Partition] = p
	}
}

// cappedErrorf reports test errors prefixed with who, up to 20 of them.
func cappedErrorf(t testing.TB, who string) func(format string, args ...any) {
	n := 0
	return func(format string, args ...any) {
		t.Helper()
		n++
		if n <= 20 {
			t.Errorf(who+": "+format, args...)
		} else if n == 21 {
			t.Errorf("%s: further errors suppressed", who)
		}
	}
}

// checkConsumed verifies a full read of a fresh topic: every record exactly
// once, in its key's partition, at offsets 0..n-1 of that partition in
// production order, with key, value, headers and timestamp intact. If
// acks is non-nil, each record must be at the offset its producer reported.
func checkConsumed(t testing.TB, who string, want []rec, got []consumed, acks []produced, opts checkOpts) {
	t.Helper()
	errorf := cappedErrorf(t, who)
	if len(got) != len(want) {
		errorf("consumed %d records, want %d", len(got), len(want))
	}
	ackAt := make(map[int]produced)
	for _, a := range acks {
		ackAt[a.Index] = a
	}
	seen := make(map[int]bool)
	type pos struct {
		index  int
		offset int64
	}
	perPartition := make(map[int32][]pos)
	for _, c := range got {
		if c.Value == nil {
			errorf("partition %d offset %d: null value", c.Partition, c.Offset)
			continue
		}
		i, err := indexOf(*c.Value)
		if err != nil || i < 0 || i >= len(want) {
			errorf("partition %d offset %d: unexpected value %.60q", c.Partition, c.Offset, *c.Value)
			continue
		}
		if seen[i] {
			errorf("record %d consumed twice (again at partition %d offset %d)", i, c.Partition, c.Offset)
			continue
		}
		seen[i] = true
		w := want[i]
		perPartition[c.Partition] = append(perPartition[c.Partition], pos{i, c.Offset})
		if c.Key == nil || *c.Key != w.Key {
			errorf("record %d: key %v, want %q", i, strOrNil(c.Key), w.Key)
		}
		if *c.Value != w.Value {
			errorf("record %d: value %.60q, want %.60q", i, *c.Value, w.Value)
		}
		if !slices.Equal(c.Headers, w.Headers) && !(len(c.Headers) == 0 && len(w.Headers) == 0) {
			errorf("record %d: headers %q, want %q", i, c.Headers, w.Headers)
		}
		if w.Timestamp != 0 {
			if c.Timestamp != w.Timestamp {
				errorf("record %d: timestamp %d, want %d", i, c.Timestamp, w.Timestamp)
			}
		} else if c.Timestamp < opts.tsFrom || c.Timestamp > opts.tsTo {
			errorf("record %d: timestamp %d outside the produce window [%d, %d]", i, c.Timestamp, opts.tsFrom, opts.tsTo)
		}
		if c.TimestampType != "" && c.TimestampType != "CreateTime" {
			errorf("record %d: timestamp type %s, want CreateTime", i, c.TimestampType)
		}
		if wp := keyPartition(w.Key, numPartitions); c.Partition != wp {
			errorf("record %d (key %q): in partition %d, want %d (murmur2)", i, w.Key, c.Partition, wp)
		}
		if a, ok := ackAt[i]; ok && (a.Partition != c.Partition || a.Offset != c.Offset) {
			errorf("record %d: consumed at %d/%d but producer was told %d/%d", i, c.Partition, c.Offset, a.Partition, a.Offset)
		}
	}
	for p, ps := range perPartition {
		for j, x := range ps {
			if x.offset != int64(j) {
				errorf("partition %d: record %d delivered at position %d has offset %d, want %d (offsets must be dense from 0, delivered in order)", p, x.index, j, x.offset, j)
				break
			}
			if j > 0 && x.index <= ps[j-1].index {
				errorf("partition %d: record %d at offset %d follows record %d: production order lost", p, x.index, x.offset, ps[j-1].index)
				break
			}
		}
	}
	if missing := len(want) - len(seen); missing > 0 {
		var idx []int
		for i := range want {
			if !seen[i] && len(idx) < 10 {
				idx = append(idx, i)
			}
		}
		errorf("%d records never consumed, e.g. %v", missing, idx)
	}
}

func strOrNil(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

// consumeKgo reads a whole fresh topic with franz-go, the reference reader
// every other client's production is also checked with. With a group it
// consumes as that group member and commits what it read. more options
// are applied last (another seed broker, TLS, SASL).
func consumeKgo(t testing.TB, node *clustertest.Node, topic string, n int, group string, more ...kgo.Opt) []consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	opts := []kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if group != "" {
		opts = append(opts, kgo.ConsumerGroup(group), kgo.DisableAutoCommit())
	}
	cl := node.Client(t, append(opts, more...)...)
	defer cl.Close()
	if group != "" {
		defer func() {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				t.Errorf("kgo: commit as group %s: %v", group, err)
			}
		}()
	}
	var out []consumed
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Errorf("kgo: consumed %d of %d records before timeout", len(out), n)
			return out
		}
		fetchErr := false
		fs.EachError(func(topic string, p int32, err error) {
			t.Errorf("kgo: fetch %s/%d: %v", topic, p, err)
			fetchErr = true
		})
		if fetchErr {
			return out
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, fromKgo(r)) })
	}
	// A short extra poll so duplicates or extra records show up.
	extra, cancelExtra := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelExtra()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { out = append(out, fromKgo(r)) })
	return out
}

func fromKgo(r *kgo.Record) consumed {
	k, v := string(r.Key), string(r.Value)
	c := consumed{
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Key:       &k,
		Value:     &v,
	}
	if r.Attrs.TimestampType() == 1 {
		c.TimestampType = "LogAppendTime"
	} else {
		c.TimestampType = "CreateTime"
	}
	if r.Key == nil {
		c.Key = nil
	}
	if r.Value == nil {
		c.Value = nil
	}
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, [2]string{h.Key, string(h.Value)})
	}
	return c
}

// checkCommitted verifies that group committed every partition's end
// offset for topic.
func checkCommitted(t testing.TB, node *clustertest.Node, group, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	adm := kadm.NewClient(node.Client(t))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of group %s: %v", group, err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		switch {
		case !ok:
			t.Errorf("group %s committed nothing for %s/%d (end offset %d)", group, topic, o.Partition, o.Offset)
		case c.Err != nil:
			t.Errorf("group %s offset for %s/%d: %v", group, topic, o.Partition, c.Err)
		case c.At != o.Offset:
			t.Errorf("group %s committed %d for %s/%d, want end offset %d", group, c.At, topic, o.Partition, o.Offset)
		}
	})
}

// requireTool skips a test whose external tool is missing, except in CI
// (CI set), where make installs every tool and a missing one is a failure.
func requireTool(t testing.TB, what string, err error, install string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (%s should have installed it): %v", what, install, err)
	}
	t.Skipf("%s unavailable (run %s): %v", what, install, err)
}

// moduleRoot finds the directory holding go.mod above the test's directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// runJSONLines runs an external driver and decodes each stdout line as a T.
// A non-zero exit fails the test with the driver's stderr.
func runJSONLines[T any](t testing.TB, stdin []byte, name string, args ...string) []T {
	t.Helper()
	return runJSONLinesEnv[T](t, nil, stdin, name, args...)
}

// runJSONLinesEnv is runJSONLines with env (KEY=VALUE) added to the
// driver's environment.
func runJSONLinesEnv[T any](t testing.TB, env []string, stdin []byte, name string, args ...string) []T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(name), tail(stderr.String(), 8000))
	}
	var out []T
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var v T
		if jerr := json.Unmarshal(line, &v); jerr != nil {
			t.Fatalf("%s: bad output line %q: %v", filepath.Base(name), line, jerr)
		}
		out = append(out, v)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args[:min(len(args), 3)], " "), err)
		}
		t.Fatalf("run %s: %v", name, err)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// seedTopic creates topic and fills it through franz-go (uncompressed), for
// tests of a client's consumer-group side.
func seedTopic(t testing.TB, node *clustertest.Node, topic string) []rec {
	t.Helper()
	createTopic(t, node, topic)
	want := genRecords("seed", "none", numRecords)
	checkProduced(t, want, produceKgo(t, node, topic, "none", want))
	return want
}
