package cli_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// These tests run the samsa binary's client commands against a real broker
// started by clustertest.

// consumed is one record as printed by consumeFormat.
type consumed struct {
	partition int32
	offset    int64
	key       string
	value     string
	headers   string
	topic     string
	timestamp int64
}

// consumeFormat prints every field; keys, values and headers in these tests
// contain no '|'.
const consumeFormat = `%p|%o|%k|%v|%h|%T|%t\n`

func parseConsumed(t *testing.T, out string) []consumed {
	t.Helper()
	var recs []consumed
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "|")
		if len(f) != 7 {
			t.Fatalf("unexpected consume line %q", line)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		ts, err3 := strconv.ParseInt(f[6], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("unexpected consume line %q", line)
		}
		recs = append(recs, consumed{int32(p), o, f[2], f[3], f[4], f[5], ts})
	}
	return recs
}

func TestCLIEndToEnd(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{})
	bin := clustertest.Binary(t)
	b := []string{"-b", node.Addr}
	run := func(t *testing.T, stdin string, args ...string) cliResult {
		t.Helper()
		return runCLI(t, stdin, append(args, b...)...)
	}
	ok := func(t *testing.T, stdin string, args ...string) cliResult {
		t.Helper()
		r := run(t, stdin, args...)
		if r.err != nil {
			t.Fatalf("samsa %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
		}
		return r
	}

	t.Run("cluster info", func(t *testing.T) {
		r := ok(t, "", "cluster", "info")
		_, port, _ := strings.Cut(node.Addr, ":")
		for _, want := range []string{"CLUSTER", "CONTROLLER", "TOPICS", "BROKERS", ":" + port} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("cluster info lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("create", func(t *testing.T) {
		r := ok(t, "", "topic", "create", "orders", "-p", "3", "-r", "1", "-c", "retention.ms=3600000")
		if !strings.HasPrefix(r.stdout, "created topic orders: 3 partitions, replication factor 1") {
			t.Fatalf("create said %q", r.stdout)
		}
		run(t, "", "topic", "create", "orders", "-p", "3").wantErr(t, "topic orders already exists")
		r = ok(t, "", "topic", "create", "orders", "--if-not-exists")
		if r.stdout != "topic orders already exists\n" {
			t.Fatalf("--if-not-exists said %q", r.stdout)
		}
		r = ok(t, "", "topic", "create", "dry-run", "-p", "2", "--validate-only")
		if !strings.HasPrefix(r.stdout, "topic dry-run is valid, not created (--validate-only)") {
			t.Fatalf("--validate-only said %q", r.stdout)
		}
		ok(t, "", "topic", "create", "other", "-p", "1")
	})

	t.Run("list", func(t *testing.T) {
		r := ok(t, "", "topic", "list")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"NAME", "PARTITIONS", "REPLICAS", "ID"}) {
			t.Fatalf("header = %q", lines[0])
		}
		var names []string
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			names = append(names, f[0])
			if f[0] == "orders" && (f[1] != "3" || f[2] != "1" || len(f[3]) != 22) {
				t.Fatalf("orders row = %q", l)
			}
		}
		if !slices.Contains(names, "orders") || !slices.Contains(names, "other") || slices.Contains(names, "dry-run") {
			t.Fatalf("topics listed: %q", names)
		}
	})

	before := time.Now().Add(-time.Second).UnixMilli()
	keyed := []struct{ key, value string }{
		{"alice", "v1"}, {"bob", "v2"}, {"carol", "v3"}, {"alice", "v4 with spaces"}, {"dave", "v5=x"}, {"", "v6"},
	}
	t.Run("produce keyed with headers", func(t *testing.T) {
		var in strings.Builder
		for _, kv := range keyed {
			fmt.Fprintf(&in, "%s\t%s\n", kv.key, kv.value)
		}
		r := ok(t, in.String(), "produce", "orders", "-k", `\t`, "-H", "src=cli", "-H", "trace=42")
		if r.stderr != "produced 6 records to orders\n" {
			t.Fatalf("produce summary = %q", r.stderr)
		}
	})

	t.Run("produce to one partition", func(t *testing.T) {
		r := ok(t, "p2-a\np2-b\n", "produce", "orders", "-p", "2", "--acks", "1")
		if r.stderr != "produced 2 records to orders\n" {
			t.Fatalf("produce summary = %q", r.stderr)
		}
	})
	after := time.Now().Add(time.Second).UnixMilli()

	t.Run("consume all with format", func(t *testing.T) {
		r := ok(t, "", "consume", "orders", "--format", consumeFormat)
		recs := parseConsumed(t, r.stdout)
		if len(recs) != 8 {
			t.Fatalf("consumed %d records, want 8:\n%s", len(recs), r.stdout)
		}
		var got []string
		lastOffset := map[int32]int64{0: -1, 1: -1, 2: -1}
		for _, rec := range recs {
			if rec.topic != "orders" {
				t.Fatalf("topic = %q", rec.topic)
			}
			if rec.timestamp < before || rec.timestamp > after {
				t.Fatalf("timestamp %d outside [%d, %d]", rec.timestamp, before, after)
			}
			if rec.offset <= lastOffset[rec.partition] {
				t.Fatalf("partition %d offsets out of order: %d after %d", rec.partition, rec.offset, lastOffset[rec.partition])
			}
			lastOffset[rec.partition] = rec.offset
			if strings.HasPrefix(rec.value, "p2-") {
				if rec.partition != 2 || rec.key != "" || rec.headers != "" {
					t.Fatalf("manual-partition record = %+v", rec)
				}
				continue
			}
			if rec.headers != "src=cli,trace=42" {
				t.Fatalf("headers = %q", rec.headers)
			}
			// Kafka's default partitioner: murmur2 of the key.
			if want := clustertest.KeyPartition([]byte(rec.key), 3); rec.partition != want {
				t.Fatalf("key %q on partition %d, Kafka's partitioner picks %d", rec.key, rec.partition, want)
			}
			got = append(got, rec.key+"="+rec.value)
		}
		var want []string
		for _, kv := range keyed {
			want = append(want, kv.key+"="+kv.value)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("keyed records = %q, want %q", got, want)
		}
	})

	t.Run("consume default format", func(t *testing.T) {
		r := ok(t, "", "consume", "orders", "-p", "2")
		if !strings.HasSuffix(r.stdout, "p2-a\np2-b\n") {
			t.Fatalf("partition 2 = %q", r.stdout)
		}
	})

	t.Run("consume from offset, count, timestamp, end", func(t *testing.T) {
		r := ok(t, "", "consume", "orders", "-p", "2", "--from", "1", "--format", `%o\n`)
		all := ok(t, "", "consume", "orders", "-p", "2", "--format", `%o\n`)
		if lines := strings.Count(all.stdout, "\n"); strings.Count(r.stdout, "\n") != lines-1 {
			t.Fatalf("--from 1 printed %q of %q", r.stdout, all.stdout)
		}
		r = ok(t, "", "consume", "orders", "-n", "3")
		if n := strings.Count(r.stdout, "\n"); n != 3 {
			t.Fatalf("-n 3 printed %d records", n)
		}
		r = ok(t, "", "consume", "orders", "--from", "@"+strconv.FormatInt(before, 10))
		if n := strings.Count(r.stdout, "\n"); n != 8 {
			t.Fatalf("--from @before printed %d records", n)
		}
		r = ok(t, "", "consume", "orders", "--from", "@"+time.UnixMilli(after+60_000).UTC().Format(time.RFC3339))
		if r.stdout != "" {
			t.Fatalf("--from a future time printed %q", r.stdout)
		}
		r = ok(t, "", "consume", "orders", "--from", "end")
		if r.stdout != "" {
			t.Fatalf("--from end printed %q", r.stdout)
		}
	})

	t.Run("compression", func(t *testing.T) {
		ok(t, "", "topic", "create", "codecs", "-p", "1")
		for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
			ok(t, codec+"-1\n"+codec+"-2\n", "produce", "codecs", "--compression", codec)
		}
		r := ok(t, "", "consume", "codecs")
		want := "none-1\nnone-2\ngzip-1\ngzip-2\nsnappy-1\nsnappy-2\nlz4-1\nlz4-2\nzstd-1\nzstd-2\n"
		if r.stdout != want {
			t.Fatalf("codecs consumed %q, want %q", r.stdout, want)
		}
	})

	t.Run("follow", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var (
			wg  sync.WaitGroup
			res cliResult
		)
		wg.Add(1)
		go func() { // owned by this subtest; ends after two records or ctx
			defer wg.Done()
			res = runCLIContext(ctx, bin, "", append([]string{"consume", "other", "-f", "--from", "end", "-n", "2"}, b...)...)
		}()
		// Produce until the follower has seen two new records; the first
		// records may land before it has captured the end offsets.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }() // owned by this subtest; ends with the consumer
		for i := 0; ; i++ {
			ok(t, fmt.Sprintf("live-%d\n", i), "produce", "other")
			select {
			case <-done:
			case <-time.After(300 * time.Millisecond):
				if ctx.Err() != nil {
					t.Fatal("follower never printed two records")
				}
				continue
			}
			break
		}
		if res.err != nil {
			t.Fatalf("follow: %v", res.err)
		}
		if lines := strings.Split(strings.TrimSpace(res.stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "live-") {
			t.Fatalf("follow printed %q", res.stdout)
		}
	})

	t.Run("cancel ends follow cleanly", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var (
			wg  sync.WaitGroup
			res cliResult
		)
		wg.Add(1)
		go func() { // owned by this subtest; ends when ctx is canceled
			defer wg.Done()
			res = runCLIContext(ctx, bin, "", append([]string{"consume", "other", "-f"}, b...)...)
		}()
		time.Sleep(time.Second)
		cancel() // runCLIContext sends SIGINT, which cancels main's signal context
		wg.Wait()
		if res.err != nil {
			t.Fatalf("canceled follow returned %v", res.err)
		}
	})

	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		r := ok(t, "", "consume", "orders", "--group", "g1", "-n", "3")
		first := strings.Count(r.stdout, "\n")
		if first != 3 {
			t.Fatalf("group -n 3 printed %d", first)
		}
		r = ok(t, "", "consume", "orders", "--group", "g1")
		if n := strings.Count(r.stdout, "\n"); n != 5 {
			t.Fatalf("group resumed with %d records, want the remaining 5:\n%s", n, r.stdout)
		}
		r = ok(t, "", "consume", "orders", "--group", "g1")
		if r.stdout != "" {
			t.Fatalf("caught-up group printed %q", r.stdout)
		}
	})

	t.Run("describe", func(t *testing.T) {
		r := ok(t, "", "topic", "describe", "orders")
		if !regexp.MustCompile(`(?m)^retention\.ms\s+3600000\s+DYNAMIC_TOPIC_CONFIG$`).MatchString(r.stdout) {
			t.Fatalf("describe lacks the retention.ms override:\n%s", r.stdout)
		}
		if !regexp.MustCompile(`(?m)^ID\s+\S{22}$`).MatchString(r.stdout) {
			t.Fatalf("describe lacks the topic id:\n%s", r.stdout)
		}
		// Partition rows: PARTITION LEADER EPOCH REPLICAS ISR START END.
		rows := regexp.MustCompile(`(?m)^(\d+)\s+(\d+)\s+(\d+)\s+\[(\d+)\]\s+\[(\d+)\]\s+(\d+)\s+(\d+)$`).FindAllStringSubmatch(r.stdout, -1)
		if len(rows) != 3 {
			t.Fatalf("describe has %d partition rows:\n%s", len(rows), r.stdout)
		}
		total := 0
		for _, row := range rows {
			end, _ := strconv.Atoi(row[7])
			total += end
		}
		if total != 8 {
			t.Fatalf("end offsets add up to %d, want 8:\n%s", total, r.stdout)
		}
		all := ok(t, "", "topic", "describe", "orders", "--all")
		if strings.Count(all.stdout, "\n") <= strings.Count(r.stdout, "\n") {
			t.Fatalf("--all shows no more configs than the default:\n%s", all.stdout)
		}
	})

	t.Run("alter-config", func(t *testing.T) {
		r := ok(t, "", "topic", "alter-config", "orders", "--set", "retention.ms=1000", "--set", "cleanup.policy=compact")
		if r.stdout != "set retention.ms=1000 on topic orders\nset cleanup.policy=compact on topic orders\n" {
			t.Fatalf("alter-config said %q", r.stdout)
		}
		d := ok(t, "", "topic", "describe", "orders")
		if !regexp.MustCompile(`(?m)^retention\.ms\s+1000\s`).MatchString(d.stdout) ||
			!regexp.MustCompile(`(?m)^cleanup\.policy\s+compact\s`).MatchString(d.stdout) {
			t.Fatalf("describe after --set:\n%s", d.stdout)
		}
		ok(t, "", "topic", "alter-config", "orders", "--delete", "cleanup.policy")
		d = ok(t, "", "topic", "describe", "orders")
		if regexp.MustCompile(`(?m)^cleanup\.policy\s+compact\s`).MatchString(d.stdout) {
			t.Fatalf("cleanup.policy still compact after --delete:\n%s", d.stdout)
		}
		r = run(t, "", "topic", "alter-config", "orders", "--set", "no.such.config=1")
		if r.err == nil || strings.Contains(r.err.Error(), "\n") || !strings.HasPrefix(r.err.Error(), "cannot alter configs of topic orders: ") {
			t.Fatalf("unknown config error = %v", r.err)
		}
	})

	t.Run("missing topic errors", func(t *testing.T) {
		const want = "topic nope does not exist"
		run(t, "", "consume", "nope").wantErr(t, want)
		run(t, "x\n", "produce", "nope").wantErr(t, want)
		run(t, "", "topic", "describe", "nope").wantErr(t, want)
		run(t, "", "topic", "alter-config", "nope", "--set", "retention.ms=1").wantErr(t, want)
		run(t, "", "topic", "delete", "nope").wantErr(t, want)
		run(t, "", "consume", "orders", "-p", "3").wantErr(t, "partition 3 does not exist: topic orders has 3 partitions")
		run(t, "x\n", "produce", "orders", "-p", "5").wantErr(t, "partition 5 does not exist: topic orders has 3 partitions")
	})

	t.Run("produce stops at a line without the separator", func(t *testing.T) {
		r := run(t, "k:v\nbad line\nk:w\n", "produce", "other", "-k", ":")
		r.wantErr(t, `line 2 has no key separator ":"`)
		if r.stderr != "produced 1 record to other\n" {
			t.Fatalf("summary = %q", r.stderr)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := ok(t, "", "topic", "delete", "orders", "codecs")
		if r.stdout != "deleted topic codecs\ndeleted topic orders\n" {
			t.Fatalf("delete said %q", r.stdout)
		}
		eventually(t, "deleted topics still listed", func() string {
			l := ok(t, "", "topic", "list")
			if strings.Contains(l.stdout, "orders") || strings.Contains(l.stdout, "codecs") {
				return l.stdout
			}
			return ""
		})
		r = run(t, "", "topic", "delete", "orders", "other")
		r.wantErr(t, "topic orders does not exist")
		if r.stdout != "deleted topic other\n" {
			t.Fatalf("partial delete said %q", r.stdout)
		}
	})
}
