package schemajson

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maxReportedErrors bounds how many failing places Validate names.
const maxReportedErrors = 5

// Validate checks that payload is one JSON value, in UTF-8, valid against
// the schema. The error names each failing instance location (a JSON
// pointer into the payload) and the keyword that failed. indexes are
// ignored.
func (s *Schema) Validate(payload []byte, _ []int) error {
	if len(payload) > maxPayloadBytes {
		return fmt.Errorf("payload is %d bytes, more than the limit of %d", len(payload), maxPayloadBytes)
	}
	if !utf8.Valid(payload) {
		return errors.New("payload is not valid UTF-8")
	}
	if err := checkDepth(string(payload), maxPayloadDepth); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("payload is not valid JSON: %w", err)
	}
	err = s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("payload does not validate: %w", err)
	}
	return describe(verr)
}

// describe turns the library's error tree into one message naming the
// leaves: "payload does not match the schema: at /age (keyword
// minimum): must be >= 0 but found -1".
func describe(verr *jsonschema.ValidationError) error {
	var leaves []*jsonschema.ValidationError
	collectLeaves(verr, &leaves)
	var msgs []string
	for i, l := range leaves {
		if i == maxReportedErrors {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(leaves)-i))
			break
		}
		loc := "/" + strings.Join(escapeTokens(l.InstanceLocation), "/")
		if len(l.InstanceLocation) == 0 {
			loc = "the root"
		}
		kw := strings.Join(l.ErrorKind.KeywordPath(), "/")
		msg := strings.ReplaceAll(l.Error(), baseURL, "")
		// The library renders "at '<location>': <message>".
		if i := strings.Index(msg, "': "); strings.HasPrefix(msg, "at '") && i > 0 {
			msg = msg[i+3:]
		}
		if kw == "" {
			msgs = append(msgs, fmt.Sprintf("at %s: %s", loc, msg))
		} else {
			msgs = append(msgs, fmt.Sprintf("at %s (keyword %s): %s", loc, kw, msg))
		}
	}
	return fmt.Errorf("payload does not match the schema: %s", strings.Join(msgs, "; "))
}

func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(e.Causes) == 0 {
		*out = append(*out, e)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = escapePointer(t)
	}
	return out
}
