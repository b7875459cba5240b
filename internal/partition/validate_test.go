package partition

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// withSection returns a copy of batch b whose records section is section
// compressed with codec, and whose header claims n records; length and CRC
// are recomputed.
func withSection(t *testing.T, b []byte, codec batch.Codec, section []byte, n int32) []byte {
	t.Helper()
	out, err := batch.Compress(codec, append([]byte(nil), b[:batch.HeaderSize]...), section)
	if err != nil {
		t.Fatal(err)
	}
	out[22] = out[22]&^batch.CompressionMask | byte(codec)
	binary.BigEndian.PutUint32(out[23:], uint32(n-1)) // last offset delta
	binary.BigEndian.PutUint32(out[57:], uint32(n))   // record count
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-batch.LogOverhead))
	batch.UpdateCRC(out)
	return out
}

func plainRecords(n int) []batch.Record {
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i] = batch.Record{OffsetDelta: int32(i), Key: []byte{'k', byte(i)}, Value: bytes.Repeat([]byte{byte(i)}, 100)}
	}
	return recs
}

// TestAppendRejectsBadRecords: every refused batch leaves the log as it
// was, and each maps to the partition error (so the Kafka code) Kafka uses.
func TestAppendRejectsBadRecords(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	ts := clock.t.UnixMilli()
	cfg := testConfig()
	cfg.CleanupCompact = true
	cfg.TimestampBeforeMaxMs, cfg.TimestampAfterMaxMs = 60_000, 60_000
	p := openTest(t, t.TempDir(), cfg, clock)
	defer p.Close()

	recs := plainRecords(3)
	good, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	section := batch.AppendRecords(nil, recs)
	patch := func(mod func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		mod(b)
		batch.UpdateCRC(b)
		return b
	}
	swapped := append([]batch.Record(nil), recs...)
	swapped[1].OffsetDelta, swapped[2].OffsetDelta = 2, 1
	keyless := append([]batch.Record(nil), recs...)
	keyless[2].Key = nil
	old := append([]batch.Record(nil), recs...)
	old[1].TimestampDelta = -61_000
	garbage := bytes.Repeat([]byte("not gzip "), 30)
	gzipGarbage := withSection(t, good, batch.CodecNone, garbage, 3)
	gzipGarbage[22] |= byte(batch.CodecGzip)
	batch.UpdateCRC(gzipGarbage)
	trailing := append(append([]byte(nil), section...), garbage...)

	cases := []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"gzip-flagged garbage", gzipGarbage, ErrCorrupt, "do not decompress"},
		{"bytes after the records", withSection(t, good, batch.CodecNone, trailing, 3), ErrInvalidRecord, "still remaining"},
		{"more records claimed", withSection(t, good, batch.CodecNone, section, 4), ErrInvalidRecord, "premature EOF"},
		{"fewer records claimed", withSection(t, good, batch.CodecZstd, section, 2), ErrInvalidRecord, "still remaining"},
		{"offset deltas", withSection(t, good, batch.CodecLZ4, batch.AppendRecords(nil, swapped), 3), ErrInvalidRecord, "offset delta"},
		{"keyless on compacted", withSection(t, good, batch.CodecSnappy, batch.AppendRecords(nil, keyless), 3), ErrInvalidRecord, "without key"},
		{"timestamp too old", withSection(t, good, batch.CodecNone, batch.AppendRecords(nil, old), 3), ErrInvalidTimestamp, "rejected due to invalid timestamp"},
		{"unknown codec", patch(func(b []byte) { b[22] |= 5 }), ErrUnsupportedCodec, "unknown compression type id: 5"},
		{"base offset", patch(func(b []byte) { b[7] = 9 }), ErrInvalidRecord, "should be 0, but it is 9"},
		{"control", patch(func(b []byte) { b[22] |= batch.ControlBit }), ErrInvalidRecord, "control records"},
		{"sequence", patch(func(b []byte) { binary.BigEndian.PutUint64(b[43:], 7) }), ErrInvalidRecord, "invalid sequence number -1"},
	}
	for _, c := range cases {
		_, err := p.Append(c.b, 1)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v (%q)", c.name, err, c.want, c.msg)
		}
		if p.LogEndOffset() != 0 {
			t.Fatalf("%s: stored (log end %d)", c.name, p.LogEndOffset())
		}
	}
	var re *batch.RecordErrors
	_, err = p.Append(withSection(t, good, batch.CodecNone, batch.AppendRecords(nil, keyless), 3), 1)
	if !errors.As(err, &re) || len(re.Errs) != 1 || re.Errs[0].Index != 2 {
		t.Fatalf("record errors: %v", err)
	}
	if _, err := p.Append(good, 1); err != nil {
		t.Fatalf("good batch after the bad ones: %v", err)
	}
}

// TestAppendKeepsBytes: a valid batch is stored byte for byte, only the
// base offset and leader epoch patched; a wrong max timestamp is corrected
// as Kafka corrects it.
func TestAppendKeepsBytes(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	ts := clock.t.UnixMilli()
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	recs := plainRecords(5)
	recs[3].TimestampDelta = 7
	var sent [][]byte
	for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd} {
		b, err := batch.Build(codec, recs, batch.BuildOptions{BaseTimestamp: ts})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, append([]byte(nil), b...))
		if _, err := p.Append(b, 1); err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
	}
	lying := append([]byte(nil), sent[0]...)
	binary.BigEndian.PutUint64(lying[35:], uint64(ts+999))
	batch.UpdateCRC(lying)
	if _, err := p.Append(append([]byte(nil), lying...), 1); err != nil {
		t.Fatal(err)
	}
	stored := readAll(t, p)
	if len(stored) != len(sent)+1 {
		t.Fatalf("%d batches stored", len(stored))
	}
	for i, b := range sent {
		if !bytes.Equal(stored[i][16:], b[16:]) {
			t.Errorf("batch %d changed from the leader epoch on", i)
		}
	}
	h, err := batch.Validate(stored[len(sent)])
	if err != nil || h.MaxTimestamp != ts+7 {
		t.Fatalf("max timestamp not corrected: %+v %v", h, err)
	}
}

func readAll(t *testing.T, p *Partition) [][]byte {
	t.Helper()
	rr, err := p.Log().Read(0, 1<<30, p.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, c := range rr.Chunks {
		buf := make([]byte, c.Len)
		if _, err := c.File.ReadAt(buf, c.Pos); err != nil {
			t.Fatal(err)
		}
		raw = append(raw, buf...)
	}
	var out [][]byte
	for len(raw) > 0 {
		h, err := batch.ParseHeader(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw[:h.Size()])
		raw = raw[h.Size():]
	}
	return out
}
