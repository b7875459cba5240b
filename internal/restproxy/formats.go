package restproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/linkedin/goavro/v2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/samsa-streaming/samsa/internal/registry/schemajson"
	"github.com/samsa-streaming/samsa/internal/registry/schemaproto"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// The schema'd formats (avro, jsonschema, protobuf): a client of the schema
// registry's HTTP API with caches, and the conversion between the JSON a
// REST client writes and reads and the wire-framed bytes Kafka holds.
// Avro is Avro-JSON (unions wrapped) through goavro's textual codec;
// Protobuf is protojson against the descriptor schemaproto compiles.

const (
	registryTimeout    = 15 * time.Second
	registryMaxBody    = 16 << 20 // bytes of one registry answer
	registryCacheLimit = 4096     // entries per cache before it is emptied
	maxRefDepth        = 32       // nesting of schema references
)

// schemaRegistry talks to the registry at url.
type schemaRegistry struct {
	url string
	hc  *http.Client

	mu         sync.Mutex
	byID       map[int32]*regSchema
	registered map[string]int32 // subject NUL type NUL text -> id
}

func newSchemaRegistry(url string) *schemaRegistry {
	return &schemaRegistry{url: url, hc: &http.Client{Timeout: registryTimeout},
		byID: map[int32]*regSchema{}, registered: map[string]int32{}}
}

// regSchema is a registered schema, ready to convert records.
type regSchema struct {
	id    int32
	typ   string // AVRO, JSON, PROTOBUF
	avro  *goavro.Codec
	json  schema.Schema
	proto *schemaproto.Schema
}

// registryError is a non-2xx answer of the registry.
type registryError struct {
	status int
	code   int
	msg    string
}

func (e *registryError) Error() string {
	return fmt.Sprintf("schema registry: %d %d %s", e.status, e.code, e.msg)
}

// do sends one request to the registry and decodes its answer into out.
func (r *schemaRegistry) do(ctx context.Context, method, path string, body, out any) error {
	if r == nil || r.url == "" {
		return apiErr(http.StatusBadRequest, 40002, "no schema registry is configured (schema.registry.url)")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("schema registry request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, rd)
	if err != nil {
		return fmt.Errorf("schema registry request: %w", err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json")
	if p := principalOf(ctx); p != nil && p.pass != "" {
		req.SetBasicAuth(p.user, p.pass) // the caller's rights at the registry too
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, registryMaxBody))
	if err != nil {
		return apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code int    `json:"error_code"`
			Msg  string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return errRegistryRefused(ctx, e.Msg)
		}
		return &registryError{status: resp.StatusCode, code: e.Code, msg: e.Msg}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: bad answer: %v", err)
	}
	return nil
}

// register registers text under subject (as the serializers do) and
// returns the parsed schema. The registry refusing it as incompatible is
// 408/40801, Confluent's answer; an invalid schema is 422/42205.
func (r *schemaRegistry) register(ctx context.Context, subject, typ, text string) (*regSchema, error) {
	key := subject + "\x00" + typ + "\x00" + text
	r.mu.Lock()
	id, ok := r.registered[key]
	r.mu.Unlock()
	if !ok {
		body := map[string]any{"schema": text}
		if typ != "AVRO" {
			body["schemaType"] = typ
		}
		var out struct {
			ID int32 `json:"id"`
		}
		err := r.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", body, &out)
		var re *registryError
		switch {
		case errors.As(err, &re) && re.status == http.StatusConflict:
			return nil, apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: %s", re.msg)
		case errors.As(err, &re) && re.status == http.StatusUnprocessableEntity:
			return nil, apiErr(http.StatusUnprocessableEntity, 42205, "Invalid schema: %s", re.msg)
		case errors.As(err, &re):
			return nil, apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: %s", re.msg)
		case err != nil:
			return nil, err
		}
		id = out.ID
		r.mu.Lock()
		if len(r.registered) >= registryCacheLimit {
			clear(r.registered)
		}
		r.registered[key] = id
		r.mu.Unlock()
	}
	return r.schemaByID(ctx, id)
}

// schemaText is a registry answer carrying a schema.
type schemaText struct {
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType"`
	References []schema.Reference `json:"references"`
}

// schemaByID fetches, parses and caches schema id.
func (r *schemaRegistry) schemaByID(ctx context.Context, id int32) (*regSchema, error) {
	r.mu.Lock()
	rs := r.byID[id]
	r.mu.Unlock()
	if rs != nil {
		return rs, nil
	}
	var st schemaText
	path := "/schemas/ids/" + strconv.Itoa(int(id))
	if err := r.do(ctx, http.MethodGet, path, nil, &st); err != nil {
		var re *registryError
		if errors.As(err, &re) && re.status == http.StatusNotFound {
			return nil, apiErr(http.StatusNotFound, 40403, "Schema %d not found", id)
		}
		if errors.As(err, &re) {
			return nil, apiErr(http.StatusRequestTimeout, 40801, "Schema registration or lookup failed: %s", re.msg)
		}
		return nil, err
	}
	rs, err := r.parse(ctx, id, st)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.byID) >= registryCacheLimit {
		clear(r.byID)
	}
	r.byID[id] = rs
	r.mu.Unlock()
	return rs, nil
}

// parse builds the converter of a fetched schema.
func (r *schemaRegistry) parse(ctx context.Context, id int32, st schemaText) (*regSchema, error) {
	rs := &regSchema{id: id, typ: st.SchemaType}
	if rs.typ == "" {
		rs.typ = "AVRO"
	}
	bad := func(err error) error {
		return apiErr(http.StatusUnprocessableEntity, 42205, "schema %d: %v", id, err)
	}
	switch rs.typ {
	case "AVRO":
		text := st.Schema
		if len(st.References) > 0 { // goavro cannot resolve references
			var res schemaText
			if err := r.do(ctx, http.MethodGet, "/schemas/ids/"+strconv.Itoa(int(id))+"?format=resolved", nil, &res); err != nil {
				return nil, fmt.Errorf("schema %d resolved: %w", id, err)
			}
			text = res.Schema
		}
		codec, err := goavro.NewCodec(text)
		if err != nil {
			return nil, bad(err)
		}
		rs.avro = codec
	case "JSON", "PROTOBUF":
		var deps []schema.Dep
		seen := map[string]bool{}
		if err := r.resolveRefs(ctx, st.References, seen, &deps, 0); err != nil {
			return nil, err
		}
		if rs.typ == "JSON" {
			js, err := schemajson.New().Parse(st.Schema, deps)
			if err != nil {
				return nil, bad(err)
			}
			rs.json = js
			break
		}
		ps, err := schemaproto.New().Parse(st.Schema, deps)
		if err != nil {
			return nil, bad(err)
		}
		rs.proto = ps.(*schemaproto.Schema)
	default:
		return nil, bad(fmt.Errorf("unknown schema type %q", rs.typ))
	}
	return rs, nil
}

// resolveRefs appends the texts of refs and of what they reference to
// deps, referenced ones first, each once.
func (r *schemaRegistry) resolveRefs(ctx context.Context, refs []schema.Reference, seen map[string]bool, deps *[]schema.Dep, depth int) error {
	if depth > maxRefDepth {
		return apiErr(http.StatusUnprocessableEntity, 42205, "schema references nest deeper than %d", maxRefDepth)
	}
	for _, ref := range refs {
		if seen[ref.Name] {
			continue
		}
		seen[ref.Name] = true
		var st schemaText
		path := "/subjects/" + url.PathEscape(ref.Subject) + "/versions/" + strconv.Itoa(ref.Version)
		if err := r.do(ctx, http.MethodGet, path, nil, &st); err != nil {
			return fmt.Errorf("schema reference %s: %w", ref.Name, err)
		}
		if err := r.resolveRefs(ctx, st.References, seen, deps, depth+1); err != nil {
			return err
		}
		*deps = append(*deps, schema.Dep{Name: ref.Name, Schema: st.Schema})
	}
	return nil
}

// encode converts a REST client's JSON value to wire-framed bytes. The
// error is 422/42205 (the data does not match the schema).
func (rs *regSchema) encode(raw json.RawMessage) ([]byte, error) {
	out := wire.AppendHeader(nil, rs.id)
	bad := func(err error) error {
		return apiErr(http.StatusUnprocessableEntity, 42205, "data does not match schema %d: %v", rs.id, err)
	}
	switch {
	case rs.avro != nil:
		native, rest, err := rs.avro.NativeFromTextual(escapeNonASCII(raw))
		if err != nil {
			return nil, bad(err)
		}
		if len(bytes.TrimSpace(rest)) > 0 {
			return nil, bad(errors.New("trailing data after the value"))
		}
		b, err := rs.avro.BinaryFromNative(out, native)
		if err != nil {
			return nil, bad(err)
		}
		return b, nil
	case rs.json != nil:
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, bad(err)
		}
		if err := rs.json.Validate(buf.Bytes(), nil); err != nil {
			return nil, bad(err)
		}
		return append(out, buf.Bytes()...), nil
	case rs.proto != nil:
		md, err := rs.proto.MessageByIndexes([]int{0})
		if err != nil {
			return nil, bad(err)
		}
		msg := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal(raw, msg); err != nil {
			return nil, bad(err)
		}
		out = wire.AppendProtoIndexes(out, []int{0})
		b, err := proto.MarshalOptions{}.MarshalAppend(out, msg)
		if err != nil {
			return nil, bad(err)
		}
		return b, nil
	}
	return nil, bad(errors.New("no converter"))
}

// errDecode is the answer to a record that does not deserialize.
func errDecode(format string, args ...any) *apiError {
	return apiErr(http.StatusUnprocessableEntity, 42207, format, args...)
}

// decode converts a record's wire-framed key (key true) or value to the
// JSON a REST client reads, checking the schema type is typ. Failures are
// 422 (never 500).
func (r *schemaRegistry) decode(ctx context.Context, typ string, data []byte, headers []wire.RecordHeader, key bool) (json.RawMessage, error) {
	fr, err := wire.Split(data, headers, key)
	if err != nil {
		return nil, errDecode("cannot deserialize: %v", err)
	}
	if fr.Header.IsGUID() {
		return nil, errDecode("cannot deserialize: schema GUID %s references are not supported", fr.Header)
	}
	rs, err := r.schemaByID(ctx, fr.Header.ID)
	if err != nil {
		return nil, errDecode("cannot deserialize with schema %d: %v", fr.Header.ID, asAPIError(err).message)
	}
	if rs.typ != typ {
		return nil, errDecode("schema %d is %s, not %s", rs.id, rs.typ, typ)
	}
	switch {
	case rs.avro != nil:
		native, rest, err := rs.avro.NativeFromBinary(fr.Payload)
		if err != nil || len(rest) > 0 {
			return nil, errDecode("cannot deserialize Avro with schema %d: %v", rs.id, errOr(err, "trailing bytes"))
		}
		b, err := rs.avro.TextualFromNative(nil, native)
		if err != nil {
			return nil, errDecode("cannot render Avro with schema %d: %v", rs.id, err)
		}
		return b, nil
	case rs.json != nil:
		if !json.Valid(fr.Payload) {
			return nil, errDecode("record of schema %d is not JSON", rs.id)
		}
		return fr.Payload, nil
	default:
		idx, msgBytes, err := fr.ProtoIndexes()
		if err != nil {
			return nil, errDecode("cannot deserialize Protobuf: %v", err)
		}
		md, err := rs.proto.MessageByIndexes(idx)
		if err != nil {
			return nil, errDecode("schema %d: %v", rs.id, err)
		}
		msg := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(msgBytes, msg); err != nil {
			return nil, errDecode("cannot deserialize Protobuf with schema %d: %v", rs.id, err)
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
		if err != nil {
			return nil, errDecode("cannot render Protobuf with schema %d: %v", rs.id, err)
		}
		return b, nil
	}
}

func errOr(err error, msg string) any {
	if err != nil {
		return err
	}
	return msg
}

// escapeNonASCII rewrites every non-ASCII character of a JSON text as a
// \uXXXX escape (a surrogate pair above U+FFFF), which means the same
// JSON. goavro decodes an Avro-JSON "bytes" string's escapes as code
// points 0-255 (Avro's rule) but copies raw UTF-8 bytes as they are, so
// "\u00ff" and a raw "ÿ" would give different bytes; escaping first makes
// both 0xff.
func escapeNonASCII(raw []byte) []byte {
	i := 0
	for i < len(raw) && raw[i] < utf8.RuneSelf {
		i++
	}
	if i == len(raw) {
		return raw
	}
	out := append(make([]byte, 0, len(raw)+len(raw)/2), raw[:i]...)
	for i < len(raw) {
		r, size := utf8.DecodeRune(raw[i:])
		switch {
		case r < utf8.RuneSelf || (r == utf8.RuneError && size == 1):
			out = append(out, raw[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, "\\u%04x\\u%04x", r1, r2)
		default:
			out = fmt.Appendf(out, "\\u%04x", r)
		}
		i += size
	}
	return out
}
