package log

import (
	"testing"
)

// BenchmarkAppend appends 1 KiB batches (no fsync: Kafka's default policy).
func BenchmarkAppend(b *testing.B) {
	l := openLog(b, b.TempDir(), testConfig(), nil, newClock(), false)
	defer l.Close()
	tmpl := makeBatch(10, 80, 1000)
	buf := make([]byte, len(tmpl))
	b.SetBytes(int64(len(tmpl)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, tmpl)
		if _, err := l.Append(buf, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLog(b *testing.B, n int) (*Log, []AppendInfo) {
	l := openLog(b, b.TempDir(), testConfig(), nil, newClock(), false)
	b.Cleanup(func() { l.Close() })
	tmpl := makeBatch(10, 80, 1000)
	infos := make([]AppendInfo, 0, n)
	for range n {
		infos = append(infos, mustAppend(b, l, append([]byte(nil), tmpl...), 0))
	}
	return l, infos
}

// BenchmarkIndexLookup finds the batch of a random offset in a 100 MiB-ish
// segment: index binary search plus a short header scan.
func BenchmarkIndexLookup(b *testing.B) {
	l, infos := benchLog(b, 50000)
	s := l.active()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		off := infos[(i*7919)%len(infos)].LastOffset
		i++
		if _, _, ok, err := s.findBatch(off, s.size.Load()); !ok || err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead is a consumer fetch of up to 1 MiB from random offsets.
func BenchmarkRead(b *testing.B) {
	l, infos := benchLog(b, 50000)
	leo := l.LogEndOffset()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		off := infos[(i*7919)%len(infos)].BaseOffset
		i++
		res, err := l.Read(off, 1<<20, leo, true)
		if err != nil || res.Size == 0 {
			b.Fatal(err)
		}
	}
}
