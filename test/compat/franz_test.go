package compat

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func kgoCodec(t testing.TB, codec string) kgo.CompressionCodec {
	switch codec {
	case "none":
		return kgo.NoCompression()
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	t.Fatalf("unknown codec %q", codec)
	return kgo.CompressionCodec{}
}

// produceKgo produces want to topic with franz-go's defaults (idempotent,
// acks=all, Java-compatible key partitioner) and returns the acks. extra
// options are applied last (another seed broker, TLS, SASL).
func produceKgo(t testing.TB, node *clustertest.Node, topic, codec string, want []rec, extra ...kgo.Opt) []produced {
	t.Helper()
	cl := node.Client(t, append([]kgo.Opt{kgo.ProducerBatchCompression(kgoCodec(t, codec))}, extra...)...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var mu sync.Mutex
	var acks []produced
	var firstErr error
	for i, w := range want {
		r := &kgo.Record{Topic: topic, Key: []byte(w.Key), Value: []byte(w.Value), Timestamp: time.UnixMilli(w.Timestamp)}
		for _, h := range w.Headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
		}
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			acks = append(acks, produced{Index: i, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli()})
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("franz-go: flush: %v", err)
	}
	if firstErr != nil {
		t.Fatalf("franz-go: produce: %v", firstErr)
	}
	return acks
}

// TestFranzGo round-trips through franz-go with every codec, then consumes
// as a group and checks the committed offsets.
func TestFranzGo(t *testing.T) {
	t.Parallel()
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-franz-" + codec
			createTopic(t, node, topic)
			want := genRecords("franz-go", codec, numRecords)
			acks := produceKgo(t, node, topic, codec, want)
			checkProduced(t, want, acks)
			got := consumeKgo(t, node, topic, len(want), "")
			checkConsumed(t, "franz-go", want, got, acks, checkOpts{})
		})
	}
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-franz-group", "compat-franz-group"
		want := seedTopic(t, node, topic)
		got := consumeKgo(t, node, topic, len(want), group)
		checkConsumed(t, "franz-go group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
