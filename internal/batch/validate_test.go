package batch

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
)

const testNow = 1_700_000_000_000

func testOpts() ValidateOptions {
	return ValidateOptions{Partition: "t-0", Now: testNow, BeforeMaxMs: 1<<63 - 1, AfterMaxMs: 3600_000, MaxDecompressed: 1 << 20}
}

// sectionBatch wraps an uncompressed records section, compressed with
// codec, in a batch header claiming n records (and n-1 as last offset
// delta), with a correct length and CRC.
func sectionBatch(t *testing.T, codec Codec, section []byte, n int32, base int64) []byte {
	t.Helper()
	h := Header{Magic: 2, PartitionLeaderEpoch: -1, Attributes: int16(codec), LastOffsetDelta: n - 1,
		BaseTimestamp: base, MaxTimestamp: base, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: n}
	b, err := Compress(codec, appendHeader(nil, &h), section)
	if err != nil {
		t.Fatal(err)
	}
	finish(b)
	return b
}

func validate(t *testing.T, b []byte, o ValidateOptions) (RecordsInfo, error) {
	t.Helper()
	h, err := Validate(b)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return ValidateRecords(&h, b, o)
}

func TestValidateRecordsGood(t *testing.T) {
	recs := testRecords() // includes a 120 KB value: larger than the window
	for i := range recs {
		recs[i].Key = []byte{byte(i)}
	}
	o := testOpts()
	o.Compacted = true
	o.AfterMaxMs = 1 << 41
	for _, codec := range allCodecs {
		for name, b := range map[string][]byte{
			"build": mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow}),
			"kmsg":  kmsgBatch(t, codec, recs),
		} {
			info, err := validate(t, b, o)
			if err != nil {
				t.Fatalf("%s %s: %v", codec, name, err)
			}
			h, _ := ParseHeader(b)
			if want := h.BaseTimestamp + 1<<40; info.MaxTimestamp != want {
				t.Fatalf("%s %s: max timestamp %d, want %d", codec, name, info.MaxTimestamp, want)
			}
		}
	}
	// librdkafka sends one raw snappy block.
	section := AppendRecords(nil, withOffsets(recs))
	b := sectionBatch(t, CodecNone, section, int32(len(recs)), testNow)
	b = append(b[:HeaderSize], s2.EncodeSnappy(nil, section)...)
	b[posAttributes+1] = byte(CodecSnappy)
	finish(b)
	if _, err := validate(t, b, o); err != nil {
		t.Fatalf("raw snappy: %v", err)
	}
}

func TestValidateRecordsGarbage(t *testing.T) {
	garbage := bytes.Repeat([]byte("this is not compressed "), 20)
	for _, codec := range allCodecs[1:] {
		b := sectionBatch(t, CodecNone, garbage, 1, testNow)
		b[posAttributes+1] = byte(codec)
		finish(b)
		if _, err := validate(t, b, testOpts()); !errors.Is(err, ErrDecompress) {
			t.Errorf("%s garbage: %v, want ErrDecompress", codec, err)
		}
		// A valid stream cut short fails too (checksums and trailers
		// are read).
		good := mustBuild(t, codec, testRecords()[:3], BuildOptions{BaseTimestamp: testNow})
		cut := append([]byte(nil), good[:len(good)-3]...)
		finish(cut)
		if _, err := validate(t, cut, testOpts()); err == nil {
			t.Errorf("%s truncated stream accepted", codec)
		}
	}
}

// TestValidateRecordsChecksum: the codecs' trailing checksums are read
// after the last record, so a corrupt one is caught.
func TestValidateRecordsChecksum(t *testing.T) {
	for _, codec := range []Codec{CodecGzip, CodecLZ4, CodecZstd} {
		b := mustBuild(t, codec, testRecords()[:3], BuildOptions{BaseTimestamp: testNow})
		b[len(b)-2] ^= 0x10
		finish(b)
		if _, err := validate(t, b, testOpts()); !errors.Is(err, ErrDecompress) {
			t.Errorf("%s: corrupt checksum: %v", codec, err)
		}
	}
}

func TestValidateRecordsCount(t *testing.T) {
	section := AppendRecords(nil, withOffsets(testRecords()[:3]))
	for _, codec := range []Codec{CodecNone, CodecZstd, CodecGzip} {
		_, err := validate(t, sectionBatch(t, codec, section, 4, testNow), testOpts())
		if !errors.Is(err, ErrRecord) || !strings.Contains(err.Error(), "premature EOF") {
			t.Errorf("%s: more records claimed than present: %v", codec, err)
		}
		_, err = validate(t, sectionBatch(t, codec, section, 2, testNow), testOpts())
		if !errors.Is(err, ErrRecord) || !strings.Contains(err.Error(), "still remaining") {
			t.Errorf("%s: fewer records claimed than present: %v", codec, err)
		}
	}
}

func TestValidateRecordsOffsetDeltas(t *testing.T) {
	recs := withOffsets(testRecords()[:3])
	recs[1].OffsetDelta, recs[2].OffsetDelta = 2, 1
	for _, codec := range []Codec{CodecNone, CodecLZ4} {
		_, err := validate(t, sectionBatch(t, codec, AppendRecords(nil, recs), 3, testNow), testOpts())
		var re *RecordErrors
		if !errors.As(err, &re) || re.Timestamp || re.Total != 2 || re.Errs[0].Index != 1 || !strings.Contains(re.Errs[0].Msg, "offset delta 2") {
			t.Fatalf("%s: %v", codec, err)
		}
	}
}

func TestValidateRecordsCompactedKey(t *testing.T) {
	o := testOpts()
	o.Compacted = true
	for _, codec := range allCodecs {
		b := mustBuild(t, codec, testRecords()[:3], BuildOptions{BaseTimestamp: testNow})
		_, err := validate(t, b, o)
		var re *RecordErrors
		if !errors.As(err, &re) || re.Timestamp || len(re.Errs) != 1 || re.Errs[0].Index != 1 ||
			re.Errs[0].Msg != "Compacted topic cannot accept message without key in topic partition t-0" {
			t.Fatalf("%s: %v", codec, err)
		}
		if want := "One or more records have been rejected due to 1 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='Compacted topic cannot accept message without key in topic partition t-0')]"; err.Error() != want {
			t.Fatalf("summary %q", err)
		}
		// An empty key is a key.
		if _, err := validate(t, mustBuild(t, codec, testRecords()[2:3], BuildOptions{BaseTimestamp: testNow}), o); err != nil {
			t.Fatalf("%s: empty key: %v", codec, err)
		}
	}
}

func TestValidateRecordsTimestamps(t *testing.T) {
	o := testOpts()
	o.BeforeMaxMs, o.AfterMaxMs = 1000, 2000
	recs := []Record{{Value: []byte("a")}, {TimestampDelta: -1001, Value: []byte("old")}, {TimestampDelta: 2001, Value: []byte("new")}, {TimestampDelta: 2000}}
	_, err := validate(t, mustBuild(t, CodecGzip, recs, BuildOptions{BaseTimestamp: testNow}), o)
	var re *RecordErrors
	if !errors.As(err, &re) || !re.Timestamp || re.Total != 2 || re.Errs[0].Index != 1 || re.Errs[1].Index != 2 {
		t.Fatalf("out of range: %v", err)
	}
	if want := "Timestamp 1699999998999 of message with offset 1 is out of range. The timestamp should be within [1699999999000, 1700000002000]"; re.Errs[0].Msg != want {
		t.Fatalf("message %q", re.Errs[0].Msg)
	}
	// -1 is "no timestamp" and never out of range.
	if _, err := validate(t, mustBuild(t, CodecNone, []Record{{}}, BuildOptions{BaseTimestamp: -1}), o); err != nil {
		t.Fatalf("no timestamp: %v", err)
	}
	// LogAppendTime topics check no range, but producers may not claim
	// LogAppendTime themselves.
	o.LogAppendTime = true
	if _, err := validate(t, mustBuild(t, CodecNone, recs, BuildOptions{BaseTimestamp: testNow}), o); err != nil {
		t.Fatalf("log append time topic: %v", err)
	}
	_, err = validate(t, mustBuild(t, CodecNone, recs, BuildOptions{BaseTimestamp: testNow, LogAppendTime: true}), o)
	if !errors.As(err, &re) || !re.Timestamp || re.Total != len(recs) || !strings.Contains(re.Errs[0].Msg, "Producer should not set timestamp type to LogAppendTime") {
		t.Fatalf("producer LogAppendTime: %v", err)
	}
}

func TestValidateRecordsSizeCap(t *testing.T) {
	zeros := make([]byte, 3<<20)
	recs := []Record{{Key: []byte("k"), Value: zeros}}
	o := testOpts()
	for _, codec := range allCodecs {
		b := mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow})
		if _, err := validate(t, b, o); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", codec, err)
		}
		// With room, the 3 MiB record streams through the 64 KiB window.
		o2 := o
		o2.MaxDecompressed = 4 << 20
		if _, err := validate(t, b, o2); err != nil {
			t.Errorf("%s: %v", codec, err)
		}
	}
}

func TestValidateRecordsMalformed(t *testing.T) {
	one := AppendRecords(nil, withOffsets(testRecords()[:1]))
	big := AppendRecords(nil, withOffsets(testRecords()[3:4])) // 120 KB: the field-by-field path
	cases := map[string][]byte{
		"length past the end":     append([]byte{0x7e}, one[1:]...),
		"negative length":         append([]byte{0x01}, one[1:]...),
		"key length past the end": {0x08, 0, 0, 0, 0x7e, 0},
		"header count":            {0x0c, 0, 0, 0, 1, 1, 0x10},
		"bytes left inside":       {0x0e, 0, 0, 0, 1, 1, 0, 0},
		"empty":                   {},
		"big truncated":           big[:len(big)-1],
		"big bad header count":    append(append([]byte(nil), big[:len(big)-10]...), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f),
	}
	for name, section := range cases {
		for _, codec := range []Codec{CodecNone, CodecZstd} {
			_, err := validate(t, sectionBatch(t, codec, section, 1, testNow), testOpts())
			if !errors.Is(err, ErrRecord) {
				t.Errorf("%s %s: %v, want ErrRecord", name, codec, err)
			}
		}
	}
}

func TestCheckProduced(t *testing.T) {
	good := mustBuild(t, CodecNone, testRecords()[:2], BuildOptions{ProducerID: 3, Idempotent: true})
	h, _ := ParseHeader(good)
	if err := CheckProduced(&h, "t-0"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(h *Header){
		"base offset":      func(h *Header) { h.BaseOffset = 5 },
		"offset range":     func(h *Header) { h.LastOffsetDelta = -1 },
		"count":            func(h *Header) { h.NumRecords = 0 },
		"inconsistent":     func(h *Header) { h.NumRecords = 3 },
		"control":          func(h *Header) { h.Attributes |= ControlBit },
		"no sequence":      func(h *Header) { h.BaseSequence = -1 },
		"transactional -1": func(h *Header) { h.Attributes |= TransactionalBit; h.ProducerID = -1 },
	}
	for name, mod := range cases {
		bad := h
		mod(&bad)
		if err := CheckProduced(&bad, "t-0"); !errors.Is(err, ErrProducerHeader) || !strings.Contains(err.Error(), "t-0") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidateRecordsAllocations: an uncompressed batch is walked without
// allocating; a compressed one reuses pooled readers and windows.
func TestValidateRecordsAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector (make test runs this without it)")
	}
	recs := testRecords()
	for i := range recs {
		recs[i].TimestampDelta = int64(i)
	}
	for _, codec := range allCodecs {
		b := mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow})
		h, _ := Validate(b)
		o := testOpts()
		ValidateRecords(&h, b, o) // warm the pools
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := ValidateRecords(&h, b, o); err != nil {
				t.Fatal(err)
			}
		})
		if codec == CodecNone && allocs > 0 {
			t.Errorf("%s: %.1f allocations", codec, allocs)
		} else if allocs > 2 {
			t.Errorf("%s: %.1f allocations per batch", codec, allocs)
		}
	}
}

// TestValidateRecordsManyErrors: every invalid record is counted, the first
// maxRecordErrors are kept.
func TestValidateRecordsManyErrors(t *testing.T) {
	recs := make([]Record, 5000)
	o := testOpts()
	o.Compacted = true
	_, err := validate(t, mustBuild(t, CodecLZ4, recs, BuildOptions{BaseTimestamp: testNow}), o)
	var re *RecordErrors
	if !errors.As(err, &re) || re.Total != 5000 || len(re.Errs) != maxRecordErrors || re.Errs[maxRecordErrors-1].Index != maxRecordErrors-1 {
		t.Fatalf("%v", err)
	}
	if !strings.HasPrefix(err.Error(), "One or more records have been rejected due to 5000 record errors in total") {
		t.Fatalf("summary %q", err)
	}
}

// TestValidateRecordsWindowBoundaries: records of every size straddle the
// 64 KiB window boundaries of a compressed section, some larger than the
// window.
func TestValidateRecordsWindowBoundaries(t *testing.T) {
	var recs []Record
	for i := 0; i < 400; i++ {
		size := (i * 7919) % 3000
		if i%97 == 0 {
			size = windowSize + i
		}
		recs = append(recs, Record{Key: []byte{byte(i)}, Value: bytes.Repeat([]byte{byte(i)}, size), TimestampDelta: int64(i),
			Headers: []RecordHeader{{Key: "h", Value: bytes.Repeat([]byte("x"), i%50)}}})
	}
	o := testOpts()
	o.Compacted = true
	o.MaxDecompressed = 4 << 20
	for _, codec := range allCodecs {
		info, err := validate(t, mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow}), o)
		if err != nil || info.MaxTimestamp != testNow+399 {
			t.Fatalf("%s: %v (max timestamp %d)", codec, err, info.MaxTimestamp)
		}
	}
}
