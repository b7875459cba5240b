// Package broker is Samsa's Kafka front end: the listener, one goroutine per
// connection, and one file per API key (NN_name.go) holding the handler and
// the version range it registers.
//
// A connection reads a frame, decodes it with kmsg, runs the handler and
// writes the response before reading the next frame, so responses leave in
// request order, as Kafka's muted channels guarantee. A panic in a handler is
// recovered, logged and closes only that connection.
//
// Connections (listen.go, conn.go): Serve accepts until its listener
// closes; an accept error (EMFILE, ENFILE, …) is logged and retried after
// a backoff growing to 1 s. A new connection past max.connections (the
// replication listener, ServeInterBroker, is exempt) or
// max.connections.per.ip (and its overrides) is closed at once, logged at
// most every 10 s. A connection waits at most connections.max.idle.ms for
// its next request, for a request's body and for its response to be
// written (sendfile included); then it is closed. Requests are read
// through protocol.FrameReader with the broker's queued.max.request.bytes
// budget and a 64 MiB pool of large buffers shared by all connections;
// after a burst, dropped buffers are handed back to the OS once no large
// request is in flight. When Serve stops, idle connections close at once
// and busy ones may finish their request for 5 s; then their sockets are
// closed, abandoning responses their clients do not read. Every connection
// goroutine is owned by the broker and waited for by Serve.
//
// Handlers read the cluster image from the controller (an atomic pointer to
// an immutable image) and change metadata only by proposing records to it.
// Partition data goes through partition.Manager.
//
// Schema validation (schema_validation.go): a topic with
// samsa.schema.validation set to key, value or both has every produced
// record's key and/or value checked by the SchemaValidator given in
// Config.SchemaValidator or installed later with SetSchemaValidator,
// against the subjects <topic>-key and <topic>-value, during the
// partition's own record validation; a failing record refuses its batch
// with INVALID_RECORD.
package broker
