package log

import (
	"fmt"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// BenchmarkClean cleans a 16 MiB-ish log of 1,000 keys overwritten 40
// times in 10-record batches (half uncompressed, half lz4) across 1 MiB
// segments: one full pass per iteration, on a fresh copy of the log.
func BenchmarkClean(b *testing.B) {
	for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecLZ4} {
		b.Run(codec.String(), func(b *testing.B) {
			cfg := compactConfig()
			cfg.SegmentBytes = 1 << 20
			cfg.IndexIntervalBytes = 4096
			clock := newClock()
			src := b.TempDir()
			l := openLog(b, src, cfg, nil, clock, false)
			m := newModel()
			val := make([]byte, 300)
			for i := range val {
				val[i] = byte(i * 7)
			}
			for round := range 40 {
				for k := 0; k < 1000; k += 10 {
					recs := make([]batch.Record, 10)
					for j := range recs {
						recs[j] = batch.Record{Key: fmt.Appendf(nil, "key-%05d", k+j), Value: append(fmt.Appendf(nil, "%d-", round), val...)}
					}
					m.appendRecs(b, l, codec, clock.Now().UnixMilli(), batch.BuildOptions{}, recs...)
				}
			}
			forceRoll(b, l)
			size := l.Size()
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				copyDir(b, src, dir)
				l := openLog(b, dir, cfg, nil, clock, true)
				b.StartTimer()
				st, err := l.Clean(clock.Now(), l.LogEndOffset())
				b.StopTimer()
				if err != nil || st.RecordsRetained != 1000 {
					b.Fatalf("%+v %v", st, err)
				}
				l.Close()
				b.StartTimer()
			}
		})
	}
}
