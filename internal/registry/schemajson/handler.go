package schemajson

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baseURL is the retrieval URL of every main schema: a schema without
// $id has this base, and the names of its references resolve against it
// ("address.json" → "https://samsa.invalid/schemas/address.json"). The
// .invalid top-level domain (RFC 2606) can never be resolved.
const baseURL = "https://samsa.invalid/schemas/"

// Handler is the JSON Schema schema.Handler. It has no state; one value is
// safe for concurrent use.
type Handler struct{}

// New returns the JSON Schema handler.
func New() schema.Handler { return Handler{} }

// Type is schema.JSON.
func (Handler) Type() schema.Type { return schema.JSON }

// Schema is a parsed JSON Schema: its text in order-preserving form and
// the compiled schema the library validates with.
type Schema struct {
	doc      *node
	compiled *jsonschema.Schema
	mainURL  string // the main document's base URL, for rendering locations
}

// Parse parses text, a JSON Schema document, with its references: each
// dep.Name is the $ref target the schemas use for dep.Schema.
func (Handler) Parse(text string, deps []schema.Dep) (schema.Schema, error) {
	if len(text) > maxSchemaBytes {
		return nil, fmt.Errorf("schema is %d bytes, more than the limit of %d", len(text), maxSchemaBytes)
	}
	if len(deps) > maxDeps {
		return nil, fmt.Errorf("schema has %d references, more than the limit of %d", len(deps), maxDeps)
	}
	doc, err := parseJSON(text, maxSchemaDepth, true)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON schema: %w", err)
	}
	if doc.kind != 'o' && doc.kind != 'b' {
		return nil, errors.New("invalid JSON schema: the document must be an object or a boolean")
	}
	base, err := mainBase(doc)
	if err != nil {
		return nil, err
	}
	loader, err := newDepLoader(base, deps, len(text))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(loader)
	if err := c.AddResource(baseURL, doc.toAny()); err != nil {
		return nil, fmt.Errorf("invalid JSON schema: %w", err)
	}
	compiled, err := c.Compile(baseURL)
	if err != nil {
		// Show the main document's locations as "#/...", not under the
		// internal base URL.
		return nil, fmt.Errorf("invalid JSON schema: %s", strings.ReplaceAll(err.Error(), baseURL, ""))
	}
	return &Schema{doc: doc, compiled: compiled, mainURL: base}, nil
}

// mainBase is the URL the main schema's relative references resolve
// against: its $id (id in draft 4) resolved against baseURL, or baseURL.
func mainBase(doc *node) (string, error) {
	idKey := "$id"
	if s := doc.member("$schema"); s != nil && s.kind == 's' && strings.Contains(s.text, "draft-04") {
		idKey = "id"
	}
	id := doc.member(idKey)
	if id == nil || id.kind != 's' {
		return baseURL, nil
	}
	u, err := resolveURL(baseURL, id.text)
	if err != nil {
		return "", fmt.Errorf("invalid JSON schema: %s %q is not a URI reference: %w", idKey, id.text, err)
	}
	return u, nil
}

// resolveURL resolves ref against base and drops any fragment.
func resolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	u := b.ResolveReference(r)
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// depLoader serves the references and nothing else: the jsonschema
// library serves the drafts' metaschemas itself, so no URL ever reaches
// the network or the file system.
type depLoader struct {
	docs map[string]any
}

func newDepLoader(base string, deps []schema.Dep, total int) (*depLoader, error) {
	l := &depLoader{docs: map[string]any{}}
	for _, d := range deps {
		total += len(d.Schema)
		if len(d.Schema) > maxSchemaBytes || total > maxTotalBytes {
			return nil, fmt.Errorf("reference %q makes the schema and its references larger than the limit", d.Name)
		}
		doc, err := parseJSON(d.Schema, maxSchemaDepth, true)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON schema in reference %q: %w", d.Name, err)
		}
		u, err := resolveURL(base, d.Name)
		if err != nil {
			return nil, fmt.Errorf("reference name %q is not a URI reference: %w", d.Name, err)
		}
		v := doc.toAny()
		l.docs[u] = v
		// A reference may also be reached by its own $id.
		if id, ok := idOf(doc); ok {
			if alias, err := resolveURL(u, id); err == nil {
				if _, taken := l.docs[alias]; !taken {
					l.docs[alias] = v
				}
			}
		}
	}
	return l, nil
}

func idOf(doc *node) (string, bool) {
	for _, k := range []string{"$id", "id"} {
		if id := doc.member(k); id != nil && id.kind == 's' {
			return id.text, true
		}
	}
	return "", false
}

// Load implements jsonschema.URLLoader.
func (l *depLoader) Load(u string) (any, error) {
	if v, ok := l.docs[u]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%q is not among the schema's references (remote schemas are never loaded)", u)
}

// Canonical is the schema's JSON, compact, members in document order,
// strings with minimal escapes.
func (s *Schema) Canonical() string { return s.doc.String() }

// Normalized is the canonical form with members sorted and the other
// normalizations of normalize.
func (s *Schema) Normalized() string { return normalize(s.doc).String() }

// Format knows only "" (Canonical).
func (s *Schema) Format(format string) (string, error) {
	if format == "" {
		return s.Canonical(), nil
	}
	return "", fmt.Errorf("unknown format %q for a JSON schema (only the default format is supported)", format)
}
