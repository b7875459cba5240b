// Package metadata is Samsa's cluster metadata: an immutable Image (cluster
// id, brokers, topics, partitions, dynamic configs, producer id allocation)
// and the Records that change it. It is pure and deterministic: no I/O, no
// clocks, no goroutines. internal/controller orders records through Raft and
// applies them; the broker reads the current Image and reacts to Diff.
//
// # Images
//
// An Image is immutable once published. Image.Apply validates a record
// against the image and returns a new image that shares every unchanged map
// entry, topic, partition and slice with its parent (copy-on-write). A
// record that fails validation changes nothing but the offset, and its error
// (a package sentinel such as ErrTopicExists, wrapped with details) goes back
// to the proposer. Image.Offset is the Raft index of the last applied entry;
// entries without a record advance it through Image.WithOffset.
//
// # Record encoding
//
// A record is encoded as
//
//	byte 0     record type (RecordType; values are permanent)
//	byte 1     record version (this build writes 0, reads 0..0)
//	bytes 2..  one JSON object: the record struct with its json tags
//
// Decoding is strict: unknown types, newer versions, unknown JSON fields
// and trailing bytes are errors (ErrUnknownRecordType,
// ErrUnsupportedVersion, ErrMalformed). To change a record's shape, add the
// field, bump its version and keep reading the old versions; a node never
// silently drops fields written by a newer node. Uuids are JSON strings in
// Kafka's base64url-without-padding form.
//
// # Image encoding
//
// EncodeImage (used for Raft snapshots) writes one version byte (1) and a
// deterministic JSON object; DecodeImage checks its consistency and rebuilds
// the derived fields (TopicsByID, Partition.Topic/TopicID).
package metadata
