// Package plugins registers Samsa Connect's built-in connectors in a
// connect.Registry: the FileStream source and sink (package file),
// Kafka's Verifiable test connectors (package verifiable), the data
// generator (package datagen) and the HTTP sink (package httpsink). The
// PostgreSQL connectors live in plugins/postgres.
//
// Register uses the process's standard input and output; RegisterWith
// takes them from Options so a worker (or a test) can capture what the
// file sink and the verifiable connectors print. Every task of every
// connector shares the one output, behind a mutex; each Write holds
// whole lines.
//
// Writing another connector is described in docs/connect-plugins.md.
package plugins
