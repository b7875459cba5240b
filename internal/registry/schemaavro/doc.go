// Package schemaavro is the registry's AVRO schema type: a
// schema.Handler that parses Avro schemas (with references), renders them
// in the forms the Confluent API serves, checks reader/writer
// compatibility by Avro's resolution rules and validates binary payloads.
//
// # Parsing
//
// Parse reads the text with its own JSON reader, which keeps the order of
// object members (Avro Java, and so Confluent, keeps the order of custom
// properties) and bounds nesting (400 JSON levels, 128 schema levels). It
// then builds its own schema graph following Avro Java 1.12's parser:
// names and namespaces (a dotted name carries its namespace; a name
// reference is tried in the enclosing namespace, then in the null one),
// reserved attributes versus properties, name validation (letters, digits,
// _; Unicode letters allowed, as in Java), duplicate names, symbols and
// union branches, and defaults validated as Java's Schema.isValidDefault
// (a union's default may match any branch, as in 1.12). The references'
// texts are parsed first, in order, into the same name table; the named
// types they define may then be used by name. Named types must be defined
// before use (no forward references).
//
// hamba/avro is not used to parse, deliberately: its parser loses the
// order of properties, validates a union's default against the first
// branch only, rejects non-ASCII names that Java accepts, accepts a bare
// unquoted primitive name as a schema, and lets a schema silently redefine
// a referenced type. Its String() is the Parsing Canonical Form (no doc,
// no default, no properties), not what Confluent stores, so the canonical
// form has its own serializer (print.go). hamba is used for reading
// payloads (its streaming Reader) and, in tests, as a second opinion on
// compatibility verdicts.
//
// # Forms
//
// Canonical is Avro Java's Schema.toString(): compact JSON, a primitive
// without properties as a bare string, a named type written in full at its
// first use and by name after (qualified relative to the enclosing
// namespace), "namespace" only where it differs from the enclosing one,
// and doc, default, order (when not ascending), aliases, logicalType and
// other properties kept, in Java's attribute order. Types defined by the
// references are written by name only (all of them, not only each
// reference's top-level type), as Java's toString(referencedSchemas).
// Numbers are kept as written, except that a float or double field's
// default given as a string becomes the number Java makes of it. One
// deliberate deviation: a use of a null-namespace type F inside namespace
// n where n.F also exists is written ".F" (which Java reads as F), since
// Java's "F" would be read back as n.F.
//
// Normalized (for ?normalize=true) is the canonical form with everything
// that names a type written as the full name (no "namespace" attributes
// except the "" that keeps a null-namespace type inside a namespaced one)
// and the members of properties, property values and defaults sorted by
// key, and aliases sorted. So a namespace given as an attribute or as
// part of the name, a short or full reference, and the order of
// properties or aliases make no difference; docs, defaults, aliases and
// properties still do, and so do the order of fields, symbols and union
// branches, which Avro's encoding depends on.
//
// Format("resolved") is the canonical form with the referenced types
// written out at their first use, a schema that stands alone.
//
// # Compatibility
//
// Check follows Avro Java's SchemaCompatibility: promotions int to
// long/float/double, long to float/double, float to double, string and
// bytes both ways; records, enums and fixed matched by simple name or a
// reader alias naming the writer's full name; reader fields found by name
// or alias, else they need a default; an enum reader without a default
// must have every writer symbol; fixed sizes equal; every branch of a
// writer union readable (by some reader branch when the reader is a
// union). Every incompatibility is reported, at Avro Java 1.12's
// locations ("/", "/fields/0/type", "/items", "/values", "/symbols",
// "/size", "/name", and the writer union's branch index, also when the
// reader is not a union, which Avro's Python checker omits), with Java's
// SchemaIncompatibilityType names as rules. Missing enum symbols are
// listed sorted, as Java's set prints them. Pairs are memoised, and a pair met again while being checked
// (recursive types) is taken as compatible, as in Java.
//
// # Payloads
//
// Validate decodes an Avro binary value of the schema with hamba's
// streaming Reader and fails on malformed or truncated data and on
// trailing bytes; it allocates nothing in proportion to the lengths and
// counts the payload claims, and bounds the nesting of values (1024).
// hamba's Unmarshal is not used: it takes an early end of input for
// success, so truncated payloads would pass.
//
// pairs.go exports LoadApachePairs, a test aid that runs
// testdata/avro_pairs.py to list Apache Avro's own compatibility cases.
package schemaavro
