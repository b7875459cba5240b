package broker

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/share"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// testStack is a single-node cluster built from the broker's parts, as
// internal/node wires them but without replication, retention or
// services: a controller (one voter), the partition manager following its
// images, the coordinators, and the broker serving a TCP listener.
type testStack struct {
	b     *Broker
	ctl   *controller.Controller
	parts *partition.Manager
	addr  string
}

// newTestStack starts a stack in a temporary directory, stopped when the
// test ends. cfg may set Broker.Config fields (NodeID, Advertised,
// Logger and Clock are the stack's; cfg.Settings.Values override the
// defaults' values).
func newTestStack(t *testing.T, cfg Config) *testStack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	lg := slog.New(slog.DiscardHandler)
	settings := config.Broker{}.Defaults()
	settings.NodeID, settings.DataDir = 1, dir
	if cfg.Settings != nil { // settings a test overrides, by Kafka name
		for k, v := range cfg.Settings.Values {
			settings.Values[k] = v
		}
	}

	ctlCfg := controller.Config{}.Defaults()
	ctlCfg.DataDir, ctlCfg.NodeID, ctlCfg.ClusterID, ctlCfg.Logger = filepath.Join(dir, "__cluster_metadata-0"), 1, "schema-test-cluster", lg
	ctl, err := controller.Open(ctx, ctlCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	if ctl.Image().ClusterID == "" {
		if _, err := ctl.Propose(ctx, metadata.SetClusterID{ID: ctlCfg.ClusterID}); err != nil {
			t.Fatal(err)
		}
	}
	reg := metadata.RegisterBroker{ID: 1, Host: host, Port: int32(p), IncarnationID: metadata.RandomUuid(), CleanShutdown: true}
	if _, err := ctl.Propose(ctx, reg); err != nil {
		t.Fatal(err)
	}

	parts, err := partition.NewManager(partition.ManagerOptions{
		DataDir: dir, NodeID: 1, Broker: &settings, FS: fs.OS(), Logger: lg, Clock: sysClock{}, CleanShutdown: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parts.Close() })
	ctl.Subscribe(func(_, img *metadata.Image) { parts.Follow(img) })
	if err := parts.Sync(ctx, ctl.Image(), true); err != nil {
		t.Fatal(err)
	}

	groups, txns, shares := testCoordinators(t, &settings, ctl, parts, lg)
	cfg.ShareStates = shares
	cfg.NodeID, cfg.Advertised, cfg.Settings, cfg.Logger, cfg.Clock = 1, ln.Addr().String(), &settings, lg, sysClock{}
	b, err := New(cfg, ctl, parts, groups, txns)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { // stopped and waited by the cleanup
		b.Serve(sctx, ln, Listener{})
		close(served)
	}()
	t.Cleanup(func() { stop(); <-served; b.Close() })
	return &testStack{b: b, ctl: ctl, parts: parts, addr: ln.Addr().String()}
}

// testCoordinators builds the group and transaction coordinators the
// broker requires, as internal/node's newCoordinators does.
func testCoordinators(t *testing.T, settings *config.Broker, ctl *controller.Controller, parts *partition.Manager, lg *slog.Logger) (*group.Coordinator, *txn.Coordinator, *share.Coordinator) {
	t.Helper()
	gs, err := group.SettingsFrom(settings)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := txn.SettingsFrom(settings)
	if err != nil {
		t.Fatal(err)
	}
	coords, err := coordinator.New(coordinator.Config{
		NodeID: 1, Images: ctl, Partitions: coordinator.ManagerPartitions(parts),
		Clock: coordinator.WallClock{}, Logger: lg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coords.Close() })
	groups, err := group.New(group.Config{
		Settings: gs, Clock: group.WallClock{}, Logger: lg,
		Log: coords.Writer(coordinator.OffsetsTopic), Topics: coordinator.Topics{Images: ctl},
		Images: GroupTopicImages(ctl),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(groups.Close)
	txns, err := txn.New(txn.Config{
		Settings: ts, Clock: txn.WallClock{}, Logger: lg,
		Log: coords.Writer(coordinator.TxnStateTopic),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(txns.Close)
	coords.Register(coordinator.OffsetsTopic, groups)
	coords.Register(coordinator.TxnStateTopic, txns)
	shares := share.NewCoordinator(coords.Writer(coordinator.ShareGroupStateTopic), lg, 500, func() int64 { return time.Now().UnixMilli() })
	coords.Register(coordinator.ShareGroupStateTopic, shares)
	// The coordinators follow the images after the partitions, as the
	// node wires them, so that groups work once __consumer_offsets exists.
	ctl.Subscribe(func(_, img *metadata.Image) { coords.Sync(img) })
	parts.OnOpened(func() { coords.Sync(ctl.Image()) })
	coords.Sync(ctl.Image())
	return groups, txns, shares
}

// partition waits until this broker leads topic's partition p with
// samsa.schema.validation at want, and returns it.
func (s *testStack) partition(t *testing.T, topic string, p int32, want config.SchemaValidation) *partition.Partition {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if part, ok := s.parts.Get(topic, p); ok && part.Config().SchemaValidation == want {
			return part
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s-%d is not open with %s=%s", topic, p, config.SchemaValidationConfig, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
