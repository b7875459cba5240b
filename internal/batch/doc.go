// Package batch reads, validates and rewrites Kafka record batches (magic v2)
// without copying their records on the hot path.
//
// A batch travels through Samsa as the bytes the producer sent. The broker
// validates the 61-byte header and the CRC-32C (Validate), the header rules
// for producers (CheckProduced), and every record (ValidateRecords, as
// Kafka's LogValidator): the record count, offset deltas 0..n-1, each
// record's varint structure bounded by the bytes present, keys on compacted
// topics, and timestamps. Uncompressed records are walked in place without
// allocating; compressed ones are streamed through pooled codec readers and
// a 64 KiB window, with the decompressed size capped, so validation never
// holds a whole decompressed batch. Validation only reads: the broker then
// patches only the fields that lie before the CRC-covered range (base offset
// and partition leader epoch), so the stored bytes stay byte-identical to
// the client's otherwise. Records are decoded into memory only where Kafka
// semantics require a rewrite: recompression to a topic's compression.type,
// LogAppendTime and max-timestamp rewrites, and log recovery. A caller that
// checks every record itself (ValidateOptions.Check: schema validation)
// gets each one decoded in place during the same walk; only a record larger
// than the window is copied out for it.
//
// Wire and disk format: Kafka's record batch v2 (header.go, records.go) and
// the codecs' framings (compression.go). Everything here is safe for
// concurrent use; the codec readers, writers and validation windows are
// pooled.
package batch
