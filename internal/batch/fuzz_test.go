package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzRecords feeds arbitrary bytes to every decoder that takes a whole
// batch: none may panic, and whatever Records accepts must re-encode to the
// same records section when uncompressed.
func FuzzRecords(f *testing.F) {
	for _, codec := range allCodecs {
		f.Add(mustBuild(f, codec, testRecords()[:3], BuildOptions{}))
	}
	f.Add(BuildControlBatch(1, 2, true, 3, 4))
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := Records(b, 1<<20)
		if err == nil && Codec(b[posAttributes+1]&CompressionMask) == CodecNone {
			if enc := AppendRecords(nil, recs); !bytes.Equal(enc, b[HeaderSize:]) && canonical(b[HeaderSize:]) {
				t.Fatalf("re-encoding differs")
			}
		}
		Recompress(b, CodecSnappy, 1<<20)
		ControlType(b)
	})
}

// canonical reports whether data uses minimal varints, the only encoding
// AppendRecords produces; a decoder accepts padded varints too.
func canonical(data []byte) bool {
	var r Record
	for len(data) > 0 {
		rest, err := decodeRecord(data, &r, true)
		if err != nil {
			return false
		}
		if !bytes.Equal(AppendRecord(nil, &r), data[:len(data)-len(rest)]) {
			return false
		}
		data = rest
	}
	return true
}

func fuzzDecompress(f *testing.F, codec Codec) {
	for _, p := range testPayloads()[:5] {
		c, err := Compress(codec, nil, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, src []byte) {
		const limit = 1 << 20
		out, err := Decompress(codec, src, limit)
		if err != nil {
			if !errors.Is(err, ErrDecompress) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("%d bytes past the limit", len(out))
		}
		// What decodes must survive our own round trip.
		c, err := Compress(codec, nil, out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decompress(codec, c, limit)
		if err != nil || !bytes.Equal(back, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecompressGzip(f *testing.F)   { fuzzDecompress(f, CodecGzip) }
func FuzzDecompressSnappy(f *testing.F) { fuzzDecompress(f, CodecSnappy) }
func FuzzDecompressLZ4(f *testing.F)    { fuzzDecompress(f, CodecLZ4) }
func FuzzDecompressZstd(f *testing.F)   { fuzzDecompress(f, CodecZstd) }

// FuzzValidate checks that Validate never panics and that whatever it
// accepts has a self-consistent header.
func FuzzValidate(f *testing.F) {
	for _, codec := range allCodecs {
		f.Add(mustBuild(f, codec, testRecords()[:2], BuildOptions{ProducerID: 4, BaseSequence: 1}))
	}
	f.Add(BuildControlBatch(1, 2, false, 3, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Validate(b)
		if err != nil {
			return
		}
		if h.Size() != int64(len(b)) || h.Magic != 2 || h.NumRecords < 1 || h.LastOffset() < h.BaseOffset || CheckCRC(b) != nil {
			t.Fatalf("accepted inconsistent batch: %+v", h)
		}
	})
}

// FuzzValidateRecords feeds arbitrary batches to the streaming validator:
// it never panics, fails only with its documented errors, and agrees with
// Records, the decoder that decompresses whole: what it accepts Records
// decodes to the same number of records, and (for every codec but snappy,
// whose raw blocks it bounds more tightly) what Records decodes with
// consecutive offset deltas it accepts.
func FuzzValidateRecords(f *testing.F) {
	for _, codec := range allCodecs {
		f.Add(mustBuild(f, codec, testRecords()[:3], BuildOptions{}), false)
		f.Add(mustBuild(f, codec, testRecords()[3:4], BuildOptions{}), true)
	}
	f.Add(make([]byte, HeaderSize), false)
	// No records and an empty raw snappy block, which does not decode: the
	// end of the section is read, and its error kept, even then.
	emptySnappy := make([]byte, HeaderSize)
	emptySnappy[posAttributes+1] = byte(CodecSnappy)
	f.Add(emptySnappy, false)
	f.Fuzz(func(t *testing.T, b []byte, compacted bool) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		b = append([]byte(nil), b...)
		binary.BigEndian.PutUint32(b[posLength:], uint32(len(b)-LogOverhead))
		h.Length = int32(len(b) - LogOverhead)
		b[posMagic], h.Magic = 2, 2 // Validate's job, as is the CRC
		const limit = 1 << 20
		o := ValidateOptions{Partition: "f-0", Compacted: compacted, Now: 0, BeforeMaxMs: math.MaxInt64, AfterMaxMs: math.MaxInt64, MaxDecompressed: limit}
		_, verr := ValidateRecords(&h, b, o)
		var re *RecordErrors
		switch {
		case verr == nil, errors.As(verr, &re):
		case errors.Is(verr, ErrRecord), errors.Is(verr, ErrDecompress), errors.Is(verr, ErrTooLarge), errors.Is(verr, ErrCodec):
		default:
			t.Fatalf("unexpected error class: %v", verr)
		}
		recs, rerr := Records(b, limit)
		if verr == nil || re != nil {
			if rerr != nil || len(recs) != int(h.NumRecords) {
				t.Fatalf("validator accepted what Records refuses: %v", rerr)
			}
		}
		if rerr == nil && h.Codec() != CodecSnappy && !compacted {
			for i := range recs {
				if recs[i].OffsetDelta != int32(i) {
					return
				}
			}
			if verr != nil {
				t.Fatalf("Records decodes what the validator refuses: %v", verr)
			}
		}
	})
}

// FuzzValidateSection compresses an arbitrary records section with each
// codec and validates it twice: through the pooled 64 KiB window and
// through a 16-byte one, which sends nearly every record down the
// field-by-field path and every field across window refills. Both must
// agree with each other and with Records.
func FuzzValidateSection(f *testing.F) {
	recs := withOffsets(testRecords()[:3])
	recs[2].Value = bytes.Repeat([]byte("v"), 100)
	f.Add(AppendRecords(nil, recs), uint8(0), uint16(3))
	f.Add(AppendRecords(nil, recs[:1]), uint8(4), uint16(1))
	f.Add([]byte{}, uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, section []byte, codecN uint8, n uint16) {
		codec := Codec(codecN % 5)
		h := Header{Magic: 2, Attributes: int16(codec), LastOffsetDelta: int32(n) - 1, BaseTimestamp: 0, MaxTimestamp: 0,
			ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(n)}
		b, err := Compress(codec, appendHeader(nil, &h), section)
		if err != nil {
			t.Fatal(err)
		}
		finish(b)
		o := ValidateOptions{Partition: "f-0", BeforeMaxMs: math.MaxInt64, AfterMaxMs: math.MaxInt64, MaxDecompressed: 1 << 20}
		_, errBig := ValidateRecords(&h, b, o)
		small := &recordStream{window: make([]byte, 16)}
		_, errSmall := small.validate(&h, b, &o)
		if (errBig == nil) != (errSmall == nil) || errors.Is(errBig, ErrRecord) != errors.Is(errSmall, ErrRecord) {
			t.Fatalf("window sizes disagree: %v / %v", errBig, errSmall)
		}
		got, rerr := Records(b, 1<<20)
		if (errBig == nil) != (rerr == nil && consecutive(got)) {
			t.Fatalf("validator %v, Records %v", errBig, rerr)
		}
	})
}

func consecutive(recs []Record) bool {
	for i := range recs {
		if recs[i].OffsetDelta != int32(i) {
			return false
		}
	}
	return true
}
