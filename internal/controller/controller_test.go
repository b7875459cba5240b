package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func testConfig(t testing.TB, dir string) Config {
	return Config{
		DataDir:      dir,
		NodeID:       1,
		ClusterID:    "test-cluster",
		TickInterval: 10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t testing.TB, cfg Config) *Controller {
	t.Helper()
	c, err := Open(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func closeC(t testing.TB, c *Controller) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func propose(t testing.TB, c *Controller, r metadata.Record) *metadata.Image {
	t.Helper()
	img, err := c.Propose(testCtx(t), r)
	if err != nil {
		t.Fatalf("Propose(%#v): %v", r, err)
	}
	if img == nil {
		t.Fatalf("Propose(%#v) returned a nil image", r)
	}
	return img
}

// content encodes img with its offset zeroed, for comparing images across
// restarts (a new leader's empty entry advances the offset).
func content(t testing.TB, img *metadata.Image) string {
	t.Helper()
	cp := *img
	cp.Offset = 0
	b, err := metadata.EncodeImage(&cp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func registerBrokers(t testing.TB, c *Controller, ids ...int32) {
	for _, id := range ids {
		propose(t, c, metadata.RegisterBroker{ID: id, Host: "localhost", Port: 9090 + id, IncarnationID: metadata.RandomUuid()})
	}
}

func TestOpenSingleVoter(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	if !c.IsLeader() || c.LeaderID() != 1 {
		t.Fatalf("leader=%v id=%d", c.IsLeader(), c.LeaderID())
	}
	img := c.Image()
	if img.ClusterID != "test-cluster" || img.Offset == 0 {
		t.Fatalf("image %+v", img)
	}
}

func TestOpenGeneratesClusterIDAndNodeZero(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.ClusterID = ""
	cfg.NodeID = 0
	c := open(t, cfg)
	if _, err := metadata.ParseUuid(c.Image().ClusterID); err != nil {
		t.Fatalf("generated cluster id %q: %v", c.Image().ClusterID, err)
	}
	if c.LeaderID() != 0 || !c.IsLeader() {
		t.Fatalf("leader %d", c.LeaderID())
	}
}

func TestProposeEveryRecordType(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	registerBrokers(t, c, 1, 2, 3)
	if b := c.Image().Brokers[2]; b == nil || b.Port != 9092 {
		t.Fatalf("broker 2 = %+v", b)
	}
	id := metadata.RandomUuid()
	img := propose(t, c, metadata.CreateTopic{Name: "orders", ID: id, Configs: map[string]string{"retention.ms": "1"}, Assignments: [][]int32{{1, 2}, {2, 3}}})
	if tp := img.Topics["orders"]; tp == nil || tp.ID != id || len(tp.Partitions) != 2 {
		t.Fatalf("topic %+v", tp)
	}
	img = propose(t, c, metadata.CreatePartitions{TopicID: id, Assignments: [][]int32{{3, 1}}})
	if n := len(img.Topics["orders"].Partitions); n != 3 {
		t.Fatalf("%d partitions", n)
	}
	img = propose(t, c, metadata.AlterTopicConfig{TopicID: id, Set: map[string]string{"cleanup.policy": "compact"}, Delete: []string{"retention.ms"}})
	if cfg := img.Topics["orders"].Configs; cfg["cleanup.policy"] != "compact" || cfg["retention.ms"] != "" {
		t.Fatalf("configs %v", cfg)
	}
	img = propose(t, c, metadata.AlterBrokerConfig{BrokerID: metadata.ClusterDefault, Set: map[string]string{"log.retention.ms": "5"}})
	if img.BrokerConfigs[-1]["log.retention.ms"] != "5" {
		t.Fatalf("broker configs %v", img.BrokerConfigs)
	}
	img = propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1000})
	if start := img.NextProducerID - 1000; start != 0 {
		t.Fatalf("block start %d", start)
	}
	img = propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1000})
	if start := img.NextProducerID - 1000; start != 1000 {
		t.Fatalf("block start %d", start)
	}
	img = propose(t, c, metadata.ChangePartition{TopicID: id, Partition: 1, Leader: 3, LeaderEpoch: 1, ISR: []int32{3}})
	if p := img.Topics["orders"].Partitions[1]; p.Leader != 3 || p.LeaderEpoch != 1 || p.PartitionEpoch != 1 {
		t.Fatalf("partition %+v", p)
	}
	img = propose(t, c, metadata.DeleteTopic{ID: id})
	if len(img.Topics) != 0 {
		t.Fatalf("topics %v", img.Topics)
	}
	if got := c.Image(); got.Offset < img.Offset {
		t.Fatalf("Image() offset %d behind proposal's %d", got.Offset, img.Offset)
	}
	_ = propose(t, c, metadata.SetClusterID{ID: "test-cluster"}) // idempotent
}

func TestProposalErrorReachesCaller(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	registerBrokers(t, c, 1)
	propose(t, c, metadata.CreateTopic{Name: "t", ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}})
	before := c.Image()
	img, err := c.Propose(testCtx(t), metadata.CreateTopic{Name: "t", ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}})
	if !errors.Is(err, metadata.ErrTopicExists) || img != nil {
		t.Fatalf("got %v, %v", img, err)
	}
	after := c.Image()
	if after.Offset <= before.Offset || content(t, after) != content(t, before) {
		t.Fatalf("failed record: offset %d -> %d, content changed=%v", before.Offset, after.Offset, content(t, after) != content(t, before))
	}
	for _, tc := range []struct {
		r    metadata.Record
		want error
	}{
		{metadata.DeleteTopic{ID: metadata.RandomUuid()}, metadata.ErrUnknownTopic},
		{metadata.CreatePartitions{TopicID: after.Topics["t"].ID}, metadata.ErrInvalidPartitions},
		{metadata.SetClusterID{ID: "other"}, metadata.ErrClusterIDMismatch},
	} {
		if _, err := c.Propose(testCtx(t), tc.r); !errors.Is(err, tc.want) {
			t.Errorf("Propose(%#v) = %v, want %v", tc.r, err, tc.want)
		}
	}
	// Encoding errors come back before anything is proposed.
	if _, err := c.Propose(testCtx(t), nil); !errors.Is(err, metadata.ErrUnknownRecordType) {
		t.Errorf("nil record: %v", err)
	}
}

func TestRestartReproducesImage(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	c := open(t, cfg)
	registerBrokers(t, c, 1, 2)
	id := metadata.RandomUuid()
	propose(t, c, metadata.CreateTopic{Name: "a", ID: id, Assignments: [][]int32{{1, 2}, {2, 1}}})
	propose(t, c, metadata.CreateTopic{Name: "b", ID: metadata.RandomUuid(), Configs: map[string]string{"x": "y"}, Assignments: [][]int32{{2}}})
	propose(t, c, metadata.ChangePartition{TopicID: id, Partition: 0, Leader: 2, LeaderEpoch: 1, ISR: []int32{2}})
	propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1000})
	want := c.Image()
	closeC(t, c)

	c2 := open(t, cfg)
	got := c2.Image()
	if content(t, got) != content(t, want) {
		t.Fatalf("image after restart differs:\n got %s\nwant %s", content(t, got), content(t, want))
	}
	if got.Offset <= want.Offset {
		t.Fatalf("offset %d, before restart %d (new leader entry expected)", got.Offset, want.Offset)
	}
	if got.TopicsByID[id] == nil || got.NextProducerID != 1000 {
		t.Fatalf("topic id or producer ids lost: %+v", got)
	}
	img := propose(t, c2, metadata.AllocateProducerIDs{BrokerID: 1, Count: 10})
	if img.NextProducerID != 1010 {
		t.Fatalf("NextProducerID %d after restart", img.NextProducerID)
	}
	closeC(t, c2)

	cfg.ClusterID = "another"
	if _, err := Open(testCtx(t), cfg); !errors.Is(err, ErrClusterIDMismatch) {
		t.Fatalf("Open with another cluster id: %v", err)
	}
}

func TestRestartAfterSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.SnapshotEvery = 7
	c := open(t, cfg)
	registerBrokers(t, c, 1)
	ids := map[string]metadata.Uuid{}
	for i := range 40 {
		name := fmt.Sprintf("topic-%d", i)
		ids[name] = metadata.RandomUuid()
		propose(t, c, metadata.CreateTopic{Name: name, ID: ids[name], Assignments: [][]int32{{1}}})
		propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 3})
	}
	want := c.Image()
	closeC(t, c)

	snaps, err := snapFiles(fs.OS(), dir)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshot files %v, %v", snaps, err)
	}
	snap, err := loadLatestSnapshot(fs.OS(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// The WAL holds only what follows the snapshot.
	_, st, err := openWAL(fs.OS(), dir, snap.GetMetadata().GetIndex(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.entries); n >= cfg.SnapshotEvery {
		t.Fatalf("WAL holds %d entries after compaction", n)
	}
	fi, _ := os.Stat(filepath.Join(dir, walFile))
	if fi.Size() > 4096 {
		t.Fatalf("WAL not compacted: %d bytes", fi.Size())
	}

	c2 := open(t, cfg)
	got := c2.Image()
	if content(t, got) != content(t, want) {
		t.Fatalf("image after snapshot restart differs")
	}
	for name, id := range ids {
		if tp := got.Topics[name]; tp == nil || tp.ID != id {
			t.Fatalf("topic %s: %+v", name, tp)
		}
	}
	if got.NextProducerID != 120 {
		t.Fatalf("NextProducerID %d", got.NextProducerID)
	}
	// Keep going across more snapshots and restart once more.
	for range 10 {
		propose(t, c2, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
	}
	want = c2.Image()
	closeC(t, c2)
	c3 := open(t, cfg)
	if content(t, c3.Image()) != content(t, want) {
		t.Fatal("image after second restart differs")
	}
}

// lastEntryFrame returns the byte offset of the last entry frame in the WAL.
func lastEntryFrame(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for off := fileHeaderSize; off < len(data); {
		typ, _, size, ok := readFrame(data[off:])
		if !ok {
			t.Fatalf("bad frame at %d", off)
		}
		if typ == frameEntry {
			last = off
		}
		off += size
	}
	return last
}

func TestTornWALTail(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	walPath := filepath.Join(dir, walFile)
	c := open(t, cfg)
	registerBrokers(t, c, 1)
	for range 5 {
		propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
	}
	closeC(t, c)

	// A few bytes off the end tear the final hard state: every entry
	// survives and is committed again by the next leader.
	fi, _ := os.Stat(walPath)
	if err := os.Truncate(walPath, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	c = open(t, cfg)
	if n := c.Image().NextProducerID; n != 5 {
		t.Fatalf("NextProducerID %d after torn hard state, want 5", n)
	}
	propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}) // 6
	closeC(t, c)

	// Tear the last entry itself (the sixth allocation): the log keeps the
	// prefix before it.
	off := lastEntryFrame(t, walPath)
	if err := os.Truncate(walPath, int64(off+frameHeader+2)); err != nil {
		t.Fatal(err)
	}
	c = open(t, cfg)
	img := c.Image()
	if img.NextProducerID != 5 || img.ClusterID != "test-cluster" || img.Brokers[1] == nil {
		t.Fatalf("after torn entry: next=%d cluster=%q brokers=%v", img.NextProducerID, img.ClusterID, img.Brokers)
	}
	if got := propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}); got.NextProducerID != 6 {
		t.Fatalf("NextProducerID %d", got.NextProducerID)
	}
	want := c.Image()
	closeC(t, c)
	c = open(t, cfg)
	if content(t, c.Image()) != content(t, want) {
		t.Fatal("image differs after reopening a repaired WAL")
	}
}

func TestCorruptWALMiddleIsAnError(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	c := open(t, cfg)
	registerBrokers(t, c, 1)
	for range 3 {
		propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
	}
	closeC(t, c)
	walPath := filepath.Join(dir, walFile)
	data, _ := os.ReadFile(walPath)
	data[fileHeaderSize+frameHeader+2] ^= 0xff // inside the first frame
	if err := os.WriteFile(walPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testCtx(t), cfg); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open on a corrupt WAL: %v", err)
	}
}

func TestConcurrentProposals(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	registerBrokers(t, c, 1)
	const workers, each = 16, 25
	var (
		mu     sync.Mutex
		starts []int64
		wg     sync.WaitGroup
		errs   = make(chan error, workers*each)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				count := int32(w + 1)
				img, err := c.Propose(testCtx(t), metadata.AllocateProducerIDs{BrokerID: 1, Count: count})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				starts = append(starts, img.NextProducerID-int64(count), int64(count))
				mu.Unlock()
				name := fmt.Sprintf("w%d-%d", w, i)
				if _, err := c.Propose(testCtx(t), metadata.CreateTopic{Name: name, ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Blocks are disjoint and tile [0, total).
	type block struct{ start, n int64 }
	var blocks []block
	var total int64
	for i := 0; i < len(starts); i += 2 {
		blocks = append(blocks, block{starts[i], starts[i+1]})
		total += starts[i+1]
	}
	slices.SortFunc(blocks, func(a, b block) int { return int(a.start - b.start) })
	var next int64
	for _, b := range blocks {
		if b.start != next {
			t.Fatalf("producer id blocks overlap or leave a gap at %d (block %+v)", next, b)
		}
		next += b.n
	}
	img := c.Image()
	if img.NextProducerID != total || len(img.Topics) != workers*each {
		t.Fatalf("NextProducerID %d want %d, %d topics", img.NextProducerID, total, len(img.Topics))
	}
}

func TestSubscribe(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	var (
		mu    sync.Mutex
		calls [][2]*metadata.Image
	)
	c.Subscribe(func(old, new *metadata.Image) {
		if c.Image() != new {
			t.Errorf("subscriber ran before the image was published")
		}
		mu.Lock()
		calls = append(calls, [2]*metadata.Image{old, new})
		mu.Unlock()
	})
	registerBrokers(t, c, 1)
	id := metadata.RandomUuid()
	img := propose(t, c, metadata.CreateTopic{Name: "t", ID: id, Assignments: [][]int32{{1}}})
	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 2 {
		t.Fatalf("%d calls", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] != calls[i-1][1] || calls[i][1].Offset <= calls[i][0].Offset {
			t.Fatalf("call %d out of order", i)
		}
	}
	// The proposer returns after its subscribers ran.
	lastNew := calls[len(calls)-1][1]
	if lastNew != img {
		t.Fatalf("last subscriber image at %d, proposal image at %d", lastNew.Offset, img.Offset)
	}
	d := metadata.Diff(calls[len(calls)-1][0], lastNew)
	if len(d.CreatedTopics) != 1 || d.CreatedTopics[0].ID != id {
		t.Fatalf("delta %+v", d)
	}
}

func TestProposeContextCancel(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Propose(ctx, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}

	// Block the loop in a subscriber so the next proposal waits.
	block, entered := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	c.Subscribe(func(_, _ *metadata.Image) {
		once.Do(func() {
			entered <- struct{}{}
			<-block
		})
	})
	first := make(chan error, 1)
	go func() {
		_, err := c.Propose(context.Background(), metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
		first <- err
	}()
	<-entered
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Propose(ctx, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out proposal: %v", err)
	}
	close(block)
	if err := <-first; err != nil {
		t.Fatalf("blocked proposal: %v", err)
	}
	if img := propose(t, c, metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}); img.NextProducerID < 2 {
		t.Fatalf("NextProducerID %d", img.NextProducerID)
	}
}

func TestCloseFailsProposals(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	block, entered := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	c.Subscribe(func(_, _ *metadata.Image) {
		once.Do(func() {
			entered <- struct{}{}
			<-block
		})
	})
	results := make(chan error, 2)
	go func() {
		_, err := c.Propose(context.Background(), metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
		results <- err
	}()
	<-entered
	go func() {
		_, err := c.Propose(context.Background(), metadata.AllocateProducerIDs{BrokerID: 1, Count: 1})
		results <- err
	}()
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	time.Sleep(20 * time.Millisecond)
	close(block)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 2 {
		if err := <-results; err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("pending proposal: %v", err)
		}
	}
	if _, err := c.Propose(context.Background(), metadata.AllocateProducerIDs{BrokerID: 1, Count: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Propose after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c.Image() == nil {
		t.Fatal("Image() nil after Close")
	}
}

func TestConfigValidate(t *testing.T) {
	base := Config{DataDir: "d", NodeID: 1}.Defaults()
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	if base.SnapshotEvery != 10000 || base.TickInterval != 100*time.Millisecond || base.Logger == nil {
		t.Fatalf("defaults %+v", base)
	}
	bad := []func(*Config){
		func(c *Config) { c.DataDir = "" },
		func(c *Config) { c.NodeID = -1 },
		func(c *Config) { c.SnapshotEvery = -1 },
		func(c *Config) { c.TickInterval = -1 },
		func(c *Config) { c.Voters = map[int32]string{2: "h:1"} },
		func(c *Config) { c.Voters = map[int32]string{1: "h:1", 2: "h:2"} }, // no transport
		func(c *Config) { c.Voters = map[int32]string{1: "h:1", 2: ""}; c.Transport = noopTransport{} },
	}
	for i, mod := range bad {
		cfg := base
		mod(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("case %d validated", i)
		}
	}
	if _, err := Open(context.Background(), Config{}); err == nil {
		t.Error("Open with an empty config succeeded")
	}
}
