package cli_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupCommandsEndToEnd runs the binary's group commands against a
// real broker: a group consumer commits part of a topic, then list,
// describe and lag are checked number by number, reset-offsets is refused
// while the consumer is live, dry-run and executed once it has left, and the
// group is deleted.
func TestGroupCommandsEndToEnd(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{Config: "offsets.topic.num.partitions=4\ngroup.initial.rebalance.delay.ms=0\n"})
	node.RequireGroups(t)

	b := []string{"-b", node.Addr}
	run := func(t *testing.T, args ...string) cliResult {
		t.Helper()
		return runCLI(t, "", append(args, b...)...)
	}
	ok := func(t *testing.T, args ...string) cliResult {
		t.Helper()
		r := run(t, args...)
		if r.err != nil {
			t.Fatalf("samsa %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
		}
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(node.Client(t))

	// events: partition 0 gets 5 records, then (after mid) 5 more;
	// partition 1 gets 6 and partition 2 gets 4, all after mid.
	const topic = "events"
	ok(t, "topic", "create", topic, "-p", "3")
	prod := node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(topic))
	produce := func(p int32, n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "p%d-%d", p, i)}
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce to partition %d: %v", p, err)
		}
	}
	produce(0, 5)
	time.Sleep(50 * time.Millisecond)
	mid := time.Now()
	time.Sleep(50 * time.Millisecond)
	produce(0, 5)
	produce(1, 6)
	produce(2, 4)

	// A group consumer reads everything and commits 7 on partition 0, 6
	// (all) on partition 1 and nothing on partition 2.
	cons, err := kgo.NewClient(
		kgo.SeedBrokers(node.Addr),
		kgo.ClientID("group-e2e"),
		kgo.ConsumerGroup("g1"),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	var closeOnce sync.Once
	closeConsumer := func() { closeOnce.Do(cons.Close) } // Close leaves the group
	t.Cleanup(closeConsumer)
	seen := 0
	for seen < 20 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("group consumer after %d records: %v", seen, err)
		}
		seen += fs.NumRecords()
	}
	var commitErr error
	cons.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{topic: {0: {Epoch: -1, Offset: 7}, 1: {Epoch: -1, Offset: 6}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if err := kerr.ErrorForCode(rp.ErrorCode); err != nil && commitErr == nil {
						commitErr = fmt.Errorf("partition %d: %w", rp.Partition, err)
					}
				}
			}
		})
	if commitErr != nil {
		t.Fatalf("group consumer commit: %v", commitErr)
	}
	described, err := adm.DescribeGroups(ctx, "g1")
	if err != nil || len(described["g1"].Members) != 1 {
		t.Fatalf("describe g1 through kadm: %v %+v", err, described)
	}
	memberID := described["g1"].Members[0].MemberID

	committed := func(t *testing.T, group string) map[int32]int64 {
		t.Helper()
		os, err := adm.FetchOffsets(ctx, group)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return map[int32]int64{} // brokers may say so for a group without offsets
		}
		if err != nil {
			t.Fatalf("FetchOffsets %s: %v", group, err)
		}
		out := make(map[int32]int64)
		os.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.Err == nil && o.At >= 0 {
				out[o.Partition] = o.At
			}
		})
		return out
	}
	wantCommitted := func(t *testing.T, group string, want map[int32]int64) {
		t.Helper()
		if got := committed(t, group); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("committed offsets of %s = %v, want %v", group, got, want)
		}
	}
	wantCommitted(t, "g1", map[int32]int64{0: 7, 1: 6})

	// Partition rows: TOPIC PARTITION COMMITTED END LAG MEMBER.
	lagRows := func(out string) []string {
		var rows []string
		for _, m := range regexp.MustCompile(`(?m)^events +(\d+) +(\S+) +(\S+) +(\S+) +(\S+)$`).FindAllStringSubmatch(out, -1) {
			rows = append(rows, strings.Join(m[1:], " "))
		}
		return rows
	}

	t.Run("live group", func(t *testing.T) {
		r := ok(t, "group", "list")
		if !regexp.MustCompile(`(?m)^g1 +classic +Stable +consumer +\d+$`).MatchString(r.stdout) {
			t.Fatalf("list:\n%s", r.stdout)
		}

		r = ok(t, "group", "describe", "g1")
		for _, re := range []string{
			`(?m)^STATE +Stable$`, `(?m)^TYPE +classic$`, `(?m)^PROTOCOL-TYPE +consumer$`, `(?m)^PROTOCOL +\S+$`,
			`(?m)^MEMBERS +1$`, `(?m)^TOTAL-LAG +7$`, `(?m)^COORDINATOR +\d+ \(`,
			`(?m)^` + regexp.QuoteMeta(memberID) + ` +- +group-e2e +\S+ +events\[0,1,2\]$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Fatalf("describe lacks %s:\n%s", re, r.stdout)
			}
		}
		want := []string{"0 7 10 3 " + memberID, "1 6 6 0 " + memberID, "2 - 4 4 " + memberID}
		if got := lagRows(r.stdout); !slices.Equal(got, want) {
			t.Fatalf("describe offsets = %q, want %q\n%s", got, want, r.stdout)
		}

		r = ok(t, "group", "lag", "g1")
		if got := lagRows(r.stdout); !slices.Equal(got, want) {
			t.Fatalf("lag rows = %q, want %q\n%s", got, want, r.stdout)
		}
		if !regexp.MustCompile(`(?m)^TOTAL-LAG +7$`).MatchString(r.stdout) {
			t.Fatalf("lag total:\n%s", r.stdout)
		}

		r = ok(t, "group", "lag")
		if !regexp.MustCompile(`(?m)^g1 +Stable +1 +7$`).MatchString(r.stdout) {
			t.Fatalf("all-groups lag:\n%s", r.stdout)
		}

		run(t, "group", "reset-offsets", "g1", "--all-topics", "--to-earliest").
			wantErr(t, "group g1 has 1 active member; stop it before resetting offsets")
		run(t, "group", "reset-offsets", "g1", "--topic", topic, "--to-latest", "--execute").
			wantErr(t, "group g1 has 1 active member; stop it before resetting offsets")
		run(t, "group", "delete", "g1").wantErr(t, "group g1 is not empty")
		wantCommitted(t, "g1", map[int32]int64{0: 7, 1: 6})
	})

	closeConsumer()
	eventually(t, "g1 still has members after its consumer left", func() string {
		d, err := adm.DescribeGroups(ctx, "g1")
		if err != nil {
			return err.Error()
		}
		if g := d["g1"]; g.State != "Empty" || len(g.Members) != 0 {
			return fmt.Sprintf("state %s, %d members", g.State, len(g.Members))
		}
		return ""
	})

	t.Run("empty group", func(t *testing.T) {
		listed := func(args ...string) bool {
			r := ok(t, append([]string{"group", "list"}, args...)...)
			return regexp.MustCompile(`(?m)^g1 `).MatchString(r.stdout)
		}
		if !listed() || !listed("--state", "empty") || listed("--state", "Stable") || !listed("--type", "classic") || listed("--type", "consumer") {
			t.Fatal("list filters disagree with an Empty classic group g1")
		}
		r := ok(t, "group", "describe", "g1")
		if !strings.Contains(r.stdout, "\nMEMBERS\n(no active members)\n") || !regexp.MustCompile(`(?m)^STATE +Empty$`).MatchString(r.stdout) {
			t.Fatalf("describe of an empty group:\n%s", r.stdout)
		}
		if got, want := lagRows(r.stdout), []string{"0 7 10 3 -", "1 6 6 0 -", "2 - 4 4 -"}; !slices.Equal(got, want) {
			t.Fatalf("describe offsets = %q, want %q", got, want)
		}
		r = ok(t, "group", "lag")
		if !regexp.MustCompile(`(?m)^g1 +Empty +0 +7$`).MatchString(r.stdout) {
			t.Fatalf("all-groups lag:\n%s", r.stdout)
		}
	})

	resetRows := func(out string) []string {
		var rows []string
		for _, m := range regexp.MustCompile(`(?m)^events +(\d+) +(\S+) +(\d+)$`).FindAllStringSubmatch(out, -1) {
			rows = append(rows, m[1]+":"+m[2]+">"+m[3])
		}
		return rows
	}
	reset := func(t *testing.T, want []string, args ...string) {
		t.Helper()
		r := ok(t, append([]string{"group", "reset-offsets"}, args...)...)
		if got := resetRows(r.stdout); !slices.Equal(got, want) {
			t.Fatalf("reset-offsets %s: rows %q, want %q\n%s", strings.Join(args, " "), got, want, r.stdout)
		}
	}

	t.Run("reset-offsets dry run", func(t *testing.T) {
		r := ok(t, "group", "reset-offsets", "g1", "--topic", topic, "--to-earliest")
		if got, want := resetRows(r.stdout), []string{"0:7>0", "1:6>0", "2:->0"}; !slices.Equal(got, want) {
			t.Fatalf("dry run rows %q, want %q\n%s", got, want, r.stdout)
		}
		if !strings.Contains(r.stdout, "dry run: no offsets changed; add --execute") {
			t.Fatalf("dry run does not say so:\n%s", r.stdout)
		}
		wantCommitted(t, "g1", map[int32]int64{0: 7, 1: 6})
	})

	t.Run("reset-offsets execute", func(t *testing.T) {
		// Move partition 0's log start to 2 so clamping shows.
		deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {Topic: topic, Partition: 0, At: 2, LeaderEpoch: -1}}})
		if err == nil {
			err = deleted.Error()
		}
		if err != nil {
			t.Fatalf("DeleteRecords: %v", err)
		}

		reset(t, []string{"0:7>2", "1:6>0"}, "g1", "--all-topics", "--to-earliest", "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 2, 1: 0})

		reset(t, []string{"0:2>5"}, "g1", "--topic", topic+":0", "--shift-by", "3", "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 5, 1: 0})

		reset(t, []string{"1:0>6"}, "g1", "--topic", topic+":1", "--to-offset", "100", "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 5, 1: 6})

		reset(t, []string{"0:5>2"}, "g1", "--topic", topic+":0", "--to-offset", "1", "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 2, 1: 6})

		reset(t, []string{"0:2>5", "1:6>0", "2:->0"}, "g1", "--topic", topic, "--to-datetime", mid.UTC().Format(time.RFC3339Nano), "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 5, 1: 0, 2: 0})

		future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
		reset(t, []string{"0:5>10", "1:0>6", "2:0>4"}, "g1", "--topic", topic, "--to-datetime", future, "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 10, 1: 6, 2: 4})

		reset(t, []string{"0:10>9", "1:6>5", "2:4>3"}, "g1", "--all-topics", "--shift-by", "-1", "--execute")
		wantCommitted(t, "g1", map[int32]int64{0: 9, 1: 5, 2: 3})

		r := ok(t, "group", "lag", "g1")
		if got, want := lagRows(r.stdout), []string{"0 9 10 1 -", "1 5 6 1 -", "2 3 4 1 -"}; !slices.Equal(got, want) {
			t.Fatalf("lag after resets = %q, want %q\n%s", got, want, r.stdout)
		}
		if !regexp.MustCompile(`(?m)^TOTAL-LAG +3$`).MatchString(r.stdout) {
			t.Fatalf("lag total after resets:\n%s", r.stdout)
		}

		// Offsets can be given to a group that does not exist yet.
		reset(t, []string{"0:->10", "1:->6", "2:->4"}, "g-new", "--topic", topic, "--to-latest", "--execute")
		wantCommitted(t, "g-new", map[int32]int64{0: 10, 1: 6, 2: 4})
		if r := ok(t, "group", "list"); !regexp.MustCompile(`(?m)^g-new `).MatchString(r.stdout) {
			t.Fatalf("g-new not listed:\n%s", r.stdout)
		}
	})

	t.Run("errors", func(t *testing.T) {
		run(t, "group", "describe", "nope").wantErr(t, "group nope does not exist")
		run(t, "group", "lag", "nope").wantErr(t, "group nope does not exist")
		run(t, "group", "delete", "nope").wantErr(t, "group nope does not exist")
		run(t, "group", "reset-offsets", "nope", "--all-topics", "--to-earliest").
			wantErr(t, "group nope has no committed offsets: name the topics to reset with --topic")
		run(t, "group", "reset-offsets", "g1", "--topic", "no-such-topic", "--to-earliest").wantErr(t, "topic no-such-topic does not exist")
		run(t, "group", "reset-offsets", "g1", "--topic", topic+":7", "--to-earliest").wantErr(t, "partition 7 does not exist: topic events has 3 partitions")
		run(t, "group", "reset-offsets", "g-none", "--topic", topic, "--shift-by", "1").
			wantErr(t, "cannot shift the offset of topic events partition 0: group g-none has no committed offset there")
		r := run(t, "group", "describe", "g1", "nope")
		r.wantErr(t, "group nope does not exist")
		if !regexp.MustCompile(`(?m)^GROUP +g1$`).MatchString(r.stdout) {
			t.Fatalf("describe g1 nope did not describe g1:\n%s", r.stdout)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := ok(t, "group", "delete", "g1", "g-new")
		if r.stdout != "deleted group g-new\ndeleted group g1\n" {
			t.Fatalf("delete said %q", r.stdout)
		}
		eventually(t, "deleted groups still listed", func() string {
			l := ok(t, "group", "list")
			if regexp.MustCompile(`(?m)^(g1|g-new) `).MatchString(l.stdout) {
				return l.stdout
			}
			return ""
		})
		run(t, "group", "describe", "g1").wantErr(t, "group g1 does not exist")
		if got := committed(t, "g1"); len(got) != 0 {
			t.Fatalf("deleted group still has offsets %v", got)
		}
	})
}
