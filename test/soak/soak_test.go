package soak_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// rssLimitMiB is the bound on the broker's resident memory during the
// soak. The hostile clients together send well over a gigabyte (15 MiB
// requests held on 24 idle connections at a time, 90 MiB announced frames,
// 30 MiB fetches left unread): a broker that kept request buffers per
// connection or allocated frames at their announced size would pass it
// within seconds.
const rssLimitMiB = 256

// config keeps the group responsive and idle connections short-lived.
const config = `group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=3
`

func duration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SAMSA_SOAK_DURATION")
	if v == "" {
		return 20 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("SAMSA_SOAK_DURATION=%q: %v", v, err)
	}
	return d
}

// TestHostileSoak is the soak: see the package doc.
func TestHostileSoak(t *testing.T) {
	d := duration(t)
	n := clustertest.Start(t, clustertest.Options{Config: config})
	pid := n.PID()
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()

	const topic = "soak"
	createTopics(ctx, t, n, map[string]int32{topic: 3, "soak-big": 1, "soak-churn": 1})
	fillBig(ctx, t, n, "soak-big", 24<<20)

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, []string{n.Addr}, h, clustertest.ProducerOptions{
		Topic: topic, Partitions: []int32{0, 1, 2}, Interval: 5 * time.Millisecond,
	})
	cons := clustertest.StartGroupConsumer(t, []string{n.Addr}, h, clustertest.ConsumerOptions{Group: "soak-group", Topic: topic})

	rss := watchRSS(t, pid)
	hostile := startHostile(t, n.Addr)
	time.Sleep(d)
	hostile.stop()

	if err := prod.Stop(30 * time.Second); err != nil {
		t.Errorf("producer: %v", err)
	}
	acked := prod.Acked()
	waitSeen(ctx, t, cons, acked)
	cons.Stop()
	maxRSS := rss.stop()

	if !n.Running() || n.PID() != pid {
		t.Fatalf("the broker restarted or died during the soak (pid %d → %d)", pid, n.PID())
	}
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	final, err := clustertest.ReadAll(rctx, []string{n.Addr}, topic, false)
	rcancel()
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	h.SetFinal(final)
	r := h.Verify(t)
	checkOnceInOrder(t, h.Reads(), "group")
	if len(h.Errors()) > 0 {
		t.Errorf("the well-behaved producer saw %d errors, first: %v", len(h.Errors()), h.Errors()[0].Err)
	}
	if maxRSS > rssLimitMiB {
		t.Errorf("broker RSS reached %d MiB, over the %d MiB bound", maxRSS, rssLimitMiB)
	}
	t.Logf("%v soak: %s; consumer saw %d; broker peak RSS %d MiB (bound %d); hostile: %s",
		d, r.Summary(), cons.Seen(), maxRSS, rssLimitMiB, hostile.summary())
}

func createTopics(ctx context.Context, t *testing.T, n *clustertest.Node, topics map[string]int32) {
	t.Helper()
	adm := kadm.NewClient(n.Client(t))
	var names []string
	for name, parts := range topics {
		names = append(names, name)
		resp, err := adm.CreateTopic(ctx, parts, 1, map[string]*string{"max.message.bytes": kadm.StringPtr("1048588")}, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if err := clustertest.WaitLeaders(ctx, []string{n.Addr}, 30*time.Second, names...); err != nil {
		t.Fatal(err)
	}
}

// fillBig writes size bytes of 512 KiB records, for the slow readers.
func fillBig(ctx context.Context, t *testing.T, n *clustertest.Node, topic string, size int) {
	t.Helper()
	cl := n.Client(t, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(1<<20))
	v := make([]byte, 512<<10)
	for i := 0; i < size/len(v); i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatalf("fill %s: %v", topic, err)
		}
	}
}

// waitSeen waits until the group consumer has seen every acknowledged
// record (it may see a few unacknowledged ones too).
func waitSeen(ctx context.Context, t *testing.T, cons *clustertest.Consumer, acked int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for cons.Seen() < acked {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Errorf("the group consumer saw %d records of %d acknowledged", cons.Seen(), acked)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOnceInOrder checks one consumer's reads: no offset twice, offsets
// increasing per partition. The broker never restarts and the group never
// rebalances after the start, so there is no legitimate redelivery.
func checkOnceInOrder(t *testing.T, reads []clustertest.Read, source string) {
	t.Helper()
	last := map[int32]int64{}
	bad := 0
	for _, r := range reads {
		if r.Source != source {
			continue
		}
		if prev, ok := last[r.Partition]; ok && r.Offset <= prev {
			if bad++; bad <= 5 {
				t.Errorf("%s read partition %d offset %d after offset %d", source, r.Partition, r.Offset, prev)
			}
		}
		last[r.Partition] = r.Offset
	}
	if bad > 5 {
		t.Errorf("... %d out-of-order or repeated reads in all", bad)
	}
}

// rssWatch samples a process's VmRSS every 200 ms until stop.
type rssWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	max    atomic.Int64
}

func watchRSS(t *testing.T, pid int) *rssWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &rssWatch{cancel: cancel, done: make(chan struct{})}
	go func() { // owned by w; stopped by stop (cancel), waited via done
		defer close(w.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if mib, err := rssMiB(pid); err == nil && mib > w.max.Load() {
				w.max.Store(mib)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *rssWatch) stop() int64 {
	w.cancel()
	<-w.done
	return w.max.Load()
}

func rssMiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// hostile runs the bad clients, each kind in its own goroutine, until
// stop; every goroutine is waited by stop.
type hostile struct {
	addr   string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	counts sync.Map // kind → *atomic.Int64
}

func startHostile(t *testing.T, addr string) *hostile {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &hostile{addr: addr, ctx: ctx, cancel: cancel}
	kinds := map[string]func(*rand.Rand){
		"garbage":        h.garbage,
		"half-frame":     h.halfFrame,
		"slow-reader":    h.slowReader,
		"huge-request":   h.hugeRequest,
		"huge-announced": h.hugeAnnounced,
		"flood":          h.flood,
		"pid-churn":      h.pidChurn,
		"internal-write": h.internalWrite,
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("hostile clients seed %d", seed)
	i := uint64(0)
	for kind, f := range kinds {
		i++
		rng := rand.New(rand.NewPCG(seed, i))
		h.wg.Go(func() {
			c := &atomic.Int64{}
			h.counts.Store(kind, c)
			for h.ctx.Err() == nil {
				f(rng)
				c.Add(1)
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

func (h *hostile) stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *hostile) summary() string {
	var parts []string
	h.counts.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%s×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	return strings.Join(parts, " ")
}

// sleep waits d or until the soak ends.
func (h *hostile) sleep(d time.Duration) {
	select {
	case <-h.ctx.Done():
	case <-time.After(d):
	}
}

func (h *hostile) dial() net.Conn {
	c, err := net.DialTimeout("tcp", h.addr, 2*time.Second)
	if err != nil {
		h.sleep(50 * time.Millisecond) // refused or over a limit: try later
		return nil
	}
	context.AfterFunc(h.ctx, func() { c.Close() })
	return c
}

// frame is a request framed as a client frames it (size prefix, header
// v1/v2), by kmsg's formatter.
func frame(req kmsg.Request, corr int32) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("soak")).AppendRequest(nil, req, corr)
}

func (h *hostile) garbage(rng *rand.Rand) {
	c := h.dial()
	if c == nil {
		return
	}
	defer c.Close()
	b := make([]byte, rng.IntN(4096)+1)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	c.Write(b)
	h.sleep(20 * time.Millisecond)
}

// halfFrame announces a frame and sends part of it, then idles.
func (h *hostile) halfFrame(rng *rand.Rand) {
	c := h.dial()
	if c == nil {
		return
	}
	defer c.Close()
	b := frame(kmsg.NewPtrMetadataRequest(), 1)
	c.Write(b[:4+rng.IntN(len(b)-4)])
	h.sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
}

// slowReader asks for 30 MB and never reads the answer.
func (h *hostile) slowReader(rng *rand.Rand) {
	c := h.dial()
	if c == nil {
		return
	}
	defer c.Close()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MaxBytes = 30 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "soak-big"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 30 << 20
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	c.Write(frame(req, 1))
	h.sleep(time.Duration(1000+rng.IntN(4000)) * time.Millisecond)
}

// hugeRequest sends a whole 15 MiB Produce (a batch with a bad CRC) on
// each of 24 connections, then keeps them idle: the broker must not keep
// the request buffers (24 × 15 MiB is 360 MiB).
func (h *hostile) hugeRequest(rng *rand.Rand) {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = 1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "soak-churn"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = make([]byte, 15<<20)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	b := frame(req, 1)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 24 {
		c := h.dial()
		if c == nil {
			return
		}
		conns = append(conns, c)
		c.Write(b)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.CopyN(io.Discard, c, 4)
	}
	h.sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)
}

// hugeAnnounced announces a 90 MiB frame and sends 1 MiB of it.
func (h *hostile) hugeAnnounced(rng *rand.Rand) {
	c := h.dial()
	if c == nil {
		return
	}
	defer c.Close()
	b := make([]byte, 1<<20)
	binary.BigEndian.PutUint32(b, 90<<20)
	binary.BigEndian.PutUint16(b[4:], uint16(kmsg.Produce))
	binary.BigEndian.PutUint16(b[6:], 9)
	c.Write(b)
	h.sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
}

// flood opens 200 connections at once and holds them a moment.
func (h *hostile) flood(rng *rand.Rand) {
	var conns []net.Conn
	for range 200 {
		if c := h.dial(); c != nil {
			conns = append(conns, c)
		}
	}
	h.sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	h.sleep(200 * time.Millisecond)
}

// pidChurn starts a fresh idempotent producer (a new producer id) for one
// record, then drops it.
func (h *hostile) pidChurn(*rand.Rand) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.addr), kgo.DefaultProduceTopic("soak-churn"), kgo.RequestTimeoutOverhead(3*time.Second))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	cl.ProduceSync(ctx, &kgo.Record{Value: []byte("churn")})
}

// internalWrite produces straight to __consumer_offsets and
// __transaction_state: a well-formed batch and a gzip-flagged garbage one.
func (h *hostile) internalWrite(rng *rand.Rand) {
	c := h.dial()
	if c == nil {
		return
	}
	defer c.Close()
	for i, topic := range []string{"__consumer_offsets", "__transaction_state"} {
		req := kmsg.NewPtrProduceRequest()
		req.Version = 9
		req.Acks = 1
		req.TimeoutMillis = 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = int32(rng.IntN(3))
		rp.Records = batch(rng.IntN(2) == 0, rng)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		c.Write(frame(req, int32(i)))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var size [4]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(size[:])))
	}
	h.sleep(50 * time.Millisecond)
}

// batch is a record batch v2 with a correct CRC: one record with a key
// and a value, or (garbage) the gzip attribute over random bytes.
func batch(garbage bool, rng *rand.Rand) []byte {
	b := kmsg.RecordBatch{Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, PartitionLeaderEpoch: -1}
	now := time.Now().UnixMilli()
	b.FirstTimestamp, b.MaxTimestamp = now, now
	if garbage {
		b.Attributes = 1 // gzip
		b.Records = make([]byte, 40)
		for i := range b.Records {
			b.Records[i] = byte(rng.Uint32())
		}
	} else {
		r := kmsg.Record{Key: []byte("k"), Value: []byte("v")}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the one-byte varint of Length 0
		b.Records = r.AppendTo(nil)
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}
