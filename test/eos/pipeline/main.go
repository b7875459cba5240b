package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "seed broker")
	in := flag.String("in", "", "input topic")
	out := flag.String("out", "", "output topic")
	group := flag.String("group", "", "consumer group")
	txnID := flag.String("txn-id", "", "transactional id")
	instance := flag.String("instance", "", "static group instance id (KIP-345); a restart replaces the old member at once")
	flag.Parse()
	if err := run(*brokers, *in, *out, *group, *txnID, *instance); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

func run(brokers, in, out, group, txnID, instance string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // ends with the process; cancels the loop when stdin closes
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers),
		kgo.ClientID("samsa-eos-pipeline"),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(10 * time.Second),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequireStableFetchOffsets(),
		kgo.SessionTimeout(6 * time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(out),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	if instance != "" {
		opts = append(opts, kgo.InstanceID(instance))
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return err
	}
	defer sess.Close()
	enc := json.NewEncoder(os.Stdout)
	for ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 200)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		var fetchErr error
		fs.EachError(func(_ string, _ int32, err error) { fetchErr = err })
		if fetchErr != nil {
			return fmt.Errorf("fetch: %w", fetchErr)
		}
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			sess.Produce(ctx, &kgo.Record{Partition: r.Partition, Key: r.Key, Value: append([]byte("out-"), r.Value...)}, nil)
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			return fmt.Errorf("end transaction: %w", err)
		}
		_ = enc.Encode(map[string]any{"committed": committed, "records": n})
	}
	return nil
}
