package wire

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

func TestAppendHeader(t *testing.T) {
	for _, tc := range []struct {
		id   int32
		want []byte
	}{
		{1, []byte{0, 0, 0, 0, 1}},
		{17, []byte{0, 0, 0, 0, 17}},
		{0x01020304, []byte{0, 1, 2, 3, 4}},
		{math.MaxInt32, []byte{0, 0x7f, 0xff, 0xff, 0xff}},
		{-1, []byte{0, 0xff, 0xff, 0xff, 0xff}},
	} {
		got := AppendHeader([]byte("x"), tc.id)
		if !bytes.Equal(got, append([]byte("x"), tc.want...)) {
			t.Errorf("AppendHeader(%d) = % x, want x + % x", tc.id, got, tc.want)
		}
		id, rest, err := ParseHeader(append(got[1:], "payload"...))
		if err != nil || id != tc.id || string(rest) != "payload" {
			t.Errorf("ParseHeader(AppendHeader(%d)) = %d, %q, %v", tc.id, id, rest, err)
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	guid := append([]byte{1}, bytes.Repeat([]byte{0xab}, 16)...)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"magic only", []byte{0}, ErrShort},
		{"four bytes", []byte{0, 0, 0, 1}, ErrShort},
		{"avro without registry", []byte{2, 0, 0, 0, 1}, ErrNoMagic},
		{"json text", []byte(`{"a":1}`), ErrNoMagic},
		{"guid", guid, ErrGUIDHeader},
		{"short guid", guid[:16], ErrShort},
	} {
		_, rest, err := ParseHeader(tc.in)
		if !errors.Is(err, tc.want) || rest != nil {
			t.Errorf("%s: ParseHeader(% x) = %q, %v; want %v", tc.name, tc.in, rest, err, tc.want)
		}
	}
}

func TestParseGUIDHeader(t *testing.T) {
	g, err := ParseGUID("0F1E2D3C-4b5a-6978-8796-a5b4c3d2e1f0")
	if err != nil {
		t.Fatal(err)
	}
	want := GUID{0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0}
	if g != want {
		t.Fatalf("ParseGUID = %x, want %x", g, want)
	}
	if s := g.String(); s != "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" {
		t.Fatalf("String = %s", s)
	}
	b := GUIDHeader(g).AppendTo(nil)
	if len(b) != GUIDHeaderSize || b[0] != MagicGUID || !bytes.Equal(b[1:], g[:]) {
		t.Fatalf("AppendTo = % x", b)
	}
	h, rest, err := Parse(append(b, 0, 'm'))
	if err != nil || !h.IsGUID() || h.GUID != g || h.ID != 0 || !bytes.Equal(rest, []byte{0, 'm'}) {
		t.Fatalf("Parse = %+v, % x, %v", h, rest, err)
	}
	if h.String() != "guid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" || IDHeader(7).String() != "id 7" {
		t.Fatalf("String: %s, %s", h, IDHeader(7))
	}
	for _, bad := range []string{"", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fz", "0f1e2d3c-4b5a-6978-8796_a5b4c3d2e1f0"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded", bad)
		}
	}
}

func TestProtoIndexes(t *testing.T) {
	for _, tc := range []struct {
		idx  []int
		want []byte
		back []int // what parsing gives back, when not idx
	}{
		{[]int{0}, []byte{0}, nil},
		{nil, []byte{0}, []int{0}},
		{[]int{1}, []byte{2, 2}, nil},
		{[]int{0, 0}, []byte{4, 0, 0}, nil},
		{[]int{2, 1, 0}, []byte{6, 4, 2, 0}, nil},
		{[]int{64}, []byte{2, 0x80, 1}, nil},
		{[]int{math.MaxInt32}, []byte{2, 0xfe, 0xff, 0xff, 0xff, 0x0f}, nil},
	} {
		got := AppendProtoIndexes(nil, tc.idx)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("AppendProtoIndexes(%v) = % x, want % x", tc.idx, got, tc.want)
		}
		back := tc.back
		if back == nil {
			back = tc.idx
		}
		idx, rest, err := ParseProtoIndexes(append(got, "msg"...))
		if err != nil || !slices.Equal(idx, back) || string(rest) != "msg" {
			t.Errorf("ParseProtoIndexes(% x) = %v, %q, %v; want %v", got, idx, rest, err, back)
		}
	}
}

func TestParseProtoIndexesErrors(t *testing.T) {
	many := AppendProtoIndexes(nil, make([]int, MaxProtoIndexes+1))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unterminated count", []byte{0x80}},
		{"overflowing count", bytes.Repeat([]byte{0xff}, 11)},
		{"negative count", []byte{1}},
		{"count beyond bytes", []byte{6, 2, 2}},
		{"huge count", []byte{0xfe, 0xff, 0xff, 0xff, 0x0f}},
		{"too many", many},
		{"negative index", []byte{2, 1}},
		{"index beyond int32", []byte{2, 0x80, 0x80, 0x80, 0x80, 0x10}},
		{"unterminated index", []byte{4, 2, 0x80}},
	} {
		idx, rest, err := ParseProtoIndexes(tc.in)
		if !errors.Is(err, ErrIndexes) || idx != nil || rest != nil {
			t.Errorf("%s: ParseProtoIndexes(% x) = %v, %q, %v", tc.name, tc.in, idx, rest, err)
		}
	}
}

// franz-go's sr package is an independent implementation of the format:
// both must write the same bytes.
func TestMatchesFranzGoSR(t *testing.T) {
	var ch sr.ConfluentHeader
	for _, tc := range []struct {
		id  int32
		idx []int
	}{
		{1, []int{0}},
		{42, []int{1}},
		{100000, []int{0, 0}},
		{7, []int{3, 1, 4, 1, 5, 9, 2, 6}},
		{1 << 24, []int{200, 70000}},
		{math.MaxInt32, []int{math.MaxInt32, 0, 63}},
		{5, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63}},
	} {
		want, err := ch.AppendEncode(nil, int(tc.id), tc.idx)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendProtoIndexes(AppendHeader(nil, tc.id), tc.idx)
		if !bytes.Equal(got, want) {
			t.Errorf("id %d indexes %v: wire % x, sr % x", tc.id, tc.idx, got, want)
		}
		// And each reads the other's.
		id, rest, err := ch.DecodeID(got)
		if err != nil || int32(id) != tc.id {
			t.Errorf("sr.DecodeID = %d, %v", id, err)
		}
		if idx, _, err := ch.DecodeIndex(rest, 0); err != nil || !slices.Equal(idx, tc.idx) {
			t.Errorf("sr.DecodeIndex = %v, %v; want %v", idx, err, tc.idx)
		}
		wid, wrest, err := ParseHeader(want)
		if err != nil || wid != tc.id {
			t.Errorf("ParseHeader(sr) = %d, %v", wid, err)
		}
		if idx, rest, err := ParseProtoIndexes(wrest); err != nil || !slices.Equal(idx, tc.idx) || len(rest) != 0 {
			t.Errorf("ParseProtoIndexes(sr) = %v, % x, %v; want %v", idx, rest, err, tc.idx)
		}
	}
	// Without indexes (Avro, JSON Schema) sr writes the bare prefix.
	want, _ := ch.AppendEncode(nil, 17, nil)
	if got := AppendHeader(nil, 17); !bytes.Equal(got, want) {
		t.Errorf("bare header: wire % x, sr % x", got, want)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 'a'})
	f.Add([]byte{1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rest, err := Parse(b)
		id, rest2, err2 := ParseHeader(b)
		if err != nil {
			if err2 == nil {
				t.Fatalf("Parse failed (%v) but ParseHeader did not", err)
			}
			return
		}
		// The header forms are fixed-width: re-encoding gives b back.
		if got := append(h.AppendTo(nil), rest...); !bytes.Equal(got, b) {
			t.Fatalf("round trip: % x became % x", b, got)
		}
		if h.Len()+len(rest) != len(b) {
			t.Fatalf("Len %d + rest %d != %d", h.Len(), len(rest), len(b))
		}
		switch {
		case h.IsGUID() && !errors.Is(err2, ErrGUIDHeader):
			t.Fatalf("ParseHeader of a GUID header: %v", err2)
		case !h.IsGUID() && (err2 != nil || id != h.ID || !bytes.Equal(rest2, rest)):
			t.Fatalf("ParseHeader = %d, %v; Parse = %+v", id, err2, h)
		}
	})
}

func FuzzParseProtoIndexes(f *testing.F) {
	f.Add([]byte{0, 'm'})
	f.Add([]byte{6, 4, 2, 0})
	f.Add([]byte{2, 0xfe, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, rest, err := ParseProtoIndexes(b)
		if err == nil {
			// Re-encoding is canonical (no longer than what was read)
			// and reads back the same indexes.
			enc := AppendProtoIndexes(nil, idx)
			if len(enc) > len(b)-len(rest) {
				t.Fatalf("% x re-encoded longer: % x", b, enc)
			}
			back, r2, err := ParseProtoIndexes(append(enc, rest...))
			if err != nil || !slices.Equal(back, idx) || !bytes.Equal(r2, rest) {
				t.Fatalf("round trip of %v: %v, %v", idx, back, err)
			}
		}
		// Any index list made from b round-trips.
		in := make([]int, 0, min(len(b), MaxProtoIndexes))
		for _, c := range b[:min(len(b), MaxProtoIndexes)] {
			in = append(in, int(c)*int(c)*1000)
		}
		back, r2, err := ParseProtoIndexes(append(AppendProtoIndexes(nil, in), 'x'))
		if len(in) == 0 {
			in = []int{0}
		}
		if err != nil || !slices.Equal(back, in) || string(r2) != "x" {
			t.Fatalf("round trip of %v: %v, %q, %v", in, back, r2, err)
		}
	})
}
