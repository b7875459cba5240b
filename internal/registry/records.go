package registry

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// Key types of the _schemas topic, Confluent's format.
const (
	keySchema        = "SCHEMA"
	keyConfig        = "CONFIG"
	keyMode          = "MODE"
	keyNoop          = "NOOP"
	keyDeleteSubject = "DELETE_SUBJECT"
	keyClearSubject  = "CLEAR_SUBJECT"
	keyContext       = "CONTEXT"
)

// recordKey is the JSON key of a _schemas record. SCHEMA keys carry subject
// and version (magic 1); CONFIG and MODE keys a nullable subject (magic 0,
// null meaning global); NOOP keys nothing.
type recordKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject,omitempty"`
	Version *int    `json:"version,omitempty"`
	Magic   int     `json:"magic"`
}

// schemaValue is the value of a SCHEMA record.
type schemaValue struct {
	Subject    string             `json:"subject"`
	Version    int                `json:"version"`
	ID         int                `json:"id"`
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType,omitempty"`
	References []schema.Reference `json:"references,omitempty"`
	Metadata   json.RawMessage    `json:"metadata,omitempty"`
	RuleSet    json.RawMessage    `json:"ruleSet,omitempty"`
	Deleted    bool               `json:"deleted"`
}

// deleteSubjectValue is the value of a DELETE_SUBJECT record: every version
// up to Version is soft-deleted. CLEAR_SUBJECT's value names the subject
// only: every soft-deleted version is removed.
type deleteSubjectValue struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func schemaKey(subject string, version int) recordKey {
	return recordKey{KeyType: keySchema, Subject: &subject, Version: &version, Magic: 1}
}

// scopedKey is a CONFIG or MODE key; subject "" is the global one.
func scopedKey(keyType, subject string) recordKey {
	k := recordKey{KeyType: keyType, Magic: 0}
	if subject != "" {
		k.Subject = &subject
	}
	return k
}

func (k recordKey) encode() []byte {
	b, _ := json.Marshal(k) // plain strings and ints: cannot fail
	return b
}

// decodeKey parses a _schemas key. Unknown key types are returned as they
// are; the store skips them.
func decodeKey(b []byte) (recordKey, error) {
	var k recordKey
	if err := json.Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("key %q: %w", clip(b), err)
	}
	if k.KeyType == "" {
		return k, fmt.Errorf("key %q: no keytype", clip(b))
	}
	return k, nil
}

// decodeStrict unmarshals a record value; null or empty values are the
// caller's business (tombstones).
func decodeValue(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("value %q: %w", clip(b), err)
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}
