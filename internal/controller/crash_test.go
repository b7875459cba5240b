package controller

import (
	"errors"
	"fmt"
	"testing"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// TestControllerCrashAtEachStep runs a whole controller (Open, proposals,
// snapshots every 3 entries with WAL compaction) on a faulty FS that
// crashes at file-system operation k, for every k, in a plain-crash mode,
// a power-loss mode (unsynced data is then lost) and a torn-write mode.
// After each crash the controller must stop with
// an error (never panic or hang), and a restart on a healthy FS must open
// and hold every record whose Propose returned success.
func TestControllerCrashAtEachStep(t *testing.T) {
	modes := []struct {
		name      string
		ops       fs.Op
		partial   int
		powerLoss bool
	}{
		{"crash", fs.OpAny, 0, false},
		{"power-loss", fs.OpAny, 0, true},
		{"torn", fs.OpWrite, frameHeader + 3, false},
	}
	if testing.Short() {
		modes = modes[:1]
	}
	for _, mode := range modes {
		steps := 0
		for k := 0; ; k++ {
			dir := t.TempDir()
			ff := fs.NewFaulty(fs.OS())
			ff.Inject(fs.Fault{Ops: mode.ops, Skip: k, Partial: mode.partial, Crash: true})
			acked, err := crashWorkload(t, dir, ff)
			if mode.powerLoss {
				if lerr := ff.LoseUnsynced(); lerr != nil {
					t.Fatal(lerr)
				}
			}
			what := fmt.Sprintf("%s step %d (%v)", mode.name, k, err)
			if ff.Fired() == 0 {
				if err != nil || len(acked) != 10 {
					t.Fatalf("%s: no fault, %d acked, %v", mode.name, len(acked), err)
				}
				steps = k
			} else if err == nil {
				t.Fatalf("%s: the fault fired but the workload succeeded", what)
			}
			cfg := testConfig(t, dir)
			c := open(t, cfg)
			img := c.Image()
			for _, id := range acked {
				if img.Brokers[id] == nil {
					t.Fatalf("%s: acknowledged broker %d lost; image has %d brokers", what, id, len(img.Brokers))
				}
			}
			if img.ClusterID != "test-cluster" {
				t.Fatalf("%s: cluster id %q", what, img.ClusterID)
			}
			registerBrokers(t, c, 100) // the recovered log keeps working
			closeC(t, c)
			if ff.Fired() == 0 {
				break
			}
		}
		if steps < 30 {
			t.Fatalf("%s: only %d operations", mode.name, steps)
		}
		t.Logf("%s: crashed at each of %d operations", mode.name, steps)
	}
}

// crashWorkload opens a controller on fsys and registers brokers 1..10,
// stopping at the first error. It returns the brokers whose registration
// was acknowledged.
func crashWorkload(t *testing.T, dir string, fsys fs.FS) ([]int32, error) {
	cfg := testConfig(t, dir)
	cfg.FS = fsys
	cfg.SnapshotEvery = 3
	c, err := Open(testCtx(t), cfg)
	if err != nil {
		return nil, err
	}
	var acked []int32
	for id := int32(1); id <= 10; id++ {
		r := metadata.RegisterBroker{ID: id, Host: "localhost", Port: 9090 + id, IncarnationID: metadata.RandomUuid()}
		if _, err = c.Propose(testCtx(t), r); err != nil {
			break
		}
		acked = append(acked, id)
	}
	cerr := c.Close()
	if err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, fs.ErrCrashed) && !errors.Is(err, fs.ErrInjected) {
		t.Fatalf("controller error without the injected fault: %v", err)
	}
	return acked, err
}
