package log

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// compactConfig is a compacted topic's config with small segments.
func compactConfig() Config {
	cfg := testConfig()
	cfg.Compact = true
	cfg.SegmentBytes = 4096
	cfg.IndexIntervalBytes = 256
	cfg.RetentionMs, cfg.RetentionBytes = -1, -1
	return cfg
}

func rec(k, v string) batch.Record { return batch.Record{Key: []byte(k), Value: []byte(v)} }

// tomb is a tombstone: a null value.
func tomb(k string) batch.Record { return batch.Record{Key: []byte(k)} }

// appended is what the model knows about one appended record.
type appended struct {
	key, value string
	hasKey     bool
	null       bool
	ts         int64
}

// model tracks everything appended to a log, by offset.
type model struct {
	byOffset map[int64]appended
	order    []int64
}

func newModel() *model { return &model{byOffset: map[int64]appended{}} }

// appendRecs builds a batch of recs (record i has timestamp ts+i) with
// codec and opts, appends it and records it in m.
func (m *model) appendRecs(t testing.TB, l *Log, codec batch.Codec, ts int64, opts batch.BuildOptions, recs ...batch.Record) AppendInfo {
	t.Helper()
	for i := range recs {
		recs[i].TimestampDelta = int64(i)
	}
	opts.BaseTimestamp = ts
	b, err := batch.Build(codec, recs, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	info := mustAppend(t, l, b, 1)
	for i, r := range recs {
		m.byOffset[info.BaseOffset+int64(i)] = appended{key: string(r.Key), value: string(r.Value), hasKey: r.Key != nil, null: r.Value == nil, ts: ts + int64(i)}
		m.order = append(m.order, info.BaseOffset+int64(i))
	}
	return info
}

// latest is the model's latest record per key below upTo.
func (m *model) latest(upTo int64) map[string]appended {
	out := map[string]appended{}
	for _, o := range m.order {
		if r := m.byOffset[o]; o < upTo && r.hasKey {
			out[r.key] = r
		}
	}
	return out
}

// readRec is one record read back from the log.
type readRec struct {
	offset int64
	appended
	batch batch.Header
}

// readLog reads the whole log through Read, checking every batch with
// ValidateStored and that batches and records have strictly increasing
// offsets, and decodes the records.
func readLog(t testing.TB, l *Log) ([]readRec, []batch.Header) {
	t.Helper()
	var recs []readRec
	var hs []batch.Header
	off := l.LogStartOffset()
	leo := l.LogEndOffset()
	next := int64(-1)
	for off < leo {
		res, err := l.Read(off, 1<<20, leo, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		b := chunkBytes(t, res)
		if len(b) == 0 {
			t.Fatalf("Read(%d) returned nothing below LEO %d", off, leo)
		}
		for len(b) > 0 {
			h, err := batch.ParseHeader(b)
			if err != nil || h.Size() > int64(len(b)) {
				t.Fatalf("bad batch at %d: %v", off, err)
			}
			one := b[:h.Size()]
			b = b[h.Size():]
			if _, err := batch.ValidateStored(one); err != nil {
				t.Fatalf("batch at offset %d: %v", h.BaseOffset, err)
			}
			if h.BaseOffset < next {
				t.Fatalf("batch %d overlaps the previous one ending at %d", h.BaseOffset, next)
			}
			next = h.NextOffset()
			hs = append(hs, h)
			rs, err := batch.Records(one, 1<<26)
			if err != nil {
				t.Fatalf("records of batch %d: %v", h.BaseOffset, err)
			}
			for _, r := range rs {
				o := h.BaseOffset + int64(r.OffsetDelta)
				if len(recs) > 0 && o <= recs[len(recs)-1].offset {
					t.Fatalf("record offset %d after %d", o, recs[len(recs)-1].offset)
				}
				if o > h.LastOffset() {
					t.Fatalf("record offset %d beyond batch last offset %d", o, h.LastOffset())
				}
				ts := h.BaseTimestamp + r.TimestampDelta
				recs = append(recs, readRec{offset: o, batch: h, appended: appended{key: string(r.Key), value: string(r.Value), hasKey: r.Key != nil, null: r.Value == nil, ts: ts}})
			}
			off = h.NextOffset()
		}
	}
	return recs, hs
}

// checkLog verifies the log against the model: every record read is the
// one appended at its offset, with its timestamp; the latest record of
// every key is the model's (a deleted key may be gone); and below
// cleanedTo every key appears at most once and no record lacks a key.
func checkLog(t testing.TB, l *Log, m *model, cleanedTo int64) []readRec {
	t.Helper()
	recs, _ := readLog(t, l)
	got := map[string]appended{}
	seen := map[string]int64{}
	for _, r := range recs {
		want, ok := m.byOffset[r.offset]
		if !ok {
			t.Fatalf("offset %d was never appended", r.offset)
		}
		if want != r.appended {
			t.Fatalf("offset %d: got %+v, appended %+v", r.offset, r.appended, want)
		}
		if r.offset < cleanedTo {
			if !r.hasKey {
				t.Fatalf("offset %d: record without a key survived cleaning", r.offset)
			}
			if prev, dup := seen[r.key]; dup {
				t.Fatalf("key %q at offsets %d and %d, both below the cleaned offset %d", r.key, prev, r.offset, cleanedTo)
			}
			seen[r.key] = r.offset
		}
		if r.hasKey {
			got[r.key] = r.appended
		}
	}
	for k, want := range m.latest(l.LogEndOffset()) {
		g, ok := got[k]
		switch {
		case !ok && want.null:
		case !ok:
			t.Fatalf("key %q lost; latest was %q", k, want.value)
		case g != want:
			t.Fatalf("key %q: latest read %+v, want %+v", k, g, want)
		}
	}
	return recs
}

// dirFiles lists the names in dir with any of the suffixes.
func dirFiles(t testing.TB, dir string, suffixes ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		for _, s := range suffixes {
			if strings.HasSuffix(e.Name(), s) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
}

func mustClean(t testing.TB, l *Log, now int64, stable int64) CleanStats {
	t.Helper()
	st, err := l.Clean(timeMs(now), stable)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if st.Aborted {
		t.Fatalf("Clean aborted: %+v", st)
	}
	return st
}

func value(i, round int) string {
	return fmt.Sprintf("v%d-r%d-%s", i, round, bytes.Repeat([]byte{'x'}, i%7))
}

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
