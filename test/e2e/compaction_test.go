package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const cleanerConfig = "log.cleaner.backoff.ms=100\nlog.retention.check.interval.ms=200\n"

// produceRounds writes rounds × keys keyed records, then filler records
// with unique keys so that the last round lies in cleanable segments. In
// the last round the first tombstones keys get a null value.
func produceRounds(t *testing.T, cl *kgo.Client, topic string, keys, rounds, tombstones, filler int) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	latest := map[string]string{}
	send := func(recs []*kgo.Record) {
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// One produce call per round and per 50 fillers, so that the data
	// spans many batches and segments: the cleaner never touches the
	// active segment.
	for r := 0; r < rounds; r++ {
		var recs []*kgo.Record
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("k%03d", k)
			val := fmt.Sprintf("round%02d-%s-%040d", r, key, r)
			rec := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(val)}
			if r == rounds-1 && k < tombstones {
				rec.Value = nil
				delete(latest, key)
			} else {
				latest[key] = val
			}
			recs = append(recs, rec)
		}
		send(recs)
	}
	var recs []*kgo.Record
	for i := 0; i < filler; i++ {
		key := fmt.Sprintf("f%04d", i)
		val := fmt.Sprintf("filler-%060d", i)
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(val)})
		latest[key] = val
		if len(recs) == 50 {
			send(recs)
			recs = nil
		}
	}
	send(recs)
	return latest
}

// readCompacted reads the whole topic and returns the records per key.
func readCompacted(t *testing.T, addr, topic string) map[string][]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lo := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Timestamp = -1
	lt.Partitions = append(lt.Partitions, lp)
	lo.Topics = append(lo.Topics, lt)
	resp, err := lo.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	end := resp.Topics[0].Partitions[0].Offset
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	out := map[string][]*kgo.Record{}
	var last int64 = -1
	for last < end-1 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read up to offset %d of %d", last, end)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset <= last {
				t.Fatalf("offset %d after %d", r.Offset, last)
			}
			last = r.Offset
			out[string(r.Key)] = append(out[string(r.Key)], r)
		})
		if last < end-1 && len(fs.Records()) == 0 {
			// Offsets at the end may be gone (compacted away); the
			// broker's high watermark is the stop.
			break
		}
	}
	return out
}

// waitCompacted polls until the topic reads as exactly latest: one record
// per live key, no deleted keys.
func waitCompacted(t *testing.T, addr, topic string, latest map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var why string
	for time.Now().Before(deadline) {
		got := readCompacted(t, addr, topic)
		why = ""
		for k, recs := range got {
			want, live := latest[k]
			switch {
			case !live:
				why = fmt.Sprintf("deleted key %s still has %d records (last value %q)", k, len(recs), recs[len(recs)-1].Value)
			case len(recs) != 1:
				why = fmt.Sprintf("key %s has %d records", k, len(recs))
			case string(recs[0].Value) != want:
				why = fmt.Sprintf("key %s = %q, want %q", k, recs[0].Value, want)
			}
			if why != "" {
				break
			}
		}
		for k := range latest {
			if _, ok := got[k]; !ok && why == "" {
				why = fmt.Sprintf("live key %s is missing", k)
			}
		}
		if why == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("topic not compacted to the latest value per key: %s", why)
}

func TestCompactedTopic(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Config: cleanerConfig})
	cl := n.Client(t)
	createTopic(t, cl, "compacted", 1, map[string]*string{
		"cleanup.policy":            kmsg.StringPtr("compact"),
		"segment.bytes":             kmsg.StringPtr("4096"),
		"min.cleanable.dirty.ratio": kmsg.StringPtr("0.01"),
		"delete.retention.ms":       kmsg.StringPtr("1500"),
	})
	latest := produceRounds(t, cl, "compacted", 50, 20, 10, 300)
	// Tombstones stay for delete.retention.ms after the first cleaning,
	// then a later pass removes them.
	waitCompacted(t, n.Addr, "compacted", latest, 60*time.Second)
}

func TestCleanerKilled(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Config: cleanerConfig})
	cl := n.Client(t)
	createTopic(t, cl, "ck", 1, map[string]*string{
		"cleanup.policy":            kmsg.StringPtr("compact"),
		"segment.bytes":             kmsg.StringPtr("8192"),
		"min.cleanable.dirty.ratio": kmsg.StringPtr("0.01"),
	})
	latest := produceRounds(t, cl, "ck", 400, 30, 0, 400)
	// Kill the broker while the cleaner is (very likely) mid-pass, several
	// times; every restart must read back a consistent log.
	for i := 0; i < 3; i++ {
		time.Sleep(time.Duration(150+100*i) * time.Millisecond)
		n.Kill()
		n.Restart(t)
		got := readCompacted(t, n.Addr, "ck")
		for k, want := range latest {
			recs := got[k]
			if len(recs) == 0 || string(recs[len(recs)-1].Value) != want {
				t.Fatalf("restart %d: key %s lost its latest value", i, k)
			}
		}
	}
	waitCompacted(t, n.Addr, "ck", latest, 60*time.Second)
}
