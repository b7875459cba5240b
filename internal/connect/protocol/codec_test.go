package protocol

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

// golden builds bytes the way Java's Struct writer lays them out.
type golden struct{ bytes.Buffer }

func (g *golden) i16(v int16) *golden { g.Write([]byte{byte(v >> 8), byte(v)}); return g }
func (g *golden) i32(v int32) *golden {
	g.Write([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	return g
}
func (g *golden) i64(v int64) *golden { g.i32(int32(v >> 32)); g.i32(int32(v)); return g }
func (g *golden) str(s string) *golden {
	g.i16(int16(len(s)))
	g.WriteString(s)
	return g
}

// TestMetadataV0Golden: ConnectProtocol.serializeMetadata writes version
// 0, url, config offset and nothing else.
func TestMetadataV0Golden(t *testing.T) {
	var g golden
	g.i16(0).str("http://w1:8083/").i64(42)
	got := EncodeMetadata(0, Metadata{URL: "http://w1:8083/", ConfigOffset: 42})
	if !bytes.Equal(got, g.Bytes()) {
		t.Fatalf("v0 metadata\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(g.Bytes()))
	}
	v, m, err := DecodeMetadata(got)
	if err != nil || v != 0 || m.URL != "http://w1:8083/" || m.ConfigOffset != 42 || m.Owned != nil {
		t.Fatalf("decode: %d %+v %v", v, m, err)
	}
}

// TestMetadataV1NullAllocationGolden: a member owning nothing (Java's
// ExtendedAssignment.empty()) sends a null allocation (-1).
func TestMetadataV1NullAllocationGolden(t *testing.T) {
	for _, v := range []int16{1, 2} {
		var g golden
		g.i16(v).str("u").i64(-1).i32(-1)
		got := EncodeMetadata(v, Metadata{URL: "u", ConfigOffset: -1})
		if !bytes.Equal(got, g.Bytes()) {
			t.Fatalf("v%d metadata: got %x want %x", v, got, g.Bytes())
		}
	}
}

// TestAssignmentV1Golden: IncrementalCooperativeConnectProtocol's
// ASSIGNMENT_V1 layout, connector entries carrying -1 first.
func TestAssignmentV1Golden(t *testing.T) {
	a := Assignment{
		Leader: "leader-1", LeaderURL: "http://l:8083/", ConfigOffset: 7,
		Connectors:        []string{"a"},
		Tasks:             []TaskID{{"a", 0}, {"b", 1}},
		RevokedConnectors: nil,
		RevokedTasks:      []TaskID{{"c", 2}},
		Delay:             300,
	}
	var g golden
	g.i16(1).i16(0).str("leader-1").str("http://l:8083/").i64(7)
	g.i32(2).str("a").i32(2).i32(-1).i32(0).str("b").i32(1).i32(1)
	g.i32(1).str("c").i32(1).i32(2)
	g.i32(300)
	got := EncodeAssignment(1, a)
	if !bytes.Equal(got, g.Bytes()) {
		t.Fatalf("v1 assignment\n got %x\nwant %x", got, g.Bytes())
	}
	v, back, err := DecodeAssignment(got)
	if err != nil || v != 1 {
		t.Fatalf("decode: %v %v", v, err)
	}
	if !reflect.DeepEqual(back, a) {
		t.Fatalf("round trip: %+v != %+v", back, a)
	}
	// Embedded as a v1 allocation in metadata.
	meta := EncodeMetadata(1, Metadata{URL: "u", ConfigOffset: 3, Owned: &a})
	var gm golden
	gm.i16(1).str("u").i64(3).i32(int32(len(got)))
	gm.Write(got)
	if !bytes.Equal(meta, gm.Bytes()) {
		t.Fatalf("v1 metadata with allocation: got %x want %x", meta, gm.Bytes())
	}
	_, m, err := DecodeMetadata(meta)
	if err != nil || m.Owned == nil || !reflect.DeepEqual(*m.Owned, a) {
		t.Fatalf("metadata round trip: %+v %v", m, err)
	}
}

// TestAssignmentV0Golden: ConnectProtocol.ASSIGNMENT_V0, no revoked nor
// delay; read by the v1 reader with defaults, as Java's tolerant schema.
func TestAssignmentV0Golden(t *testing.T) {
	var g golden
	g.i16(0).i16(1).str("L").str("U").i64(9).i32(1).str("x").i32(3).i32(-1).i32(0).i32(1)
	a := Assignment{Error: ErrConfigMismatch, Leader: "L", LeaderURL: "U", ConfigOffset: 9,
		Connectors: []string{"x"}, Tasks: []TaskID{{"x", 0}, {"x", 1}}, RevokedTasks: []TaskID{{"y", 0}}, Delay: 5}
	got := EncodeAssignment(0, a)
	if !bytes.Equal(got, g.Bytes()) {
		t.Fatalf("v0 assignment: got %x want %x", got, g.Bytes())
	}
	v, back, err := DecodeAssignment(got)
	if err != nil || v != 0 || back.Error != 1 || back.Delay != 0 || back.RevokedTasks != nil ||
		!reflect.DeepEqual(back.Tasks, a.Tasks) || !reflect.DeepEqual(back.Connectors, a.Connectors) {
		t.Fatalf("decode v0: %+v %v", back, err)
	}
}

// TestDecodeFutureVersion: versions above 2 are read as the known layout
// (Java's checkVersionCompatibility rejects only negative versions).
func TestDecodeFutureVersion(t *testing.T) {
	var g golden
	g.i16(5).str("u").i64(1).i32(-1).i32(77) // trailing bytes of a future field
	v, m, err := DecodeMetadata(g.Bytes())
	if err != nil || v != 5 || m.URL != "u" {
		t.Fatalf("future metadata: %v %+v %v", v, m, err)
	}
	var n golden
	n.i16(-1).str("u").i64(1)
	if _, _, err := DecodeMetadata(n.Bytes()); err == nil {
		t.Fatal("negative version accepted")
	}
}

func TestDecodeRejectsHugeCounts(t *testing.T) {
	var g golden
	g.i16(1).i16(0).str("L").str("U").i64(0).i32(1 << 30)
	if _, _, err := DecodeAssignment(g.Bytes()); err == nil {
		t.Fatal("an array count beyond the bytes present was accepted")
	}
	if _, _, err := DecodeAssignment([]byte{0, 1, 0}); err == nil {
		t.Fatal("truncated assignment accepted")
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	a := Assignment{Leader: "l", LeaderURL: "u", Connectors: []string{"c"}, Tasks: []TaskID{{"c", 0}}}
	f.Add(EncodeMetadata(0, Metadata{URL: "u", ConfigOffset: 1}))
	f.Add(EncodeMetadata(2, Metadata{URL: "u", ConfigOffset: 1, Owned: &a}))
	f.Add([]byte{0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, m, err := DecodeMetadata(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		enc := EncodeMetadata(v, m)
		if _, m2, err := DecodeMetadata(enc); err != nil || m2.URL != m.URL || m2.ConfigOffset != m.ConfigOffset {
			t.Fatalf("re-decode: %+v %+v %v", m, m2, err)
		}
	})
}

func FuzzDecodeAssignment(f *testing.F) {
	f.Add(EncodeAssignment(1, Assignment{Leader: "l", Connectors: []string{"a"}, RevokedTasks: []TaskID{{"b", 3}}, Delay: 9}))
	f.Add(EncodeAssignment(0, Assignment{Leader: "l", Tasks: []TaskID{{"a", 1}}}))
	f.Add([]byte{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, a, err := DecodeAssignment(b)
		if err != nil {
			return
		}
		if len(a.Tasks)+len(a.Connectors)+len(a.RevokedTasks)+len(a.RevokedConnectors) > len(b)/4 {
			t.Fatalf("%d ids from %d bytes", len(a.Tasks)+len(a.Connectors), len(b))
		}
		if v < VersionCompatible {
			return
		}
		_, back, err := DecodeAssignment(EncodeAssignment(v, a))
		if err != nil || len(back.Tasks) != len(a.Tasks) || len(back.Connectors) > len(a.Connectors) || back.Delay != a.Delay {
			t.Fatalf("re-decode: %+v %+v %v", a, back, err)
		}
	})
}
