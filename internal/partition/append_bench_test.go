package partition

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

// benchRecords returns n records with 1 KiB values of text-like bytes
// (words from a small vocabulary), which compress about as well as JSON.
func benchRecords(n int) []batch.Record {
	words := []string{"samsa", "kafka", "record", "batch", "offset", "leader", "epoch", "value", "key", "topic", "partition", "replica", "\"id\":", "12345", "{", "}"}
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]batch.Record, n)
	for i := range recs {
		v := make([]byte, 0, 1024+16)
		for len(v) < 1024 {
			v = append(v, words[rng.IntN(len(words))]...)
			v = append(v, ' ')
		}
		recs[i] = batch.Record{Key: []byte{byte(i)}, Value: v[:1024], TimestampDelta: int64(i)}
	}
	return recs
}

// BenchmarkAppend appends ~16 KiB batches of 1 KiB records from a producer
// (validation, then the log append; no fsync, Kafka's default policy).
// SetBytes counts the records' uncompressed bytes, so MB/s compares the
// codecs by the data they carry.
func BenchmarkAppend(b *testing.B) {
	for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecLZ4, batch.CodecZstd, batch.CodecGzip, batch.CodecSnappy} {
		b.Run(codec.String(), func(b *testing.B) { benchAppend(b, codec) })
	}
}

func benchAppend(b *testing.B, codec batch.Codec) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.SegmentBytes = 256 << 20
	p, err := Open(context.Background(), b.TempDir(), "t", 0, cfg, Options{FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	recs := benchRecords(16)
	tmpl, err := batch.Build(codec, recs, batch.BuildOptions{BaseTimestamp: clock.t.UnixMilli()})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(tmpl))
	b.SetBytes(int64(16 * 1024))
	b.ReportAllocs()
	cpu0 := benchCPU(b)
	for b.Loop() {
		copy(buf, tmpl)
		if _, err := p.Append(buf, 1); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time, not wall time, is what a shared machine measures stably:
	// CPU-seconds per GB of record data.
	cpu := benchCPU(b) - cpu0
	b.ReportMetric(cpu.Seconds()/(float64(b.N)*16*1024/1e9), "CPU-s/GB")
}

// benchCPU is the process's user plus system CPU time so far.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
