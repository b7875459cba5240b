package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var allCodecs = []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

// testPayloads returns inputs of assorted sizes and entropy, crossing the
// xerial and lz4 block sizes.
func testPayloads() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog "), 5000)
	return [][]byte{
		{},
		{42},
		[]byte("hello, samsa"),
		random(1000),
		text[:32<<10],
		text[:32<<10+1],
		text,
		random(200 << 10),
	}
}

func TestCompressRoundTrip(t *testing.T) {
	kgoDec := kgo.DefaultDecompressor()
	levels := map[Codec][]int{
		CodecGzip: {-1, 1, 6, 9},
		CodecLZ4:  {1, 4, 9, 12, 17},
		CodecZstd: {-5, 1, 3, 7, 19},
	}
	for _, codec := range allCodecs {
		for i, src := range testPayloads() {
			lvls := append([]int{-1000}, levels[codec]...) // -1000: no level
			for _, lvl := range lvls {
				var (
					c   []byte
					err error
				)
				prefix := []byte("prefix")
				if lvl == -1000 {
					c, err = Compress(codec, append([]byte(nil), prefix...), src)
				} else {
					c, err = Compress(codec, append([]byte(nil), prefix...), src, lvl)
				}
				if err != nil {
					t.Fatalf("%s payload %d level %d: %v", codec, i, lvl, err)
				}
				if !bytes.HasPrefix(c, prefix) {
					t.Fatalf("%s: dst prefix clobbered", codec)
				}
				c = c[len(prefix):]
				got, err := Decompress(codec, c, len(src))
				if err != nil {
					t.Fatalf("%s payload %d level %d: decompress: %v", codec, i, lvl, err)
				}
				if !bytes.Equal(got, src) {
					t.Fatalf("%s payload %d level %d: round trip mismatch", codec, i, lvl)
				}
				// franz-go, which mirrors what the Java client accepts,
				// reads what we write.
				kg, err := kgoDec.Decompress(c, kgo.CompressionCodecType(codec))
				if err != nil {
					t.Fatalf("%s payload %d: kgo decompress: %v", codec, i, err)
				}
				if !bytes.Equal(kg, src) {
					t.Fatalf("%s payload %d: kgo round trip mismatch", codec, i)
				}
			}
		}
	}
}

func TestCompressSnappyIsXerial(t *testing.T) {
	src := bytes.Repeat([]byte("abcdefgh"), 10<<10) // 80 KiB: three blocks
	c, err := Compress(CodecSnappy, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	if !bytes.HasPrefix(c, want) {
		t.Fatalf("header % x", c[:16])
	}
	blocks := 0
	for rem := c[16:]; len(rem) > 0; blocks++ {
		n := binary.BigEndian.Uint32(rem)
		rem = rem[4+n:]
	}
	if blocks != 3 {
		t.Fatalf("%d blocks, want 3 of at most 32 KiB", blocks)
	}
}

func TestDecompressFromKgo(t *testing.T) {
	codecs := map[Codec]kgo.CompressionCodec{
		CodecGzip:   kgo.GzipCompression(),
		CodecSnappy: kgo.SnappyCompression(), // raw snappy, as librdkafka sends
		CodecLZ4:    kgo.Lz4Compression(),
		CodecZstd:   kgo.ZstdCompression(),
	}
	for codec, kc := range codecs {
		comp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			t.Fatal(err)
		}
		for i, src := range testPayloads() {
			if len(src) == 0 {
				continue
			}
			c, used := comp.Compress(new(bytes.Buffer), src)
			if used != kgo.CompressionCodecType(codec) {
				t.Fatalf("kgo used %d", used)
			}
			got, err := Decompress(codec, c, len(src))
			if err != nil {
				t.Fatalf("%s payload %d: %v", codec, i, err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("%s payload %d: mismatch", codec, i)
			}
		}
	}
}

func TestDecompressSizeCap(t *testing.T) {
	src := bytes.Repeat([]byte{'z'}, 10000)
	for _, codec := range allCodecs {
		c, err := Compress(codec, nil, src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(codec, c, 9999); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: cap 9999: err %v, want ErrTooLarge", codec, err)
		}
		if got, err := Decompress(codec, c, 10000); err != nil || len(got) != 10000 {
			t.Errorf("%s: cap 10000: %d bytes, %v", codec, len(got), err)
		}
	}
	// A bomb: 64 MiB of zeros must fail fast under a 1 MiB cap without
	// allocating anything near 64 MiB.
	bomb := make([]byte, 64<<20)
	for _, codec := range allCodecs[1:] {
		c, err := Compress(codec, nil, bomb)
		if err != nil {
			t.Fatal(err)
		}
		Decompress(codec, c, 1<<20) // warm the pools
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := Decompress(codec, c, 1<<20); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s bomb: %v", codec, err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
			t.Errorf("%s bomb: allocated %d bytes under a 1 MiB cap", codec, n)
		}
	}
}

func TestDecompressGarbage(t *testing.T) {
	for _, codec := range allCodecs[1:] {
		_, err := Decompress(codec, []byte("definitely not compressed data"), 1<<20)
		if !errors.Is(err, ErrDecompress) {
			t.Errorf("%s: err %v, want ErrDecompress", codec, err)
		}
	}
	if _, err := Decompress(Codec(5), nil, 10); !errors.Is(err, ErrCodec) {
		t.Errorf("codec 5: %v", err)
	}
	// Truncated xerial block.
	c, _ := Compress(CodecSnappy, nil, bytes.Repeat([]byte("x"), 1000))
	if _, err := Decompress(CodecSnappy, c[:len(c)-1], 1<<20); !errors.Is(err, ErrDecompress) {
		t.Errorf("truncated xerial: %v", err)
	}
}

func TestCompressLevels(t *testing.T) {
	bad := map[Codec][]int{CodecGzip: {0, -2, 10}, CodecLZ4: {0, 18, -1}}
	for codec, lvls := range bad {
		for _, l := range lvls {
			if _, err := Compress(codec, nil, []byte("x"), l); !errors.Is(err, ErrLevel) {
				t.Errorf("%s level %d: %v", codec, l, err)
			}
		}
	}
}

func testRecords() []Record {
	return []Record{
		{Key: []byte("k1"), Value: []byte("v1")},
		{TimestampDelta: 5, Key: nil, Value: []byte("null key")},
		{TimestampDelta: 3, Key: []byte{}, Value: nil},
		{TimestampDelta: -7, Key: []byte("h"), Value: bytes.Repeat([]byte("big"), 40000),
			Headers: []RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "", Value: nil}, {Key: "c", Value: []byte{}}}},
		{Attributes: 0, TimestampDelta: 1 << 40, Value: []byte("far future")},
	}
}

func withOffsets(recs []Record) []Record {
	out := append([]Record(nil), recs...)
	for i := range out {
		out[i].OffsetDelta = int32(i)
	}
	return out
}

func TestBuildRecordsRoundTrip(t *testing.T) {
	recs := testRecords()
	for _, codec := range allCodecs {
		b, err := Build(codec, recs, BuildOptions{BaseTimestamp: 1000, BaseOffset: 77})
		if err != nil {
			t.Fatal(err)
		}
		h, err := Validate(b)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if h.Codec() != codec || h.NumRecords != 5 || h.LastOffsetDelta != 4 || h.BaseOffset != 77 {
			t.Fatalf("%s: header %+v", codec, h)
		}
		if h.MaxTimestamp != 1000+1<<40 || h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 || h.PartitionLeaderEpoch != -1 {
			t.Fatalf("%s: header %+v", codec, h)
		}
		got, err := Records(b, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if !reflect.DeepEqual(got, withOffsets(recs)) {
			t.Fatalf("%s: records differ:\n%+v", codec, got)
		}
		// Null and empty stay distinct.
		if got[1].Key != nil || got[2].Key == nil || got[2].Value != nil {
			t.Fatalf("%s: null/empty confused", codec)
		}
		// The cap applies to the records section.
		if codec != CodecNone {
			if _, err := Records(b, 1000); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: small cap: %v", codec, err)
			}
		}
		checkWithKmsg(t, b, withOffsets(recs))
	}
	if _, err := Build(CodecNone, nil, BuildOptions{}); !errors.Is(err, ErrNoRecords) {
		t.Fatal(err)
	}
}

// checkWithKmsg decodes b with franz-go (kmsg + kgo's decompressor), an
// independent implementation, and compares with want.
func checkWithKmsg(t *testing.T, b []byte, want []Record) {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	if uint32(rb.CRC) != crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)) {
		t.Fatal("kmsg: CRC")
	}
	raw, err := kgo.DefaultDecompressor().Decompress(rb.Records, kgo.CompressionCodecType(rb.Attributes&7))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		var kr kmsg.Record
		if err := kr.ReadFrom(raw); err != nil {
			t.Fatalf("kmsg record %d: %v", i, err)
		}
		n := varintLen(int64(kr.Length)) + int(kr.Length)
		raw = raw[n:]
		w := want[i]
		if kr.TimestampDelta64 != w.TimestampDelta || kr.OffsetDelta != w.OffsetDelta ||
			!bytes.Equal(kr.Key, w.Key) || (kr.Key == nil) != (w.Key == nil) ||
			!bytes.Equal(kr.Value, w.Value) || (kr.Value == nil) != (w.Value == nil) ||
			len(kr.Headers) != len(w.Headers) {
			t.Fatalf("kmsg record %d: %+v", i, kr)
		}
		for j, h := range kr.Headers {
			if h.Key != w.Headers[j].Key || !bytes.Equal(h.Value, w.Headers[j].Value) {
				t.Fatalf("kmsg record %d header %d", i, j)
			}
		}
	}
	if len(raw) != 0 {
		t.Fatalf("kmsg: %d trailing bytes", len(raw))
	}
}

// kmsgBatch builds a batch the way franz-go's producer lays it out, with
// kmsg's record encoder and kgo's compressor, and its own CRC.
func kmsgBatch(t *testing.T, codec Codec, recs []Record) []byte {
	t.Helper()
	var raw []byte
	for i, r := range recs {
		kr := kmsg.Record{TimestampDelta64: r.TimestampDelta, OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		raw = kr.AppendTo(raw)
	}
	if codec != CodecNone {
		kc := map[Codec]kgo.CompressionCodec{
			CodecGzip: kgo.GzipCompression(), CodecSnappy: kgo.SnappyCompression(),
			CodecLZ4: kgo.Lz4Compression(), CodecZstd: kgo.ZstdCompression(),
		}[codec]
		comp, _ := kgo.DefaultCompressor(kc)
		c, _ := comp.Compress(new(bytes.Buffer), raw)
		raw = append([]byte(nil), c...)
	}
	rb := kmsg.RecordBatch{
		FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: 2,
		Attributes: int16(codec), LastOffsetDelta: int32(len(recs) - 1),
		FirstTimestamp: 1700000000000, MaxTimestamp: 1700000000000,
		ProducerID: 12, ProducerEpoch: 3, FirstSequence: 40,
		NumRecords: int32(len(recs)), Records: raw,
	}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func TestRecordsFromKmsgBatches(t *testing.T) {
	recs := testRecords()
	for _, codec := range allCodecs {
		b := kmsgBatch(t, codec, recs)
		h, err := Validate(b)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if h.ProducerID != 12 || h.ProducerEpoch != 3 || h.BaseSequence != 40 || h.LastSequence() != 44 {
			t.Fatalf("%s: %+v", codec, h)
		}
		got, err := Records(b, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if !reflect.DeepEqual(got, withOffsets(recs)) {
			t.Fatalf("%s: records differ", codec)
		}
	}
}

func mustBuild(t testing.TB, codec Codec, recs []Record, o BuildOptions) []byte {
	t.Helper()
	b, err := Build(codec, recs, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidate(t *testing.T) {
	good := mustBuild(t, CodecNone, testRecords()[:3], BuildOptions{})
	if _, err := Validate(good); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:HeaderSize-1], ErrShort},
		{"bad crc", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrCRC},
		{"bad crc field", mutate(func(b []byte) []byte { b[posCRC] ^= 0x80; return b }), ErrCRC},
		{"magic 1", mutate(func(b []byte) []byte { b[posMagic] = 1; return b }), ErrMagic},
		{"truncated", good[:len(good)-1], ErrLength},
		{"extra byte", append(append([]byte(nil), good...), 0), ErrLength},
		{"length too small", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posLength:], HeaderSize-LogOverhead-1)
			return b
		}), ErrLength},
		{"negative length", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posLength:], 0xffffffff)
			return b
		}), ErrLength},
		{"record count", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posRecordCount:], 4)
			UpdateCRC(b)
			return b
		}), ErrRecordCount},
		{"zero records", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posRecordCount:], 0)
			binary.BigEndian.PutUint32(b[posLastOffsetDelta:], 0xffffffff)
			UpdateCRC(b)
			return b
		}), ErrRecordCount},
		{"codec 7", mutate(func(b []byte) []byte {
			b[posAttributes+1] |= 7
			UpdateCRC(b)
			return b
		}), ErrCodec},
	}
	for _, c := range cases {
		if _, err := Validate(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

func TestRecordsMalformed(t *testing.T) {
	good := mustBuild(t, CodecNone, testRecords()[:3], BuildOptions{})
	fix := func(b []byte) []byte { finish(b); return b }
	cases := map[string][]byte{
		// One record missing: NumRecords claims 4.
		"too few": fix(func() []byte {
			b := append([]byte(nil), good...)
			binary.BigEndian.PutUint32(b[posRecordCount:], 4)
			return b
		}()),
		// One record extra: NumRecords claims 2.
		"trailing": fix(func() []byte {
			b := append([]byte(nil), good...)
			binary.BigEndian.PutUint32(b[posRecordCount:], 2)
			return b
		}()),
		"truncated record": fix(append([]byte(nil), good[:len(good)-2]...)),
		"garbage":          fix(append(append([]byte(nil), good[:HeaderSize]...), 0x7f, 0xff, 0xff)),
	}
	for name, b := range cases {
		if _, err := Records(b, 1<<20); !errors.Is(err, ErrRecord) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A huge header count in a small record must not allocate for it.
	r := AppendRecord(nil, &Record{Value: []byte("x")})
	r[len(r)-1] = 0x7e // header count 63, no bytes for them
	if _, err := decodeRecord(r, new(Record), true); !errors.Is(err, ErrRecord) {
		t.Fatalf("header count: %v", err)
	}
	// Negative header key length.
	r = AppendRecord(nil, &Record{Headers: []RecordHeader{{Key: "k", Value: []byte("v")}}})
	i := bytes.IndexByte(r, 'k')
	r[i-1] = 0x01 // zig-zag -1
	if _, err := decodeRecord(r, new(Record), true); !errors.Is(err, ErrRecord) {
		t.Fatalf("negative header key: %v", err)
	}
}

func TestRecompress(t *testing.T) {
	recs := testRecords()
	opts := BuildOptions{BaseTimestamp: 99, ProducerID: 5, ProducerEpoch: 2, BaseSequence: 10, Transactional: true, LogAppendTime: true, BaseOffset: 1234, PartitionLeaderEpoch: 7}
	for _, from := range allCodecs {
		src := mustBuild(t, from, recs, opts)
		hs, _ := Validate(src)
		for _, to := range allCodecs {
			out, err := Recompress(src, to, 1<<20)
			if err != nil {
				t.Fatalf("%s→%s: %v", from, to, err)
			}
			h, err := Validate(out)
			if err != nil {
				t.Fatalf("%s→%s: %v", from, to, err)
			}
			if h.Codec() != to {
				t.Fatalf("%s→%s: codec %s", from, to, h.Codec())
			}
			want := hs
			want.Attributes = hs.Attributes&^CompressionMask | int16(to)
			want.Length, want.CRC = h.Length, h.CRC
			if h != want {
				t.Fatalf("%s→%s: header\n%+v\nwant\n%+v", from, to, h, want)
			}
			got, err := Records(out, 1<<20)
			if err != nil || !reflect.DeepEqual(got, withOffsets(recs)) {
				t.Fatalf("%s→%s: records %v", from, to, err)
			}
		}
	}
	// Records that do not match the count are refused.
	b := mustBuild(t, CodecGzip, recs, BuildOptions{})
	raw, _ := Decompress(CodecGzip, b[HeaderSize:], 1<<20)
	bad := append([]byte(nil), b[:HeaderSize]...)
	bad, _ = Compress(CodecGzip, bad, raw[:len(raw)-1])
	finish(bad)
	if _, err := Recompress(bad, CodecNone, 1<<20); !errors.Is(err, ErrRecord) {
		t.Fatalf("bad records: %v", err)
	}
	if _, err := Recompress(b, Codec(6), 1<<20); !errors.Is(err, ErrCodec) {
		t.Fatalf("bad codec: %v", err)
	}
	if _, err := Recompress(b, CodecNone, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("cap: %v", err)
	}
}

func TestControlBatch(t *testing.T) {
	for _, commit := range []bool{true, false} {
		b := BuildControlBatch(77, 4, commit, 9, 1700000000123)
		h, err := Validate(b)
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsControl() || !h.IsTransactional() || h.Codec() != CodecNone ||
			h.ProducerID != 77 || h.ProducerEpoch != 4 || h.BaseSequence != -1 ||
			h.BaseTimestamp != 1700000000123 || h.MaxTimestamp != 1700000000123 || h.NumRecords != 1 {
			t.Fatalf("header %+v", h)
		}
		got, err := ControlType(b)
		if err != nil || got != commit {
			t.Fatalf("ControlType = %v, %v; want %v", got, err, commit)
		}
		// Compare the record with kmsg's encodings of the key and value.
		recs, err := Records(b, 1<<10)
		if err != nil {
			t.Fatal(err)
		}
		typ := kmsg.ControlRecordKeyType(0)
		if commit {
			typ = 1
		}
		key := (&kmsg.ControlRecordKey{Version: 0, Type: typ}).AppendTo(nil)
		val := (&kmsg.EndTxnMarker{Version: 0, CoordinatorEpoch: 9}).AppendTo(nil)
		if !bytes.Equal(recs[0].Key, key) || !bytes.Equal(recs[0].Value, val) {
			t.Fatalf("record %+v", recs[0])
		}
	}
	if _, err := ControlType(mustBuild(t, CodecNone, testRecords()[:1], BuildOptions{})); !errors.Is(err, ErrNotControl) {
		t.Fatal(err)
	}
	// A KRaft control record (type 3) is not a transaction marker.
	b := BuildControlBatch(1, 1, true, 1, 1)
	i := HeaderSize + 1 + 1 + 1 + 1 + 1 // length, attrs, ts, offset, key length
	b[i+3] = 3
	UpdateCRC(b)
	if _, err := ControlType(b); !errors.Is(err, ErrNotMarker) {
		t.Fatal(err)
	}
}

func TestBuildOptionsProducer(t *testing.T) {
	cases := []struct {
		o             BuildOptions
		pid           int64
		epoch         int16
		seq           int32
		transactional bool
	}{
		{BuildOptions{}, -1, -1, -1, false},
		{BuildOptions{ProducerID: -1}, -1, -1, -1, false},
		{BuildOptions{ProducerID: 9, ProducerEpoch: 1, BaseSequence: 5}, 9, 1, 5, false},
		{BuildOptions{Idempotent: true}, 0, 0, 0, false},
		{BuildOptions{ProducerID: 3, Transactional: true}, 3, 0, 0, true},
	}
	for _, c := range cases {
		b := mustBuild(t, CodecNone, testRecords()[:2], c.o)
		h, err := Validate(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.ProducerID != c.pid || h.ProducerEpoch != c.epoch || h.BaseSequence != c.seq || h.IsTransactional() != c.transactional {
			t.Errorf("%+v: got %+v", c.o, h)
		}
	}
}

func TestRecordsAllocationBound(t *testing.T) {
	// NumRecords claims two billion; the records section is tiny.
	b := mustBuild(t, CodecNone, testRecords()[:1], BuildOptions{})
	binary.BigEndian.PutUint32(b[posRecordCount:], 1<<31-1)
	binary.BigEndian.PutUint32(b[posLastOffsetDelta:], 1<<31-2)
	UpdateCRC(b)
	if _, err := Records(b, 1<<20); !errors.Is(err, ErrRecord) {
		t.Fatal(err)
	}
}

func ExampleBuild() {
	b, _ := Build(CodecZstd, []Record{{Value: []byte("hello")}}, BuildOptions{BaseTimestamp: 1})
	recs, _ := Records(b, 1<<20)
	fmt.Println(string(recs[0].Value))
	// Output: hello
}
