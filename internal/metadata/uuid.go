package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// Uuid is a 128-bit identifier, used for topic ids (KIP-516) and broker
// incarnation ids. Its text form is Kafka's: URL-safe base64 without padding
// (22 characters).
type Uuid [16]byte

// ZeroUuid is the all-zero id; Kafka uses it to mean "no id".
var ZeroUuid Uuid

// metadataTopicUuid is Kafka's reserved id of __cluster_metadata (0...01).
var metadataTopicUuid = Uuid{15: 1}

var uuidEncoding = base64.RawURLEncoding.Strict()

// RandomUuid returns a random version-4 id with Kafka's restrictions: it is
// never ZeroUuid nor the reserved metadata topic id, and its string form
// never starts with '-' (so it cannot be mistaken for a command-line flag).
func RandomUuid() Uuid {
	for {
		var u Uuid
		_, _ = rand.Read(u[:]) // crypto/rand.Read never returns an error
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		if u != ZeroUuid && u != metadataTopicUuid && u.String()[0] != '-' {
			return u
		}
	}
}

// ParseUuid parses Kafka's base64url-without-padding form.
func ParseUuid(s string) (Uuid, error) {
	var u Uuid
	if len(s) != 22 {
		return u, fmt.Errorf("metadata: invalid uuid %q: want 22 base64url characters", s)
	}
	n, err := uuidEncoding.Decode(u[:], []byte(s))
	if err != nil || n != len(u) {
		return Uuid{}, fmt.Errorf("metadata: invalid uuid %q: %w", s, err)
	}
	return u, nil
}

// String returns Kafka's text form of u.
func (u Uuid) String() string { return uuidEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is ZeroUuid.
func (u Uuid) IsZero() bool { return u == ZeroUuid }

// MarshalText implements encoding.TextMarshaler (used by the JSON encodings,
// including as a map key).
func (u Uuid) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *Uuid) UnmarshalText(b []byte) error {
	v, err := ParseUuid(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}
