//go:build linux

package hardening

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Connection pressure and bounded memory (issue #11 items 2 and 5), on the
// real binary over raw TCP. Memory is read from /proc/<pid>/status.

func connStart(t *testing.T, config string) *clustertest.Node {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	// The node's own services (schema registry, REST proxy) are Kafka
	// clients from 127.0.0.1 too and would take connection slots, as they
	// would on Kafka: these tests count only their own connections.
	return clustertest.Start(t, clustertest.Options{Config: config, Args: []string{"--registry-listen", "none", "--rest-listen", "none"}})
}

// connMemKiB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func connMemKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func connDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connFrame encodes req as a client does, size prefix included.
func connFrame(req kmsg.Request, corr int32) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("conns-test")).AppendRequest(nil, req, corr)
}

// connRoundTrip writes a request frame and reads one response frame,
// returning its body after the correlation id (and any error).
func connRoundTrip(c net.Conn, frame []byte, timeout time.Duration) ([]byte, error) {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	return body[4:], nil
}

// connAPIVersions reports whether c answers ApiVersions v0.
func connAPIVersions(c net.Conn) error {
	req := kmsg.NewPtrApiVersionsRequest()
	_, err := connRoundTrip(c, connFrame(req, 1), 5*time.Second)
	return err
}

func connCreateTopic(t *testing.T, n *clustertest.Node, topic string, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(n.Client(t)).CreateTopic(ctx, 1, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// connProduceFrame is a Produce v9 (acks=1) of one batch holding one
// record of size bytes to partition 0 of topic.
func connProduceFrame(t *testing.T, topic string, size int, corr int32) []byte {
	t.Helper()
	value := bytes.Repeat([]byte{byte(corr)}, size)
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: value}}, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = 1
	req.TimeoutMillis = 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return connFrame(req, corr)
}

// connProduceOK checks a Produce v9 response body: partition 0 without error.
func connProduceOK(body []byte) error {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 9
	if err := resp.ReadFrom(append([]byte{}, body[1:]...)); err != nil { // skip the header's tag section
		return err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return fmt.Errorf("produce response %+v", resp)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		return fmt.Errorf("produce error code %d", code)
	}
	return nil
}

// TestConnIdleLargeRequestsBoundedRSS: 40 connections each produce one
// 15 MiB batch, concurrently, then sit idle. The request budget
// (queued.max.request.bytes=64 MiB) bounds how many bodies are held at
// once; no connection keeps its 15 MiB buffer once idle (before, 40 such
// connections held ~600 MiB). Bounds: peak RSS < 400 MiB, idle RSS
// < 200 MiB.
func TestConnIdleLargeRequestsBoundedRSS(t *testing.T) {
	n := connStart(t, "queued.max.request.bytes=67108864\n")
	const topic, conns, size = "conn-large", 40, 15 << 20
	connCreateTopic(t, n, topic, map[string]*string{"max.message.bytes": kadm.StringPtr("16777216"), "segment.bytes": kadm.StringPtr("104857600"), "retention.bytes": kadm.StringPtr("209715200")})
	pid := n.PID()
	base := connMemKiB(t, pid, "VmRSS")
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		c := connDial(t, n.Addr)
		wg.Go(func() {
			body, err := connRoundTrip(c, connProduceFrame(t, topic, size, int32(i)), 120*time.Second)
			if err == nil {
				err = connProduceOK(body)
			}
			if err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peak := connMemKiB(t, pid, "VmHWM")
	time.Sleep(3 * time.Second) // idle
	idle := connMemKiB(t, pid, "VmRSS")
	t.Logf("RSS: %d MiB before, peak %d MiB, %d MiB with %d idle connections that each sent %d MiB", base>>10, peak>>10, idle>>10, conns, size>>20)
	if peak > 400<<10 {
		t.Errorf("peak RSS %d MiB, want < 400 MiB", peak>>10)
	}
	if idle > 200<<10 {
		t.Errorf("idle RSS %d MiB, want < 200 MiB", idle>>10)
	}
}

// TestConnAnnouncedFrameNotAllocated: connections that announce a 100 MiB
// frame and send 10 bytes of it, then idle, do not raise the broker's RSS
// (the buffer grows only as bytes arrive); a normal client is still
// served meanwhile.
func TestConnAnnouncedFrameNotAllocated(t *testing.T) {
	n := connStart(t, "")
	pid := n.PID()
	base := connMemKiB(t, pid, "VmRSS")
	for range 20 {
		c := connDial(t, n.Addr)
		hdr := binary.BigEndian.AppendUint32(nil, 100<<20)
		if _, err := c.Write(append(hdr, make([]byte, 10)...)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	if err := connAPIVersions(connDial(t, n.Addr)); err != nil {
		t.Fatalf("a normal client beside the stalled frames: %v", err)
	}
	after := connMemKiB(t, pid, "VmRSS")
	t.Logf("RSS %d MiB before, %d MiB with 20 connections each announcing 100 MiB", base>>10, after>>10)
	if after-base > 32<<10 {
		t.Errorf("RSS grew by %d MiB for 200 bytes received", (after-base)>>10)
	}
}

// TestConnPerIPLimit: with max.connections.per.ip=10 the 11th connection
// from 127.0.0.1 is closed at once while the first ten work; once one of
// them closes, a new one is served.
func TestConnPerIPLimit(t *testing.T) {
	n := connStart(t, "max.connections.per.ip=10\n")
	// The harness's readiness probe may still be closing: wait for its slot.
	time.Sleep(500 * time.Millisecond)
	var first []net.Conn
	for i := range 10 {
		c := connDial(t, n.Addr)
		if err := connAPIVersions(c); err != nil {
			t.Fatalf("connection %d of 10: %v", i+1, err)
		}
		first = append(first, c)
	}
	if err := connAPIVersions(connDial(t, n.Addr)); err == nil {
		t.Fatal("the 11th connection was served")
	}
	for i, c := range first {
		if err := connAPIVersions(c); err != nil {
			t.Fatalf("connection %d after the refusal: %v", i+1, err)
		}
	}
	first[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for connAPIVersions(connDial(t, n.Addr)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no new connection served after one of the ten closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConnIdleClosed: with connections.max.idle.ms=2000 a connection that
// sends nothing after its last request is closed after about 2 s.
func TestConnIdleClosed(t *testing.T) {
	n := connStart(t, "connections.max.idle.ms=2000\n")
	c := connDial(t, n.Addr)
	if err := connAPIVersions(c); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err := c.Read(make([]byte, 1))
	took := time.Since(start)
	if err != io.EOF || took < 1500*time.Millisecond || took > 6*time.Second {
		t.Fatalf("idle connection: %v after %v, want EOF after about 2 s", err, took)
	}
}

// connSetNoFile sets the open-file limit of process pid (prlimit(2)).
func connSetNoFile(t *testing.T, pid int, limit uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = limit // the hard limit stays: raising it back needs privilege
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		t.Fatalf("prlimit %d: %v", pid, e)
	}
}

func connOpenFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestConnEMFILE: the broker, out of file descriptors, cannot accept; it
// logs, keeps running, and serves again once connections close.
func TestConnEMFILE(t *testing.T) {
	n := connStart(t, "")
	pid := n.PID()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	connSetNoFile(t, pid, uint64(connOpenFDs(t, pid)+8))
	var flood []net.Conn
	for range 40 {
		c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err) // the kernel completes the handshake into the backlog
		}
		flood = append(flood, c)
	}
	late := connDial(t, n.Addr)
	if err := connAPIVersions(late); err == nil {
		t.Fatal("a connection past the descriptor limit was served")
	}
	time.Sleep(time.Second)
	if !n.Running() {
		t.Fatal("the broker exited on EMFILE")
	}
	for _, c := range flood {
		c.Close()
	}
	deadline := time.Now().Add(15 * time.Second)
	for connAPIVersions(connDial(t, n.Addr)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("not serving 15 s after the connections closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	connSetNoFile(t, pid, lim.Cur) // for a clean stop
	log, _ := os.ReadFile(n.LogPath)
	if !bytes.Contains(log, []byte("accept failed")) {
		t.Error("no accept failure logged")
	}
}

const (
	connSlowTopic   = "conn-slow"
	connSlowRecords = 30
	connSlowSize    = 1000 << 10
)

// connSlowFetch writes 30 records of ~1 MB to a new topic, then sends a
// Fetch for all of them on a connection that reads only the answer's size:
// the broker is left blocked writing ~30 MB.
func connSlowFetch(t *testing.T, n *clustertest.Node) {
	t.Helper()
	const topic, records, size = connSlowTopic, connSlowRecords, connSlowSize
	connCreateTopic(t, n, topic, nil)
	cl := n.Client(t, kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range records {
		v := bytes.Repeat([]byte{byte(i)}, size)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()

	c := connDial(t, n.Addr)
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.MaxBytes = 64 << 20
	req.MinBytes = 1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 64 << 20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	if _, err := c.Write(connFrame(req, 1)); err != nil {
		t.Fatal(err)
	}
	var prefix [4]byte
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, prefix[:]); err != nil {
		t.Fatal(err)
	}
	if n := binary.BigEndian.Uint32(prefix[:]); n < records*size {
		t.Fatalf("fetch answer of %d bytes, want all %d records", n, records)
	}
	time.Sleep(time.Second) // the broker is now blocked writing the answer

}

// TestConnSlowReaderSIGTERM: a client sends a Fetch for 30 MB and never
// reads the answer; SIGTERM still stops the broker within a few seconds,
// cleanly, and the data is intact after a restart.
func TestConnSlowReaderSIGTERM(t *testing.T) {
	n := connStart(t, "")
	const topic, records, size = connSlowTopic, connSlowRecords, connSlowSize
	connSlowFetch(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	n.Stop() // SIGTERM; fails the test on a non-zero exit
	took := time.Since(start)
	t.Logf("stopped %v after SIGTERM with an unread 30 MB fetch", took)
	if took > 10*time.Second {
		t.Errorf("stop took %v, want a few seconds", took)
	}
	n.Restart(t)
	cons := n.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < records {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("after restart: %d of %d records", got, records)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Value) != size || r.Value[0] != byte(got) || r.Value[size-1] != byte(got) {
				t.Fatalf("record %d: %d bytes, first %d", got, len(r.Value), r.Value[0])
			}
			got++
		})
	}
}

// TestConnSecondSignalExits: while the first SIGTERM's clean stop waits
// on a client that does not read, a second SIGTERM ends the process at
// once.
func TestConnSecondSignalExits(t *testing.T) {
	n := connStart(t, "")
	connSlowFetch(t, n)
	pid := n.PID()
	syscall.Kill(pid, syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if !n.Running() {
		t.Fatal("exited on the first SIGTERM although a response was being written (grace)")
	}
	start := time.Now()
	syscall.Kill(pid, syscall.SIGTERM)
	for n.Running() {
		if time.Since(start) > 2*time.Second {
			t.Fatal("still running 2 s after the second SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("exited %v after the second SIGTERM", time.Since(start))
	n.Kill() // reap; the exit was not clean
}
