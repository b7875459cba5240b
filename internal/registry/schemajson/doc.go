// Package schemajson is the schema registry's JSON Schema type (schemaType
// "JSON"): a schema.Handler built on github.com/santhosh-tekuri/jsonschema/v6.
//
// # Parsing
//
// A schema is a JSON document, an object or a boolean, in UTF-8, without
// duplicate member names. Drafts 4, 6, 7, 2019-09 and 2020-12 are chosen
// by "$schema"; without "$schema" the schema is draft 7, Confluent's
// default. The schema is validated against its draft's metaschema.
// Regular expressions (pattern, patternProperties) use Go's RE2 syntax,
// so ECMA-262 look-around and back-references are rejected.
//
// The main schema's retrieval URL is https://samsa.invalid/schemas/ (the
// .invalid domain never resolves). Its "$id" ("id" in draft 4), resolved
// against that URL, is the base for references; without one the base is
// that URL. Each reference (schema.Dep) is served at its Name resolved
// against the base ("address.json" → https://samsa.invalid/schemas/address.json;
// an absolute Name stands for itself) and, when it has an "$id", at that
// too. Nothing else is ever loaded: the library serves the drafts'
// metaschemas from memory and the loader serves only the references, so a
// $ref to anything else is a parse error and there is no network or file
// access. Recursive schemas are accepted. A $ref loop that never reaches
// a keyword ({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}}})
// is accepted too, as the library compiles it; every Validate against it
// fails with a reference-cycle error (the validator fails a schema met
// again at the same instance location, and Check follows that rule).
// Limits: 1 MiB per schema text, 8 MiB with references, 1000 references,
// 128 levels of JSON nesting, numbers of at most 400 characters with
// exponents within ±400.
//
// # Forms
//
// Canonical is the text compacted: members in document order (as
// Confluent re-serialises with Jackson), no whitespace, strings with
// minimal escapes, numbers as written. Normalized also sorts object
// members recursively, sorts and deduplicates "required", "type" and the
// name arrays of "dependentRequired"/"dependencies", writes a one-element
// "type" array as its string, and writes integral numbers as plain
// integers ("1.0" → "1"). Only "" is a known Format.
//
// # Validation
//
// Validate parses the payload (UTF-8 JSON, one value, at most 1000 levels,
// no number with an exponent of more than four digits, whose exact value
// would be costly) and validates it. Formats are asserted as the library does by default
// (drafts 4–7 assert "format", 2019-09 and 2020-12 treat it as an
// annotation); content keywords are annotations. The error names up to
// five failing instance locations with their keywords.
//
// # Compatibility
//
// Check(reader, writer) asks: is every document valid under writer valid
// under reader? It walks the reader's schema and compares each keyword
// with the writer's, treating the writer as a conjunction (its allOf
// members and $ref targets join it) and, when a comparison fails, as the
// alternatives of its anyOf/oneOf. Every failing place is reported; the
// verdict errs towards incompatible where the question cannot be decided
// cheaply (see "Conservative verdicts"). A writer enum or const is decided
// exactly, by validating each value against the reader.
//
// Path is a JSON pointer into the reader's schema ("#/properties/age/type");
// for a member only the writer has (a removed property or item) it names
// the writer's member at the same place. Following a reader $ref, paths
// continue from the target's own location ("#/definitions/node/...",
// "address.json#/..."). Reader/Writer show each side's value there.
//
// Rules (ADDED: the reader has a constraint the writer lacks):
//
//	SCHEMA_NARROWED_TO_FALSE        the reader's schema is false.
//	TYPE_NARROWED                   the reader accepts some, not all, of the writer's types ("integer" reading "number").
//	TYPE_CHANGED                    the reader accepts none of the writer's types.
//	ENUM_ARRAY_ADDED                the reader has an enum, the writer's values are not a finite set.
//	ENUM_ARRAY_NARROWED             some writer values are missing from the reader's enum.
//	ENUM_ARRAY_CHANGED              no writer value is in the reader's enum.
//	CONST_ADDED                     the reader has a const, the writer's values are not a finite set.
//	CONST_CHANGED                   a writer value differs from the reader's const.
//	MIN_LENGTH_ADDED                the reader has minLength, the writer none.
//	MIN_LENGTH_INCREASED            the reader's minLength is above the writer's.
//	MAX_LENGTH_ADDED                the reader has maxLength, the writer none.
//	MAX_LENGTH_DECREASED            the reader's maxLength is below the writer's.
//	PATTERN_ADDED                   the reader has a pattern, the writer none.
//	PATTERN_CHANGED                 the reader's pattern differs from the writer's (compared as text).
//	FORMAT_ADDED                    the reader asserts a format, the writer none.
//	FORMAT_CHANGED                  the reader asserts another format than the writer.
//	MINIMUM_ADDED                   the reader has minimum, the writer no lower bound.
//	MINIMUM_INCREASED               the reader's minimum is above the writer's lower bound.
//	EXCLUSIVE_MINIMUM_ADDED         the reader has exclusiveMinimum, the writer no lower bound.
//	EXCLUSIVE_MINIMUM_INCREASED     the reader's exclusiveMinimum excludes the writer's lower bound.
//	MAXIMUM_ADDED                   the reader has maximum, the writer no upper bound.
//	MAXIMUM_DECREASED               the reader's maximum is below the writer's upper bound.
//	EXCLUSIVE_MAXIMUM_ADDED         the reader has exclusiveMaximum, the writer no upper bound.
//	EXCLUSIVE_MAXIMUM_DECREASED     the reader's exclusiveMaximum excludes the writer's upper bound.
//	MULTIPLE_OF_ADDED               the reader has multipleOf, the writer none (and does not write only integers it divides).
//	MULTIPLE_OF_CHANGED             the writer's multipleOf is not a multiple of the reader's.
//	PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL                     the reader declares a property the writer leaves open, with a schema that rejects some values.
//	PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL the reader declares a property whose writer schema (additionalProperties/patternProperties) it does not cover.
//	PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL               the writer declares a property (or pattern) the reader's additionalProperties: false forbids.
//	PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL a writer property (or pattern) falls to a reader additionalProperties/patternProperties schema that rejects some of its values.
//	ADDITIONAL_PROPERTIES_REMOVED   the reader forbids undeclared properties the writer allows.
//	ADDITIONAL_PROPERTIES_NARROWED  the reader constrains undeclared properties the writer leaves open.
//	REQUIRED_ATTRIBUTE_ADDED        the reader requires a property the writer declares but does not require.
//	REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL   the reader requires a property the writer neither declares nor requires.
//	REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL the reader requires a property the writer's closed model never writes.
//	MIN_PROPERTIES_ADDED / MIN_PROPERTIES_INCREASED  minProperties (the writer's required count counts as its bound).
//	MAX_PROPERTIES_ADDED / MAX_PROPERTIES_DECREASED  maxProperties.
//	DEPENDENCY_ARRAY_ADDED          the reader's dependentRequired (or dependencies array) for a property, the writer none.
//	DEPENDENCY_ARRAY_EXTENDED       the reader's dependency names more properties than the writer's.
//	DEPENDENCY_SCHEMA_ADDED         the reader's dependentSchemas (or dependencies schema), the writer none.
//	PROPERTY_NAMES_ADDED            the reader has propertyNames, the writer neither one nor a closed set of names valid under it.
//	ITEM_ADDED_TO_OPEN_CONTENT_MODEL                       the reader's tuple has an item where the writer's array is open, with a schema that rejects some values.
//	ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL the reader's tuple item does not cover the writer's schema for further items.
//	ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL                 the writer's tuple item falls beyond the reader's closed tuple.
//	ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL the writer's tuple item falls to a reader schema for further items that rejects it.
//	ADDITIONAL_ITEMS_REMOVED        the reader forbids items beyond its tuple that the writer allows.
//	MIN_ITEMS_ADDED / MIN_ITEMS_INCREASED, MAX_ITEMS_ADDED / MAX_ITEMS_DECREASED  minItems, maxItems.
//	UNIQUE_ITEMS_ADDED              the reader requires unique items, the writer does not.
//	CONTAINS_ADDED                  the reader has contains, the writer none.
//	CONTAINS_CHANGED                the writer's contains does not imply the reader's.
//	MIN_CONTAINS_INCREASED          the reader's minContains is above the writer's.
//	MAX_CONTAINS_DECREASED          the reader's maxContains may be exceeded by the writer's arrays.
//	PRODUCT_TYPE_EXTENDED           the reader's allOf has more subschemas than the writer's and a new one fails.
//	SUM_TYPE_NARROWED               a writer anyOf/oneOf alternative matches none of the reader's fewer subschemas.
//	COMBINED_TYPE_CHANGED           a writer anyOf alternative matches no subschema of the reader's oneOf.
//	COMBINED_TYPE_SUBSCHEMAS_CHANGED a writer alternative (or a plain writer) matches none of the reader's anyOf/oneOf subschemas.
//	ONE_OF_SUBSCHEMAS_OVERLAP       a writer document might match two of the reader's oneOf subschemas.
//	NOT_TYPE_EXTENDED               the reader's not may reject writer documents.
//	CONDITIONAL_ADDED / CONDITIONAL_CHANGED  the reader's if/then/else may reject writer documents.
//	REFERENCE_CYCLE                 a $ref loops back without descending into the document: the reader's loop accepts nothing, and a verdict that met one is conservative.
//	CHECK_TOO_DEEP / CHECK_TOO_COMPLEX       the comparison exceeded its bounds (200 levels, 100,000 steps); incompatible.
//	SCHEMA_TYPE_MISMATCH            a schema given to Check did not come from this package.
//
// Compatible changes (no rule reported) include: a reader that drops or
// loosens a constraint, extends an enum or a type ("number" reading
// "integer"), opens a content model, adds an optional property to a closed
// writer model, adds anyOf/oneOf alternatives that are disjoint from the
// writer's, or turns a schema into a combination that includes it.
//
// # Conservative verdicts
//
// Where the question is undecidable or costly, Check answers
// incompatible: patterns are compared as text; a reader "not", if/then/else
// or oneOf exclusivity passes only when provably safe (disjoint value
// classes, finite values, a required property the other side forbids or
// constrains disjointly, or the same construct in the writer); writer
// anyOf/oneOf are expanded up to 64 alternatives; unevaluatedProperties/
// unevaluatedItems count only properties declared by the schema and its
// allOf/$ref members as evaluated on the reader's side, and on the
// writer's side are ignored (unevaluatedItems) or used only when no
// anyOf/oneOf/if/dependentSchemas could evaluate more (unevaluatedProperties); $dynamicRef/$recursiveRef are followed
// to their static targets. Unlike Confluent, a newly required property is
// incompatible even when it has a default: a default does not make a
// document without the property valid. Cycles through $ref are memoised:
// a pair of schemas met again while being compared is assumed compatible
// (a counterexample is a finite document, found elsewhere), except when it
// is met again at the same instance location (REFERENCE_CYCLE). Writer
// enums and consts are decided by validating their values only when
// neither schema has such a cycle nor $dynamicRef/$recursiveRef, since
// then a subschema validates the same on its own as in place.
package schemajson
