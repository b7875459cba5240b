// Package broker is Samsa's Kafka front end: the listener, one goroutine per
// connection, and one file per API key (NN_name.go) holding the handler and
// the version range it registers.
//
// A connection reads a frame, decodes it with kmsg, runs the handler and
// writes the response before reading the next frame, so responses leave in
// request order, as Kafka's muted channels guarantee. A panic in a handler is
// recovered, logged and closes only that connection.
//
// Handlers read the cluster image from the controller (an atomic pointer to
// an immutable image) and change metadata only by proposing records to it.
// Partition data goes through partition.Manager.
package broker
