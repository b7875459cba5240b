// Package schema holds what the schema registry's core and its three
// schema types share: the Handler and Schema interfaces, references and
// the Incompatibility that explains a failed compatibility check.
//
// The registry core (internal/registry) resolves references, stores
// Canonical forms, maps compatibility levels to Check calls (BACKWARD:
// Check(new, old); FORWARD: Check(old, new); FULL: both; *_TRANSITIVE:
// against every live earlier version) and renders Incompatibility values
// with old/new in place of reader/writer. The types live in
// internal/registry/schemaavro, schemaproto and schemajson.
package schema
