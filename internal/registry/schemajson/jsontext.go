package schemajson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on what Parse and Validate accept. A schema arrives from an
// untrusted HTTP client, so its size, nesting and numbers are bounded
// before anything recursive looks at it.
const (
	maxSchemaBytes  = 1 << 20 // one schema text
	maxTotalBytes   = 8 << 20 // a schema and all its references
	maxDeps         = 1000    // references in one closure
	maxSchemaDepth  = 128     // JSON nesting levels in one schema text
	maxNumberLen    = 400     // characters in one number of a schema
	maxExponent     = 400     // |exponent| of one number of a schema
	maxPayloadBytes = 64 << 20
	maxPayloadDepth = 1000
)

// node is one JSON value with object members in document order.
type node struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	text  string
	b     bool
	keys  []string // object member names, in order
	elems []*node  // object member values (parallel to keys) or array elements
}

// parseJSON parses one JSON document, keeping member order. It rejects
// invalid UTF-8, trailing data, duplicate member names, nesting deeper
// than maxDepth and (when numbers is true) over-long numbers.
func parseJSON(text string, maxDepth int, checkNumbers bool) (*node, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("text is not valid UTF-8")
	}
	if err := checkDepth(text, maxDepth); err != nil {
		return nil, err
	}
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	p := &jsonParser{d: d, numbers: checkNumbers}
	n, err := p.value("")
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", d.InputOffset())
	}
	return n, nil
}

// checkDepth scans text for bracket nesting outside strings, so that the
// recursive parser below never goes deeper than limit, and for numbers
// whose exponent has more than four digits, whose exact value would be
// costly to compute (math/big allows exponents up to a million).
func checkDepth(text string, limit int) error {
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case !inStr && (c == '-' || (c >= '0' && c <= '9')):
			j := i
			for j < len(text) && strings.IndexByte("+-.eE0123456789", text[j]) >= 0 {
				j++
			}
			if e := strings.IndexAny(text[i:j], "eE"); e >= 0 && len(strings.TrimLeft(text[i+e+1:j], "+-0")) > 4 {
				return fmt.Errorf("number %.40s at offset %d has too large an exponent", text[i:j], i)
			}
			i = j - 1
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > limit {
				return fmt.Errorf("JSON nesting deeper than %d levels at offset %d", limit, i)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

type jsonParser struct {
	d       *json.Decoder
	numbers bool
}

func (p *jsonParser) value(ptr string) (*node, error) {
	tok, err := p.d.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return p.object(ptr)
		}
		if t == '[' {
			return p.array(ptr)
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", t, p.d.InputOffset())
	case string:
		return &node{kind: 's', text: t}, nil
	case json.Number:
		if p.numbers {
			if err := checkNumber(string(t)); err != nil {
				return nil, fmt.Errorf("at %s: %w", pointerOrRoot(ptr), err)
			}
		}
		return &node{kind: 'n', text: string(t)}, nil
	case bool:
		return &node{kind: 'b', b: t}, nil
	case nil:
		return &node{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token at offset %d", p.d.InputOffset())
}

func (p *jsonParser) object(ptr string) (*node, error) {
	n := &node{kind: 'o'}
	seen := map[string]bool{}
	for p.d.More() {
		tok, err := p.d.Token()
		if err != nil {
			return nil, p.syntax(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object member name expected at offset %d", p.d.InputOffset())
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate member %q in the object at %s", key, pointerOrRoot(ptr))
		}
		seen[key] = true
		v, err := p.value(ptr + "/" + escapePointer(key))
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.elems = append(n.elems, v)
	}
	if _, err := p.d.Token(); err != nil {
		return nil, p.syntax(err)
	}
	return n, nil
}

func (p *jsonParser) array(ptr string) (*node, error) {
	n := &node{kind: 'a'}
	for p.d.More() {
		v, err := p.value(fmt.Sprintf("%s/%d", ptr, len(n.elems)))
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
	}
	if _, err := p.d.Token(); err != nil {
		return nil, p.syntax(err)
	}
	return n, nil
}

func (p *jsonParser) syntax(err error) error {
	if err == io.EOF {
		return errors.New("unexpected end of JSON text")
	}
	return fmt.Errorf("invalid JSON at offset %d: %w", p.d.InputOffset(), err)
}

// checkNumber bounds a number's spelling so that exact (big.Rat)
// arithmetic on it stays cheap.
func checkNumber(s string) error {
	if len(s) > maxNumberLen {
		return fmt.Errorf("number longer than %d characters", maxNumberLen)
	}
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return nil
	}
	exp := strings.TrimLeft(s[i+1:], "+-")
	exp = strings.TrimLeft(exp, "0")
	if len(exp) > 3 || (len(exp) == 3 && exp > fmt.Sprint(maxExponent)) {
		return fmt.Errorf("number %s has an exponent beyond ±%d", s, maxExponent)
	}
	return nil
}

func pointerOrRoot(ptr string) string {
	if ptr == "" {
		return "the root"
	}
	return ptr
}

// escapePointer escapes one JSON pointer token (RFC 6901).
func escapePointer(tok string) string {
	tok = strings.ReplaceAll(tok, "~", "~0")
	return strings.ReplaceAll(tok, "/", "~1")
}

// toAny converts n into the value tree the jsonschema library expects:
// map[string]any, []any, string, json.Number, bool and nil.
func (n *node) toAny() any {
	switch n.kind {
	case 'o':
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.elems[i].toAny()
		}
		return m
	case 'a':
		a := make([]any, len(n.elems))
		for i, e := range n.elems {
			a[i] = e.toAny()
		}
		return a
	case 's':
		return n.text
	case 'n':
		return json.Number(n.text)
	case 'b':
		return n.b
	}
	return nil
}

// member returns the value of the object member named key, or nil.
func (n *node) member(key string) *node {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.elems[i]
		}
	}
	return nil
}

// write appends n's compact encoding to b, members in n's order.
func (n *node) write(b *bytes.Buffer) {
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			n.elems[i].write(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	case 's':
		writeString(b, n.text)
	case 'n':
		b.WriteString(n.text)
	case 'b':
		if n.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		b.WriteString("null")
	}
}

// writeString writes s as a JSON string with the minimal escapes: the
// same text always gets the same spelling, whatever escapes the client
// used.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
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
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func (n *node) String() string {
	var b bytes.Buffer
	n.write(&b)
	return b.String()
}
