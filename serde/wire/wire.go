package wire

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Magic bytes: the first byte of a framed key or value, or of a schema id
// record header's value.
const (
	// MagicID precedes a 4-byte big-endian schema id.
	MagicID byte = 0x00
	// MagicGUID precedes a 16-byte schema GUID.
	MagicGUID byte = 0x01
)

// Sizes of the two header forms, magic byte included.
const (
	IDHeaderSize   = 1 + 4
	GUIDHeaderSize = 1 + 16
)

// Errors, wrapped with details; test with errors.Is.
var (
	// ErrShort reports fewer bytes than the header needs.
	ErrShort = errors.New("wire: too short for a schema registry header")
	// ErrNoMagic reports a first byte that is not a known magic byte: the
	// bytes were not written by a schema registry serializer.
	ErrNoMagic = errors.New("wire: unknown magic byte")
	// ErrGUIDHeader is ParseHeader's answer to a header that names its
	// schema by GUID (magic byte 0x01) rather than by id; Parse reads it.
	ErrGUIDHeader = errors.New("wire: the header carries a schema GUID, not an id")
)

// GUID is a schema's globally unique id, its 16 bytes in the order they
// print (RFC 9562).
type GUID [16]byte

// String formats g as 8-4-4-4-12 lower-case hex digits.
func (g GUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:], g[10:])
	return string(b[:])
}

// ParseGUID reads the 8-4-4-4-12 hex form String writes (either case), as
// the registry's REST API returns a schema's guid.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("wire: GUID %q is not in 8-4-4-4-12 hex form", s)
	}
	j := 0
	for i := 0; i < len(s); {
		if s[i] == '-' {
			i++
			continue
		}
		if _, err := hex.Decode(g[j:j+1], []byte(s[i:i+2])); err != nil {
			return GUID{}, fmt.Errorf("wire: GUID %q: %w", s, err)
		}
		i, j = i+2, j+1
	}
	return g, nil
}

// Header is the schema reference in front of a framed payload (or in a
// schema id record header): an id after MagicID, or a GUID after MagicGUID.
type Header struct {
	// Magic is MagicID or MagicGUID, and says which of ID and GUID is set.
	Magic byte
	// ID is the schema id when Magic is MagicID (else 0). The registry
	// numbers schemas with Java ints, so an id is signed; a negative one
	// is read as written and simply names no schema.
	ID int32
	// GUID is the schema's GUID when Magic is MagicGUID (else zero).
	GUID GUID
}

// IDHeader is the header naming schema id.
func IDHeader(id int32) Header { return Header{Magic: MagicID, ID: id} }

// GUIDHeader is the header naming the schema by guid.
func GUIDHeader(guid GUID) Header { return Header{Magic: MagicGUID, GUID: guid} }

// IsGUID reports whether h names its schema by GUID.
func (h Header) IsGUID() bool { return h.Magic == MagicGUID }

// Len is h's encoded size: IDHeaderSize or GUIDHeaderSize.
func (h Header) Len() int {
	if h.IsGUID() {
		return GUIDHeaderSize
	}
	return IDHeaderSize
}

// String is "id 17" or "guid 0f1e…".
func (h Header) String() string {
	if h.IsGUID() {
		return "guid " + h.GUID.String()
	}
	return fmt.Sprintf("id %d", h.ID)
}

// AppendTo appends h's encoding to dst: MagicGUID and the GUID when h
// names a GUID, else MagicID and the id.
func (h Header) AppendTo(dst []byte) []byte {
	if h.IsGUID() {
		dst = append(dst, MagicGUID)
		return append(dst, h.GUID[:]...)
	}
	return AppendHeader(dst, h.ID)
}

// AppendHeader appends the 5-byte prefix naming schema id to dst.
func AppendHeader(dst []byte, id int32) []byte {
	dst = append(dst, MagicID)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

// ParseHeader reads the 5-byte prefix of b and returns the schema id and
// the bytes after it (for Protobuf, the message indexes come first; see
// ParseProtoIndexes). A GUID header is ErrGUIDHeader (use Parse), any
// other first byte ErrNoMagic, fewer than five bytes ErrShort.
func ParseHeader(b []byte) (id int32, payload []byte, err error) {
	h, payload, err := Parse(b)
	if err != nil {
		return 0, nil, err
	}
	if h.IsGUID() {
		return 0, nil, fmt.Errorf("%w: guid %s (magic byte 0x01)", ErrGUIDHeader, h.GUID)
	}
	return h.ID, payload, nil
}

// Parse reads either header form at the start of b and returns it with
// the bytes after it.
func Parse(b []byte) (Header, []byte, error) {
	if len(b) == 0 {
		return Header{}, nil, fmt.Errorf("%w: no bytes", ErrShort)
	}
	switch b[0] {
	case MagicID:
		if len(b) < IDHeaderSize {
			return Header{}, nil, fmt.Errorf("%w: a schema id header takes %d bytes, have %d", ErrShort, IDHeaderSize, len(b))
		}
		return IDHeader(int32(binary.BigEndian.Uint32(b[1:5]))), b[IDHeaderSize:], nil
	case MagicGUID:
		if len(b) < GUIDHeaderSize {
			return Header{}, nil, fmt.Errorf("%w: a schema GUID header takes %d bytes, have %d", ErrShort, GUIDHeaderSize, len(b))
		}
		return GUIDHeader(GUID(b[1:GUIDHeaderSize])), b[GUIDHeaderSize:], nil
	}
	return Header{}, nil, fmt.Errorf("%w: 0x%02x (a schema registry header starts with 0x00, or 0x01 before a GUID)", ErrNoMagic, b[0])
}
