// Command pipeline is the exactly-once consume-transform-produce program of
// test/eos: a franz-go GroupTransactSession reads -in as a member of
// -group (read_committed), and for every record writes "out-"+value with
// the same key to the same partition of -out, committing the consumed
// offsets in the same transaction. It runs until stdin closes or it is
// killed, and prints one JSON line per ended transaction:
// {"committed":true|false,"records":n}.
package main
