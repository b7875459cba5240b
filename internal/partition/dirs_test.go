package partition

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// The file Kafka writes, byte for byte (a topic id from Kafka's own
// KRaftClusterTest, which writes this text into partition.metadata).
func TestPartitionMetadataKafkaFormat(t *testing.T) {
	const kafka = "version: 0\ntopic_id: AAAAAAAAAAAAA7SrBWaJ7g\n"
	id, err := DecodePartitionMetadata([]byte(kafka))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(EncodePartitionMetadata(id)); got != kafka {
		t.Fatalf("round trip: %q, want %q", got, kafka)
	}
	for _, bad := range []string{
		"", "version: 0\n", "version: x\ntopic_id: AAAAAAAAAAAAA7SrBWaJ7g\n",
		"version: -1\ntopic_id: AAAAAAAAAAAAA7SrBWaJ7g\n", "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n",
		"version: 0\ntopic: AAAAAAAAAAAAA7SrBWaJ7g\n", "version: 0\ntopic_id: AAAAAAAAAAAAA7SrBWaJ7g\nextra: 1\n",
	} {
		if _, err := DecodePartitionMetadata([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestStrayDirName(t *testing.T) {
	name := StrayDirName("orders", 3)
	if !regexp.MustCompile(`^orders-3\.[0-9a-f]{32}-stray$`).MatchString(name) {
		t.Fatalf("stray name %q is not Kafka's <topic>-<partition>.<uuid>-stray", name)
	}
	long := StrayDirName(strings.Repeat("t", 249), 12345)
	if len(long) > 255 || !strings.HasSuffix(long, "-stray") {
		t.Fatalf("long stray name %d bytes: %q", len(long), long)
	}
	if _, ok := ParseDirName(name); ok {
		t.Fatal("a stray directory parsed as a live partition")
	}
	if k, ok := ParseDirName("my-topic-7"); !ok || k != (Key{"my-topic", 7}) {
		t.Fatalf("ParseDirName: %v %v", k, ok)
	}
}

var strayNow = time.UnixMilli(1_700_000_000_000)

type strayEnv struct {
	t   *testing.T
	dir string
	m   *Manager
}

func newStrayEnv(t *testing.T, dir string) *strayEnv {
	bc := config.Broker{}.Defaults()
	m, err := NewManager(ManagerOptions{DataDir: dir, NodeID: 1, Broker: &bc, FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: &fakeClock{strayNow}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &strayEnv{t: t, dir: dir, m: m}
}

// strayImage has one single-replica partition on broker 1 per topic.
func strayImage(topics map[string]metadata.Uuid) *metadata.Image {
	img := &metadata.Image{Topics: map[string]*metadata.Topic{}, BrokerConfigs: map[int32]map[string]string{}}
	for name, id := range topics {
		img.Topics[name] = &metadata.Topic{Name: name, ID: id, Partitions: []*metadata.Partition{
			{Topic: name, TopicID: id, Index: 0, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1},
		}}
	}
	return img
}

func (e *strayEnv) sync(img *metadata.Image, first bool) {
	e.t.Helper()
	if err := e.m.Sync(context.Background(), img, first); err != nil {
		e.t.Fatal(err)
	}
}

func (e *strayEnv) produce(topic string, n int) {
	e.t.Helper()
	p, ok := e.m.Get(topic, 0)
	if !ok {
		e.t.Fatalf("%s-0 not open", topic)
	}
	for i := range n {
		b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: fmt.Appendf(nil, "v%d", i)}}, batch.BuildOptions{BaseTimestamp: strayNow.UnixMilli()})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := p.Append(b, 1); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *strayEnv) strays() []string {
	ents, _ := os.ReadDir(e.dir)
	var out []string
	for _, en := range ents {
		if strings.HasSuffix(en.Name(), StraySuffix) {
			out = append(out, en.Name())
		}
	}
	return out
}

// A recreated topic (same name, new id) never adopts the old log: the old
// directory is set aside, with its bytes, and the new topic starts empty.
// A directory the image does not know is set aside too, never removed.
func TestStrayByTopicIDAndRecreatedTopic(t *testing.T) {
	dir := t.TempDir()
	oldID, newID := metadata.RandomUuid(), metadata.RandomUuid()
	e := newStrayEnv(t, dir)
	e.sync(strayImage(map[string]metadata.Uuid{"orders": oldID, "gone": metadata.RandomUuid()}), true)
	e.produce("orders", 3)
	e.produce("gone", 2)
	b, err := os.ReadFile(filepath.Join(dir, "orders-0", PartitionMetadataFile))
	if err != nil || string(b) != string(EncodePartitionMetadata(oldID)) {
		t.Fatalf("partition.metadata: %q %v", b, err)
	}
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart with an image where "orders" has a new id and "gone" is unknown.
	e = newStrayEnv(t, dir)
	e.sync(strayImage(map[string]metadata.Uuid{"orders": newID}), true)
	p, ok := e.m.Get("orders", 0)
	if !ok || p.LogEndOffset() != 0 || p.TopicID != newID {
		t.Fatalf("recreated topic: open %v, log end %d, id %v", ok, p.LogEndOffset(), p.TopicID)
	}
	strays := e.strays()
	if len(strays) != 2 || e.m.Strays() != 2 {
		t.Fatalf("strays %v (counted %d), want orders-0 and gone-0 set aside", strays, e.m.Strays())
	}
	for _, s := range strays {
		id, ok, err := readTopicID(fs.OS(), filepath.Join(dir, s))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", s, ok, err)
		}
		if strings.HasPrefix(s, "orders-0.") && id != oldID {
			t.Fatalf("%s holds %v, want the old id", s, id)
		}
		segs, _ := filepath.Glob(filepath.Join(dir, s, "*.log"))
		if st, err := os.Stat(segs[0]); err != nil || st.Size() == 0 {
			t.Fatalf("%s lost its records: %v", s, err)
		}
	}
}

// A directory without partition.metadata (written before Samsa kept topic
// ids) is adopted once by name and gets the image's id.
func TestLegacyDirAdopted(t *testing.T) {
	dir := t.TempDir()
	id := metadata.RandomUuid()
	e := newStrayEnv(t, dir)
	e.sync(strayImage(map[string]metadata.Uuid{"t": id}), true)
	e.produce("t", 2)
	e.m.Close()
	os.Remove(filepath.Join(dir, "t-0", PartitionMetadataFile))
	e = newStrayEnv(t, dir)
	e.sync(strayImage(map[string]metadata.Uuid{"t": id}), true)
	if p, ok := e.m.Get("t", 0); !ok || p.LogEndOffset() != 2 {
		t.Fatal("legacy directory not adopted")
	}
	if got, ok, _ := readTopicID(fs.OS(), filepath.Join(dir, "t-0")); !ok || got != id {
		t.Fatal("partition.metadata not written on adoption")
	}
}

// A partition that cannot be opened goes offline; the others open.
func TestOpenFailureGoesOffline(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-0")
	if err := os.MkdirAll(filepath.Join(bad, "00000000000000000000.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newStrayEnv(t, dir)
	e.sync(strayImage(map[string]metadata.Uuid{"bad": metadata.RandomUuid(), "good": metadata.RandomUuid()}), true)
	if e.m.Offline("bad", 0) == nil {
		t.Fatal("bad-0 not offline")
	}
	if _, ok := e.m.Get("good", 0); !ok || e.m.Offline("good", 0) != nil {
		t.Fatal("good-0 not open")
	}
	if _, err := os.Stat(filepath.Join(bad, "00000000000000000000.log")); err != nil {
		t.Fatalf("offline partition's files touched: %v", err)
	}
}

// Follow does no opening on the caller's goroutine: the partition appears
// once the opener has run.
func TestFollowOpensOffCaller(t *testing.T) {
	e := newStrayEnv(t, t.TempDir())
	e.m.Follow(strayImage(map[string]metadata.Uuid{"a": metadata.RandomUuid()}))
	if err := e.m.WaitOpened(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.m.Get("a", 0); !ok {
		t.Fatal("not opened")
	}
}

// The file-descriptor budget: partitions past it are offline, and
// CheckCapacity refuses what would not fit.
func TestFDBudget(t *testing.T) {
	bc := config.Broker{}.Defaults()
	m, err := NewManager(ManagerOptions{DataDir: t.TempDir(), NodeID: 1, Broker: &bc, FS: fs.OS(),
		Logger: slog.New(slog.DiscardHandler), Clock: &fakeClock{}, FDLimit: 8 + 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Capacity() != 2 {
		t.Fatalf("capacity %d, want (10-2)/3 = 2", m.Capacity())
	}
	topics := map[string]metadata.Uuid{"a": metadata.RandomUuid(), "b": metadata.RandomUuid(), "c": metadata.RandomUuid()}
	if err := m.Sync(context.Background(), strayImage(topics), true); err != nil {
		t.Fatal(err)
	}
	if len(m.All()) != 2 || m.OfflineCount() != 1 {
		t.Fatalf("open %d offline %d", len(m.All()), m.OfflineCount())
	}
	if err := m.CheckCapacity(2, 1); err == nil {
		t.Fatal("CheckCapacity accepted a third partition")
	}
	if err := m.CheckCapacity(1, 1); err != nil {
		t.Fatal(err)
	}
}
