// Package file holds Samsa's FileStream connectors, which behave and are
// configured as Apache Kafka's connect-file ones
// (org.apache.kafka.connect.file.FileStreamSourceConnector and
// FileStreamSinkConnector, aliases FileStreamSource and FileStreamSink).
//
// The source reads lines (ended by \n, \r\n or \r) from `file`, or from
// the worker's standard input when `file` is not set, and produces each
// as a STRING record to `topic`, at most `batch.size` per poll. Its
// offsets have Kafka's format: source partition {"filename": <file>},
// offset {"position": <byte offset after the line>} (both null for
// standard input, whose position is not tracked), so a Java worker and a
// Samsa worker resume each other's files (positions count bytes; Java
// counts characters, the same for ASCII). It supports exactly-once
// delivery when it reads a real file. One difference from Java's task:
// complete lines already read past a full batch come with the next poll,
// where Java's wait until the file grows.
//
// The sink appends the value of every record it receives, one per line
// and rendered like Java's toString, to `file` (created when missing), or
// to the worker's standard output. Which topics it reads is the
// runtime's `topics` / `topics.regex`.
//
// Concurrency: a task is used by one goroutine, except Stop, which may
// be called from another and makes a waiting Poll return. The standard
// output writer given to Plugins is shared by every task: it must be
// safe for concurrent use; each task writes whole lines per Write call.
package file
