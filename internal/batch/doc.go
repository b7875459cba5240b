// Package batch reads, validates and rewrites Kafka record batches (magic v2)
// without decoding their records on the hot path.
//
// A batch travels through Samsa as the bytes the producer sent. The broker
// validates the 61-byte header and the CRC-32C, then patches only the fields
// that lie before the CRC-covered range (base offset and partition leader
// epoch), so the stored bytes stay byte-identical to the client's otherwise.
// Records are decoded only where Kafka semantics require it: recompression to
// a topic's compression.type, LogAppendTime rewrites, and log recovery.
package batch
