package batch

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// checkedRecords are records of every size, some larger than the window,
// with headers, for ValidateOptions.Check.
func checkedRecords() []Record {
	var recs []Record
	for i := 0; i < 300; i++ {
		size := (i * 7919) % 3000
		if i%97 == 0 {
			size = windowSize + 3*i
		}
		recs = append(recs, Record{Key: fmt.Appendf(nil, "k%d", i), Value: bytes.Repeat([]byte{byte(i)}, size), TimestampDelta: int64(i),
			Headers: []RecordHeader{{Key: "n", Value: fmt.Appendf(nil, "%d", i)}, {Key: "null", Value: nil}}})
	}
	recs[5].Key, recs[6].Value, recs[7].Headers = nil, nil, nil
	return recs
}

// Check sees every record, decoded as it was built, with every codec,
// including records larger than the window.
func TestValidateRecordsCheck(t *testing.T) {
	recs := checkedRecords()
	o := testOpts()
	o.MaxDecompressed = 4 << 20
	for _, codec := range allCodecs {
		var seen int
		o.Check = func(i int, r *Record) error {
			w := recs[i]
			if i != seen || r.OffsetDelta != int32(i) || !bytes.Equal(r.Key, w.Key) || (r.Key == nil) != (w.Key == nil) ||
				!bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) ||
				!slices.EqualFunc(r.Headers, w.Headers, func(a, b RecordHeader) bool {
					return a.Key == b.Key && bytes.Equal(a.Value, b.Value) && (a.Value == nil) == (b.Value == nil)
				}) {
				t.Fatalf("%s: record %d (call %d) decoded as key %q, %d value bytes, headers %v", codec, i, seen, r.Key, len(r.Value), r.Headers)
			}
			seen++
			return nil
		}
		if _, err := validate(t, mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow}), o); err != nil || seen != len(recs) {
			t.Fatalf("%s: %v after %d records", codec, err, seen)
		}
	}
}

// The first refusal is reported with its index; Check is not called again,
// but the rest of the batch is still validated.
func TestValidateRecordsCheckRefuses(t *testing.T) {
	recs := checkedRecords()
	o := testOpts()
	o.MaxDecompressed = 4 << 20
	reason := errors.New("no schema")
	for _, codec := range allCodecs {
		calls := 0
		o.Check = func(i int, r *Record) error {
			calls++
			if i >= 194 { // a record larger than the window
				return fmt.Errorf("value: %w", reason)
			}
			return nil
		}
		b := mustBuild(t, codec, recs, BuildOptions{BaseTimestamp: testNow})
		_, err := validate(t, b, o)
		var ce *RecordCheckError
		if !errors.As(err, &ce) || ce.Index != 194 || !errors.Is(err, reason) || calls != 195 {
			t.Fatalf("%s: %v after %d calls", codec, err, calls)
		}
		if err.Error() != "record 194 of the batch: value: no schema" {
			t.Fatalf("%s: message %q", codec, err)
		}
		// Kafka's own per-record errors come first.
		oc := o
		oc.Compacted = true // record 5 has no key
		if _, err := validate(t, b, oc); !errors.As(err, new(*RecordErrors)) {
			t.Fatalf("%s compacted: %v", codec, err)
		}
	}
	// A structural error comes first too.
	b := mustBuild(t, CodecZstd, recs, BuildOptions{BaseTimestamp: testNow})
	o.MaxDecompressed = 256 << 10
	if _, err := validate(t, b, o); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
}

// A record larger than the window is copied out within the cap, and a
// truncated one is a record error.
func TestValidateRecordsCheckTruncatedLarge(t *testing.T) {
	recs := []Record{{Value: bytes.Repeat([]byte("v"), 3*windowSize)}}
	section := AppendRecords(nil, withOffsets(recs))
	for _, codec := range allCodecs[1:] {
		b := sectionBatch(t, codec, section[:len(section)-10], 1, testNow)
		o := testOpts()
		o.Check = func(int, *Record) error { return nil }
		if _, err := validate(t, b, o); !errors.Is(err, ErrRecord) {
			t.Fatalf("%s: %v", codec, err)
		}
	}
}

// Without Check nothing more is allocated; with it, what is allocated does
// not grow with the number of records.
func TestValidateRecordsCheckAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	recs := make([]Record, 1000)
	for i := range recs {
		recs[i] = Record{Key: []byte("k"), Value: []byte("v"), Headers: []RecordHeader{{Key: "h", Value: []byte("x")}}}
	}
	b := mustBuild(t, CodecNone, recs, BuildOptions{BaseTimestamp: testNow})
	h, _ := Validate(b)
	o := testOpts()
	o.Check = func(int, *Record) error { return nil }
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := ValidateRecords(&h, b, o); err != nil {
			t.Fatal(err)
		}
	})
	// The reused Record and its header slice, and the header keys
	// (one string per record).
	if allocs > 1002 {
		t.Fatalf("%.0f allocations for %d records", allocs, len(recs))
	}
}
