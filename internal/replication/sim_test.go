package replication

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

var simSeedFlag = flag.Uint64("seed", 0, "TestSim: run only this seed (also SAMSA_SIM_SEED)")

// TestSim is a deterministic simulation of partition replication and
// leader election: three brokers, each with real partition.Partition
// objects (through a real partition.Manager) over a simulated disk, a
// controller that applies records to a metadata.Image and runs
// controller.Elections, and a simulated network between them, all driven
// by one event queue seeded per run. The follower runs the fetcher's own
// decision code (firstAsk, applyEpochAnswer, applyFetch in fetcher.go); the
// leader answers with the code the broker's replica Fetch and
// OffsetForLeaderEpoch handlers call (Leader.ReplicaFetch and
// Leader.OffsetForLeaderEpoch in leader.go; only the bytes of the records
// are copied instead of sent with sendfile); leaders run
// DesiredISR/RetryISR as the Replicator's ISR loop does;
// producers append with acks=all and are acknowledged by WaitCommitted.
//
// Topic "sim": 2 partitions, replication factor 3, min.insync.replicas 2,
// unclean leader election off. Times are scaled down (session timeout
// 600ms, replica.lag.time.max.ms 500ms, ...; see sim_world_test.go).
//
// Faults, at random times: message drops (0-5% per run) and delays (a few
// ms, sometimes up to 150ms, up to 300ms more on a slow link), network
// partitions (a broker isolated, cut from the controller only, or one
// broker-broker link cut) healing after 0.1-1.5s, and crashes with a
// restart after 0.05-1.5s: a process crash keeps the files as they are; a
// power loss keeps each file's synced prefix and a random part of the rest
// (torn batches included), and Samsa, like Kafka, does not fsync every
// append, so a power loss can take acknowledged records from that broker.
//
// Assumption on power losses: acks=all with min.insync.replicas=2
// promises that acknowledged records survive the loss of one replica's
// copy, not more. So a power loss is injected only while no other broker
// is "dirty": a broker is dirty from a power loss that took records from a
// partition's log until that log holds the committed log as far as it
// reached before the loss (the leader may still count the fetch offsets
// it sent before). Under that rule no acknowledged record may be lost.
//
// Invariants, after every step:
//   - at most one broker believes it leads a partition at any leader epoch;
//   - a leader's high watermark never decreases within its leader epoch
//     (and the committed log, everything below the highest high watermark
//     any leader had, only grows);
//   - every replica's log below its own high watermark is the committed
//     log, batch for batch (offsets and CRC);
//   - the image's leader (once it knows it leads) and every ISR and ELR
//     member hold the whole committed log, except a dirty replica that is
//     not the leader;
//   - every acknowledged batch is in the committed log, at its offsets
//     (so, by the above, on the leader and every ISR member).
//
// After the steps, faults stop, every broker restarts, and the cluster
// must converge: a leader, a full ISR, identical logs, every acknowledged
// batch present.
//
// Seeds: 1..100 by default, 1..20 with -short (SAMSA_SIM_SEEDS=n runs
// 1..n), SAMSA_SIM_STEPS (3000) events each before the cluster settles;
// -seed=N or SAMSA_SIM_SEED=N replays one seed, and SAMSA_SIM_VERBOSE=1
// prints its whole trace. SAMSA_SIM_NO_QUICK_RESTART=1 (a crashed broker
// stays down until the controller fenced it) narrows the faults.
//
// Power losses are OFF by default and on with SAMSA_SIM_POWERLOSS=1: with
// them and the default eligible.leader.replicas.strict=false, seeds fail
// where the last in-sync replica loses acknowledged records in a power
// loss and is re-elected (as Kafka re-elects its last known leader).
// SAMSA_SIM_STRICT=1 sets eligible.leader.replicas.strict: such a replica
// leaves the ISR and ELR, the partition goes offline, and the operator's
// unclean recovery (recoverOffline) brings it back once every replica is
// up. TestSimStrictPowerLoss runs that mode with power losses. A failure
// prints the seed, the violated invariant, the cluster state and the
// trace's tail.
func TestSim(t *testing.T) {
	runSimSeeds(t, simConfig{
		Partitions:   2,
		Steps:        envInt(t, "SAMSA_SIM_STEPS", 3000),
		PowerLoss:    os.Getenv("SAMSA_SIM_POWERLOSS") != "" && os.Getenv("SAMSA_SIM_NO_POWERLOSS") == "",
		QuickRestart: os.Getenv("SAMSA_SIM_NO_QUICK_RESTART") == "",
		Strict:       os.Getenv("SAMSA_SIM_STRICT") != "",
	}, "TestSim")
}

// TestSimStrictPowerLoss is TestSim with power losses and
// eligible.leader.replicas.strict: under KIP-966's strict rule no
// acknowledged record may be lost to a power loss of one replica, the last
// in-sync one included. Seeds, steps and replay as in TestSim.
func TestSimStrictPowerLoss(t *testing.T) {
	runSimSeeds(t, simConfig{
		Partitions:   2,
		Steps:        envInt(t, "SAMSA_SIM_STEPS", 3000),
		PowerLoss:    true,
		QuickRestart: os.Getenv("SAMSA_SIM_NO_QUICK_RESTART") == "",
		Strict:       true,
	}, "TestSimStrictPowerLoss")
}

// runSimSeeds runs the seeds TestSim's doc describes with cfg; name is
// the test, for the replay line.
func runSimSeeds(t *testing.T, cfg simConfig, name string) {
	one := *simSeedFlag
	if s := os.Getenv("SAMSA_SIM_SEED"); s != "" && one == 0 {
		one = uint64(envInt(t, "SAMSA_SIM_SEED", 0))
	}
	if one != 0 {
		runSimTest(t, one, cfg, name, os.Getenv("SAMSA_SIM_VERBOSE") != "")
		return
	}
	def := 100
	if testing.Short() {
		def = 20
	}
	n := envInt(t, "SAMSA_SIM_SEEDS", def)
	for seed := uint64(1); seed <= uint64(n); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runSimTest(t, seed, cfg, name, false)
		})
	}
}

func runSimTest(t *testing.T, seed uint64, cfg simConfig, name string, verbose bool) {
	start := time.Now()
	w, err := runSim(seed, cfg, verbose)
	if err != nil {
		env := ""
		for _, e := range []string{"SAMSA_SIM_STEPS", "SAMSA_SIM_POWERLOSS", "SAMSA_SIM_NO_POWERLOSS", "SAMSA_SIM_NO_QUICK_RESTART", "SAMSA_SIM_STRICT"} {
			if v := os.Getenv(e); v != "" {
				env += e + "=" + v + " "
			}
		}
		t.Fatalf("seed %d failed at step %d: %v\nreplay: %sgo test ./internal/replication/ -run '%s$' -seed=%d [SAMSA_SIM_VERBOSE=1 for the whole trace]\n\n%s\ntrace tail:\n%s",
			seed, w.step, err, env, name, seed, w.dump(), w.trace.tail())
	}
	t.Logf("seed %d: %d steps, %v simulated in %v; %d produced, %d acked, %d failed; %d crashes (%d power losses, %d bytes lost)",
		seed, w.step, w.now.Sub(time.UnixMilli(1_700_000_000_000)).Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		w.produced, w.acked, w.failedAcks, w.crashes, w.powerLosses, w.lostBytes)
}

// runSim runs one seed: the faulty phase, then the settling phase.
func runSim(seed uint64, cfg simConfig, verbose bool) (*world, error) {
	w := newWorld(seed, cfg, newTrace(400, verbose))
	w.run(cfg.Steps, w.check)
	if w.failure != nil {
		return w, w.failure
	}
	w.tracef("--- faults stop ---")
	w.quiesce()
	deadline := w.now.Add(6 * time.Second)
	for w.failure == nil && w.now.Before(deadline) {
		w.run(1, w.check)
	}
	if w.failure != nil {
		return w, w.failure
	}
	for _, b := range w.brokers {
		w.refreshMirrors(b)
	}
	if err := w.checkConverged(); err != nil {
		w.tracef("FAILURE: %v", err)
		return w, err
	}
	return w, nil
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative number", name, s)
	}
	return n
}
