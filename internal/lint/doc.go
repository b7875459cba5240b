// Package lint holds Samsa's house rules as a Go test, in the style of
// pebble's internal/lint: `go test ./internal/lint/` parses and type-checks
// the module and fails on a broken rule, naming the file and line.
//
// The rules (CONTRIBUTING.md explains why each exists):
//
//   - Layering. Nothing imports internal/broker but internal/node (the
//     composition root). Services and libraries users import (packages
//     outside internal/, and the service packages listed in servicePkgs)
//     reach the broker only as Kafka clients: they import no broker
//     internal. cmd/ imports the broker only through internal/node.
//     internal/txn does not import internal/group.
//   - Storage I/O. Storage packages touch files only through internal/fs:
//     no os.Open, os.Create, os.Rename, os.Remove, os.ReadDir, … there.
//   - ctx first. A function that takes a context.Context takes it as its
//     first parameter.
//   - Wrapping. fmt.Errorf with an error argument uses %w, so errors.Is
//     and errors.As see through it.
//   - Layout. Every package has a doc.go; no util, common, helpers or base
//     packages; no file over 1,500 lines.
//   - Honest tests. No t.Skip because a capability is "not served yet": a
//     missing feature fails.
//
// The package has no non-test code besides this file.
package lint
