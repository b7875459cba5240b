// Package protocol is Samsa's Kafka wire framing: reading size-prefixed
// frames, parsing request headers, writing response headers, the client
// side of a request/response exchange with another broker, and a
// zero-copy encoder for Fetch responses.
//
// Request and response bodies are franz-go's kmsg types; this package never
// hand-writes a body except Fetch's, whose record bytes it splices in from
// files (sendfile(2)) or memory instead of copying them into the response.
//
// # Header versions
//
// A request uses header v2 (client id, then tagged fields) when its API
// version is flexible and header v1 (client id only) otherwise. The client id
// is a nullable int16-length string in both. A response uses header v1 (the
// correlation id, then an empty tag section) when flexible and header v0
// otherwise, except ApiVersions, whose response always uses header v0 so
// that a client can read it before it knows which versions the broker has.
//
// # Round trips to other brokers
//
// Conn.RoundTrip is the one path by which a broker sends a request to
// another: replica fetches and OffsetForLeaderEpoch (internal/replication),
// WriteTxnMarkers, AddPartitionsToTxn and the ApiVersions that negotiates
// their versions (internal/broker's inter-broker client). It frames the
// request with kmsg's RequestFormatter (header v1 or v2 as above), runs the
// exchange under the context (its deadline is the socket's; cancelling it
// interrupts the I/O and the context's error is returned), reads the
// response with ReadFrame's size cap, and hands the frame to
// ParseResponse, which checks the correlation id, skips a header v1's
// tagged fields whole (a count, then per field a tag, a size and that many
// bytes, each bounded by the bytes present) and decodes the body with kmsg.
// A Conn carries one exchange at a time; after any failure it is closed and
// refuses further use, since a late or partial response would otherwise be
// read as the next one's. Dialling, version negotiation, pooling and
// reconnecting stay with the callers.
//
// # Reading request frames
//
// The broker reads requests with FrameReader. A frame's size is checked
// against socket.request.max.bytes before anything is allocated. A frame
// of at most KeptFrameBytes (64 KiB) is read into the one small buffer
// each connection keeps, grown to what its frames need. A larger one first takes its size from the
// broker-wide Budget (queued.max.request.bytes; a FIFO byte semaphore: the
// connection waits, as Kafka mutes a channel when its memory pool is
// empty), then is read into a buffer from the broker's BufferPool (large
// power-of-two buffers shared by all connections, bounded in bytes) or, if
// none fits, into one grown as its bytes arrive, from 256 KiB doubling up
// to the frame's size, so at most twice the bytes received are ever
// allocated. After the request, Release returns the buffer to the pool
// (or leaves it to the GC) and the bytes to the budget: an idle connection
// holds no large buffer. ReadFrame, used for responses from other brokers,
// grows its buffer the same way.
//
// # Buffer ownership
//
// ParseRequest parses bodies with kmsg's ReadFrom, which copies strings but
// lets byte fields (notably Produce's records) alias the frame. A frame
// buffer passed back to ReadFrame for reuse, or released by FrameReader
// (whose pool hands it to another connection), must therefore not be
// reused while a request parsed from it is still in use: handlers copy
// what they keep past the request. For the same reason
// RoundTrip reads every response into a fresh frame: a Fetch response's
// records alias it.
//
// # Fetch responses
//
// EncodeFetchResponse lays a Fetch response out as in-memory segments
// interleaved with file ranges; FetchFrame.WriteTo writes the segments with
// writev and the file ranges with sendfile at explicit offsets, so the
// file's shared position is never used and many connections can send from
// one segment file at once. The caller keeps every file descriptor open
// until WriteTo returns. sendfile and writev wait for a socket that does
// not drain in the runtime poller, so the connection's write deadline and
// its Close end them. A file range that turns out shorter than promised
// (the segment was truncated underneath) fails the write part way through a
// frame; the connection must then be closed.
package protocol
