// Package e2e holds end-to-end tests of the samsa binary over real TCP:
// hostile input on the wire, durability across kill -9, storage identity
// and shutdown. They start the real binary through internal/clustertest.
package e2e
