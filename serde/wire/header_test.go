package wire

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

var testGUID = GUID{0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0}

func TestFromRecordHeader(t *testing.T) {
	guidValue := GUIDHeader(testGUID).AppendTo(nil)
	protoValue := AppendProtoIndexes(GUIDHeader(testGUID).AppendTo(nil), []int{1, 2})
	for _, tc := range []struct {
		name    string
		headers []RecordHeader
		key     bool
		want    Header
		rest    []byte
		err     error
	}{
		{"none", nil, false, Header{}, nil, ErrNoSchemaHeader},
		{"other header", []RecordHeader{{"trace", guidValue}}, false, Header{}, nil, ErrNoSchemaHeader},
		{"value guid", []RecordHeader{{"trace", nil}, {ValueSchemaIDHeader, guidValue}}, false, GUIDHeader(testGUID), []byte{}, nil},
		{"value guid asked for key", []RecordHeader{{ValueSchemaIDHeader, guidValue}}, true, Header{}, nil, ErrNoSchemaHeader},
		{"key id", []RecordHeader{{KeySchemaIDHeader, AppendHeader(nil, 9)}}, true, IDHeader(9), []byte{}, nil},
		{"proto indexes", []RecordHeader{{ValueSchemaIDHeader, protoValue}}, false, GUIDHeader(testGUID), []byte{4, 2, 4}, nil},
		{"empty value skipped", []RecordHeader{{ValueSchemaIDHeader, []byte{}}}, false, Header{}, nil, ErrNoSchemaHeader},
		{"first readable wins", []RecordHeader{{ValueSchemaIDHeader, []byte{7}}, {ValueSchemaIDHeader, AppendHeader(nil, 3)}, {ValueSchemaIDHeader, AppendHeader(nil, 4)}}, false, IDHeader(3), []byte{}, nil},
		{"unreadable", []RecordHeader{{ValueSchemaIDHeader, []byte{1, 2}}, {ValueSchemaIDHeader, []byte{9}}}, false, Header{}, nil, ErrShort},
	} {
		h, rest, err := FromRecordHeader(tc.headers, tc.key)
		if !errors.Is(err, tc.err) || h != tc.want || !bytes.Equal(rest, tc.rest) {
			t.Errorf("%s: FromRecordHeader = %+v, % x, %v; want %+v, % x, %v", tc.name, h, rest, err, tc.want, tc.rest, tc.err)
		}
	}
}

func TestSplit(t *testing.T) {
	avro := []byte{0x02, 'h', 'i'}
	// Prefix framing.
	f, err := Split(append(AppendHeader(nil, 17), avro...), nil, false)
	if err != nil || f.InRecordHeader || f.Header != IDHeader(17) || !bytes.Equal(f.Payload, avro) {
		t.Fatalf("prefix: %+v, %v", f, err)
	}
	// Header framing: the payload is the whole value.
	hs := []RecordHeader{{ValueSchemaIDHeader, GUIDHeader(testGUID).AppendTo(nil)}}
	f, err = Split(avro, hs, false)
	if err != nil || !f.InRecordHeader || f.Header != GUIDHeader(testGUID) || !bytes.Equal(f.Payload, avro) {
		t.Fatalf("header: %+v, %v", f, err)
	}
	// The key's header does not frame the value.
	if _, err := Split(avro, hs, true); !errors.Is(err, ErrNoMagic) {
		t.Fatalf("key with only a value header: %v", err)
	}
	// An unreadable header falls back to the prefix.
	bad := []RecordHeader{{ValueSchemaIDHeader, []byte{1, 2, 3}}}
	f, err = Split(append(AppendHeader(nil, 5), avro...), bad, false)
	if err != nil || f.InRecordHeader || f.Header != IDHeader(5) {
		t.Fatalf("fallback: %+v, %v", f, err)
	}
	if _, err := Split(nil, nil, false); !errors.Is(err, ErrShort) {
		t.Fatalf("empty: %v", err)
	}
}

func TestFramedProtoIndexes(t *testing.T) {
	msg := []byte{0x08, 0x96, 0x01}
	prefixed := append(AppendProtoIndexes(AppendHeader(nil, 4), []int{1, 0}), msg...)
	f, err := Split(prefixed, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	idx, m, err := f.ProtoIndexes()
	if err != nil || !slices.Equal(idx, []int{1, 0}) || !bytes.Equal(m, msg) {
		t.Fatalf("prefix: %v, % x, %v", idx, m, err)
	}
	hs := []RecordHeader{{KeySchemaIDHeader, AppendProtoIndexes(GUIDHeader(testGUID).AppendTo(nil), []int{0})}}
	if f, err = Split(msg, hs, true); err != nil {
		t.Fatal(err)
	}
	idx, m, err = f.ProtoIndexes()
	if err != nil || !slices.Equal(idx, []int{0}) || !bytes.Equal(m, msg) {
		t.Fatalf("header: %v, % x, %v", idx, m, err)
	}
	hs[0].Value = GUIDHeader(testGUID).AppendTo(nil) // no indexes
	f, _ = Split(msg, hs, true)
	if _, _, err := f.ProtoIndexes(); !errors.Is(err, ErrIndexes) {
		t.Fatalf("header without indexes: %v", err)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 'm'}, []byte{1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 2, 2}, false)
	f.Add([]byte{}, []byte{}, true)
	f.Fuzz(func(t *testing.T, data, hv []byte, key bool) {
		headers := []RecordHeader{{Key: SchemaIDHeaderName(key), Value: hv}}
		fr, err := Split(data, headers, key)
		if err != nil {
			return
		}
		idx, msg, err := fr.ProtoIndexes()
		if err == nil && (len(idx) == 0 || len(idx) > MaxProtoIndexes) {
			t.Fatalf("indexes %v", idx)
		}
		if fr.InRecordHeader && (!bytes.Equal(fr.Payload, data) || err == nil && !bytes.Equal(msg, data)) {
			t.Fatalf("header framing changed the payload")
		}
		if !fr.InRecordHeader && len(fr.Payload)+fr.Header.Len() != len(data) {
			t.Fatalf("prefix framing: %d + %d != %d", len(fr.Payload), fr.Header.Len(), len(data))
		}
	})
}
