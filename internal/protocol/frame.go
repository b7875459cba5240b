package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors returned by ReadFrame and ParseRequest.
var (
	ErrFrameTooLarge      = errors.New("protocol: frame larger than the limit")
	ErrNegativeSize       = errors.New("protocol: negative frame size")
	ErrMalformed          = errors.New("protocol: malformed request")
	ErrUnknownKey         = errors.New("protocol: unknown API key")
	ErrUnsupportedVersion = errors.New("protocol: unsupported API version")
)

// ApiVersionsKey is the key of ApiVersions, whose responses always use
// response header v0.
const ApiVersionsKey = 18

// controlledShutdownKey is the one key whose v0 request header has no
// client id.
const controlledShutdownKey = 7

// ReadFrame reads a 4-byte big-endian size and then a frame body of that
// size. A size above maxSize or below zero is refused (ErrFrameTooLarge,
// ErrNegativeSize) before anything is allocated for it. buf is reused when
// its capacity suffices; the returned slice may alias it. Otherwise the
// body's buffer grows as its bytes arrive (see readGrowing), so a peer that
// announces a large frame and sends little makes little be allocated.
//
// A connection closed cleanly between frames returns io.EOF; one closed in
// the middle of a frame returns io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, maxSize int32, buf []byte) ([]byte, error) {
	var hdr []byte
	if cap(buf) >= 4 {
		hdr = buf[:4] // no allocation for the size when buf is given
	} else {
		hdr = make([]byte, 4)
	}
	n, err := readSize(r, hdr, maxSize)
	if err != nil {
		return nil, err
	}
	if cap(buf) >= int(n) {
		return readFull(r, buf[:n])
	}
	return readGrowing(r, int(n), nil, nil)
}

// RequestHeader is a parsed request header. Header tags are skipped.
type RequestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string // empty for a null client id
}

// ParseRequest parses the request header in frame (header v2 for flexible
// versions, v1 otherwise, v0 for ControlledShutdown v0 as Kafka has it),
// then the body into the kmsg request for the header's key, at the header's
// version.
//
// The header is returned whenever its key, version and correlation id were
// read, even with an error, so the broker can still answer: ErrUnknownKey
// for a key kmsg does not know, ErrUnsupportedVersion for a version outside
// 0..MaxVersion for the key (the broker answers ApiVersions so with
// UNSUPPORTED_VERSION), and an error wrapping ErrMalformed for a header or
// body that does not parse. The request is nil on every error.
func ParseRequest(frame []byte) (RequestHeader, kmsg.Request, error) {
	var h RequestHeader
	if len(frame) < 8 {
		return h, nil, fmt.Errorf("%w: %d-byte header", ErrMalformed, len(frame))
	}
	h.Key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.Version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:]))
	rest := frame[8:]
	if h.Key == controlledShutdownKey && h.Version == 0 {
		// ControlledShutdown v0 predates the client id: header v0.
		return parseBody(h, rest)
	}
	if len(rest) < 2 {
		return h, nil, fmt.Errorf("%w: missing client id", ErrMalformed)
	}
	idLen := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	switch {
	case idLen == -1:
	case idLen < -1 || int(idLen) > len(rest):
		return h, nil, fmt.Errorf("%w: client id length %d", ErrMalformed, idLen)
	default:
		h.ClientID = string(rest[:idLen])
		rest = rest[idLen:]
	}
	return parseBody(h, rest)
}

// parseBody parses the header tags, if any, and the body after the client id.
func parseBody(h RequestHeader, rest []byte) (RequestHeader, kmsg.Request, error) {
	req := kmsg.RequestForKey(h.Key)
	if req == nil {
		return h, nil, fmt.Errorf("%w: %d", ErrUnknownKey, h.Key)
	}
	if h.Version < 0 || h.Version > req.MaxVersion() {
		return h, nil, fmt.Errorf("%w: key %d version %d", ErrUnsupportedVersion, h.Key, h.Version)
	}
	req.SetVersion(h.Version)
	if req.IsFlexible() {
		var ok bool
		if rest, ok = skipTags(rest); !ok {
			return h, nil, fmt.Errorf("%w: header tags", ErrMalformed)
		}
	}
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, fmt.Errorf("%w: key %d version %d: %v", ErrMalformed, h.Key, h.Version, err)
	}
	return h, req, nil
}

// skipTags skips a tagged-field section: a uvarint count, then per tag a
// uvarint key, a uvarint size and that many bytes.
func skipTags(b []byte) ([]byte, bool) {
	n, ok := uvarint32(&b)
	if !ok {
		return nil, false
	}
	for ; n > 0; n-- {
		if _, ok := uvarint32(&b); !ok {
			return nil, false
		}
		size, ok := uvarint32(&b)
		if !ok || uint64(size) > uint64(len(b)) {
			return nil, false
		}
		b = b[size:]
	}
	return b, true
}

// uvarint32 reads an unsigned varint of at most 5 bytes that fits 32 bits,
// as Kafka's ByteUtils.readUnsignedVarint does.
func uvarint32(b *[]byte) (uint32, bool) {
	v, n := binary.Uvarint(*b)
	if n <= 0 || n > 5 || v > 0xffffffff {
		return 0, false
	}
	*b = (*b)[n:]
	return uint32(v), true
}

// AppendResponse appends a complete response frame to dst: the size, the
// correlation id, an empty tag section when the response is flexible (never
// for ApiVersions), then the body at the version set on resp.
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != ApiVersionsKey {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

// IsFlexible reports whether key at version uses flexible (KIP-482)
// encoding, and false for a key kmsg does not know.
func IsFlexible(key, version int16) bool {
	req := kmsg.RequestForKey(key)
	if req == nil {
		return false
	}
	req.SetVersion(version)
	return req.IsFlexible()
}

// MaxVersion is the highest version of key that kmsg can parse, or -1 for
// an unknown key. The broker advertises at most this in ApiVersions.
func MaxVersion(key int16) int16 {
	req := kmsg.RequestForKey(key)
	if req == nil {
		return -1
	}
	return req.MaxVersion()
}
