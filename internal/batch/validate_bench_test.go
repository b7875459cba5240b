package batch

import (
	"math/rand/v2"
	"testing"
)

// benchBatch is ~16 KiB of 1 KiB text-like records compressed with codec.
func benchBatch(b *testing.B, codec Codec) []byte {
	words := []string{"samsa", "kafka", "record", "batch", "offset", "leader", "epoch", "value", "key", "topic", "partition", "replica", "\"id\":", "12345", "{", "}"}
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]Record, 16)
	for i := range recs {
		v := make([]byte, 0, 1024+16)
		for len(v) < 1024 {
			v = append(v, words[rng.IntN(len(words))]...)
			v = append(v, ' ')
		}
		recs[i] = Record{Key: []byte{byte(i)}, Value: v[:1024], TimestampDelta: int64(i)}
	}
	return mustBuild(b, codec, recs, BuildOptions{BaseTimestamp: testNow})
}

// BenchmarkValidateRecords is the per-batch cost of record validation
// alone; SetBytes counts the uncompressed record bytes.
func BenchmarkValidateRecords(b *testing.B) {
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			bb := benchBatch(b, codec)
			h, err := Validate(bb)
			if err != nil {
				b.Fatal(err)
			}
			o := testOpts()
			b.SetBytes(16 * 1024)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ValidateRecords(&h, bb, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecompressWhole is the whole-section decompression Records and
// Recompress use, for comparison with the streaming validator.
func BenchmarkDecompressWhole(b *testing.B) {
	for _, codec := range allCodecs[1:] {
		b.Run(codec.String(), func(b *testing.B) {
			bb := benchBatch(b, codec)
			b.SetBytes(16 * 1024)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decompress(codec, bb[HeaderSize:], 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
