// Package clustertest runs the real samsa binary for tests.
//
// Binary builds ./cmd/samsa once per test process. Start launches a single
// node on a free 127.0.0.1 port with a fresh data directory, waits until the
// port answers an ApiVersions request, and registers a t.Cleanup that stops
// it (SIGTERM, then SIGKILL of the whole process group after 20s). Each node
// writes its stdout and stderr to a log file; the log is printed when the test
// fails or when SAMSA_TEST_LOG=1 is set.
//
// A Node can be killed (SIGKILL), stopped (SIGTERM, expecting a clean exit)
// and restarted on the same port and data directory, which is what crash and
// recovery tests need. Client returns a franz-go client seeded with the node.
//
// Set SAMSA_BINARY to a prebuilt binary to skip the build.
//
// In -short mode (go test -short) every test that would start a process
// through this package skips itself: Binary, which every start goes
// through, calls SkipInShort. Tests that run other programs (Java, Python,
// kcat) call SkipInShort themselves.
package clustertest
