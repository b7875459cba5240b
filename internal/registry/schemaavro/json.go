package schemaavro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// maxJSONDepth bounds the nesting of the schema text's JSON (objects and
// arrays), which bounds every recursion over the parsed text.
const maxJSONDepth = 400

// jkind is the kind of a JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jval is a JSON value that keeps the order of object members, as Avro
// Java (Jackson) does for properties.
type jval struct {
	kind jkind
	b    bool
	s    string // the string, or the number's literal text
	arr  []*jval
	obj  []member
}

// member is one name/value pair of a JSON object.
type member struct {
	key string
	val *jval
}

// get returns the member named key, or nil.
func (v *jval) get(key string) *jval {
	for _, m := range v.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// parseJSON parses exactly one JSON value from text. Comments (/* */
// and //) are allowed, as Avro Java's parser allows them.
func parseJSON(text string) (*jval, error) {
	text, err := stripComments(text)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the schema at offset %d", dec.InputOffset())
	}
	return v, nil
}

// stripComments replaces the comments outside strings with spaces.
func stripComments(text string) (string, error) {
	if !strings.Contains(text, "/") {
		return text, nil
	}
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '/' && strings.HasPrefix(text[i:], "//"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			i += end - 1
			b.WriteByte(' ')
			continue
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return "", errors.New("invalid JSON: unterminated /* comment")
			}
			i += end + 3
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func readValue(dec *json.Decoder, depth int) (*jval, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("invalid JSON: unexpected end of input")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return &jval{kind: jNull}, nil
	case bool:
		return &jval{kind: jBool, b: t}, nil
	case json.Number:
		return &jval{kind: jNumber, s: t.String()}, nil
	case string:
		return &jval{kind: jString, s: t}, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, fmt.Errorf("invalid schema: JSON nests deeper than %d levels", maxJSONDepth)
		}
		if t == '[' {
			return readArray(dec, depth)
		}
		return readObject(dec, depth)
	}
	return nil, fmt.Errorf("invalid JSON: unexpected token %v", tok)
}

func readArray(dec *json.Decoder, depth int) (*jval, error) {
	v := &jval{kind: jArray, arr: []*jval{}}
	for dec.More() {
		e, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		v.arr = append(v.arr, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

func readObject(dec *json.Decoder, depth int) (*jval, error) {
	v := &jval{kind: jObject, obj: []member{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON: object key %v is not a string", tok)
		}
		if seen[key] {
			return nil, fmt.Errorf("invalid JSON: duplicate key %q in an object", key)
		}
		seen[key] = true
		e, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		v.obj = append(v.obj, member{key: key, val: e})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

// writeJSON appends v compactly; with sorted, object members are written
// in key order (for the normalized form), else in their original order.
func writeJSON(b *bytes.Buffer, v *jval, sorted bool) {
	switch v.kind {
	case jNull:
		b.WriteString("null")
	case jBool:
		b.WriteString(strconv.FormatBool(v.b))
	case jNumber:
		b.WriteString(v.s)
	case jString:
		writeString(b, v.s)
	case jArray:
		b.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e, sorted)
		}
		b.WriteByte(']')
	case jObject:
		b.WriteByte('{')
		for i, m := range orderMembers(v.obj, sorted) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.key)
			b.WriteByte(':')
			writeJSON(b, m.val, sorted)
		}
		b.WriteByte('}')
	}
}

// orderMembers returns ms, or a copy sorted by key when sorted is set.
func orderMembers(ms []member, sorted bool) []member {
	if !sorted {
		return ms
	}
	out := append([]member(nil), ms...)
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// writeString writes s as a JSON string the way Jackson does: UTF-8 kept,
// only quote, backslash and control characters escaped.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
