package batch

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateStored(t *testing.T) {
	b := mustBuild(t, CodecNone, []Record{{Key: []byte("k"), Value: []byte("v")}, {Key: []byte("k2")}}, BuildOptions{BaseTimestamp: 1000})
	if _, err := ValidateStored(b); err != nil {
		t.Fatalf("producer batch: %v", err)
	}
	// A compacted batch: one record left of two, last offset delta kept.
	compacted := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(compacted[posRecordCount:], 1)
	UpdateCRC(compacted)
	if _, err := Validate(compacted); !errors.Is(err, ErrRecordCount) {
		t.Fatalf("Validate accepted a compacted batch: %v", err)
	}
	if h, err := ValidateStored(compacted); err != nil || h.NumRecords != 1 || h.LastOffsetDelta != 1 {
		t.Fatalf("ValidateStored: %+v %v", h, err)
	}
	// An empty header-only batch.
	empty := append([]byte(nil), b[:HeaderSize]...)
	binary.BigEndian.PutUint32(empty[posRecordCount:], 0)
	finish(empty)
	if h, err := ValidateStored(empty); err != nil || h.NumRecords != 0 {
		t.Fatalf("empty batch: %+v %v", h, err)
	}
	for name, mut := range map[string]func([]byte){
		"more records than offsets": func(x []byte) { binary.BigEndian.PutUint32(x[posRecordCount:], 3); UpdateCRC(x) },
		"negative count":            func(x []byte) { binary.BigEndian.PutUint32(x[posRecordCount:], 0xffffffff); UpdateCRC(x) },
		"negative delta":            func(x []byte) { binary.BigEndian.PutUint32(x[posLastOffsetDelta:], 0xffffffff); UpdateCRC(x) },
		"crc":                       func(x []byte) { x[len(x)-1] ^= 1 },
		"magic":                     func(x []byte) { x[posMagic] = 1 },
		"length":                    func(x []byte) { binary.BigEndian.PutUint32(x[posLength:], 10) },
		"codec":                     func(x []byte) { x[posAttributes+1] |= 7; UpdateCRC(x) },
	} {
		x := append([]byte(nil), b...)
		mut(x)
		if _, err := ValidateStored(x); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ValidateStored(b[:HeaderSize-1]); !errors.Is(err, ErrShort) {
		t.Fatalf("short: %v", err)
	}
	if _, err := ValidateStored(append(b, 0)); !errors.Is(err, ErrLength) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestDeleteHorizon(t *testing.T) {
	h := Header{BaseTimestamp: 1234}
	if _, ok := h.DeleteHorizon(); ok {
		t.Fatal("horizon without the attribute")
	}
	h.Attributes |= DeleteHorizonBit
	if v, ok := h.DeleteHorizon(); !ok || v != 1234 {
		t.Fatalf("horizon %d %v", v, ok)
	}
}
