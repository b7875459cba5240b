package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Benchmarks of a 3-node cluster (combined broker+controller nodes, real
// processes on loopback): how long a partition is unwritable when its
// leader dies, and what replication costs acks=all throughput. `make
// bench-cluster` runs both with sensible iteration counts; CI runs them
// with -benchtime=1x (one kill each, well under a minute).
//
// Failover after a kill -9 is bounded below by broker.session.timeout.ms:
// nothing tells the controller that the broker died, so it fences the
// broker only once it has not heard from it for the session timeout
// (checked every broker.heartbeat.interval.ms), and the election that
// moves the leadership to another ISR member is part of that same pass.
// When the killed node was also the active controller, a new raft leader
// must be elected first (raft election timeout, 1-2 s) and it gives every
// broker a full session timeout before fencing it, so those runs take
// longer. A SIGTERM is a controlled shutdown instead: the broker asks the
// controller to move its leaderships away before it stops serving, so the
// partition moves without waiting for any timeout.
//
// Both show a second mode about 1 s slower: the remaining follower can ask
// the new leader (OffsetForLeaderEpoch) before that broker has applied the
// image that makes it the leader; refused, it waits
// replica.fetch.backoff.ms (1 s) before asking again, and acks=all waits
// for it.
//
// The client adds little: it retries every 50 ms and refreshes metadata at
// most every 100 ms (Kafka's Java client: retry.backoff.ms=100).

// benchSettings are the liveness and ISR settings of the benchmark
// clusters: 300 ms heartbeats and a 2.5 s session timeout (the defaults,
// 2 s and 9 s, would make every kill -9 failover take 9 s and more), and
// replicas out of the ISR after 2 s without catching up.
const benchSettings = "broker.heartbeat.interval.ms=300\nbroker.session.timeout.ms=2500\nreplica.lag.time.max.ms=2000\n"

const (
	failoverTopic = "failover"
	// failoverWait bounds one failover; readyWait bounds the untimed
	// restart until the partition's ISR is full again.
	failoverWait = 60 * time.Second
	readyWait    = 90 * time.Second
	// produceEvery paces the background producer (one acks=all record
	// in flight at a time).
	produceEvery = 5 * time.Millisecond
)

// ackWatch is a kgo hook recording which broker acknowledged each produce
// to partition 0 of its topic: armed with the leader about to be stopped,
// it records the first acknowledgement from any other broker.
type ackWatch struct {
	topic string

	mu       sync.Mutex
	last     time.Time // the latest acknowledgement, from any broker
	lastNode int32
	armed    bool
	old      int32
	done     chan struct{}
	newAt    time.Time // the first acknowledgement from a broker other than old
	newNode  int32
	prevAck  time.Time // the acknowledgement before newAt
}

func (w *ackWatch) OnProduceBatchWritten(meta kgo.BrokerMetadata, topic string, partition int32, _ kgo.ProduceBatchMetrics) {
	if topic != w.topic || partition != 0 {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed && meta.NodeID != w.old {
		w.armed = false
		w.newAt, w.newNode, w.prevAck = now, meta.NodeID, w.last
		close(w.done)
	}
	w.last, w.lastNode = now, meta.NodeID
}

// arm starts watching for the first acknowledgement by a broker other than
// old; the returned channel closes when it arrives.
func (w *ackWatch) arm(old int32) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed, w.old, w.done = true, old, make(chan struct{})
	return w.done
}

func (w *ackWatch) disarm() {
	w.mu.Lock()
	w.armed = false
	w.mu.Unlock()
}

// result is the first acknowledgement by another broker, that broker, and
// the acknowledgement before it.
func (w *ackWatch) result() (at time.Time, node int32, prev time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.newAt, w.newNode, w.prevAck
}

func (w *ackWatch) latest() (time.Time, int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.lastNode
}

// failoverFixture is BenchmarkFailover's cluster, with a producer writing
// to partition 0 of failoverTopic in the background for the whole
// benchmark.
type failoverFixture struct {
	c     *clustertest.Cluster
	adm   *kadm.Client
	watch *ackWatch

	errs     atomic.Int64
	errMu    sync.Mutex
	firstErr error
}

// BenchmarkFailover measures the time from stopping the leader of an RF=3
// partition (min.insync.replicas=2) to the first acks=all produce to it
// that a new leader acknowledges, with a producer writing to it all along.
// Sub-benchmarks: signal=KILL (kill -9: bounded by the session timeout,
// see the top of this file) and signal=TERM (controlled shutdown). Each
// iteration stops the current leader, waits for the first
// acknowledgement from another broker (timed), then restarts the stopped
// node and waits until the partition's ISR holds all three replicas and
// the producer is writing again (not timed).
//
// Metrics: failover-{median,p90,max}-ms over the iterations;
// write-gap-{median,max}-ms, the longest time without any acknowledgement
// around the failover (with SIGTERM the old leader keeps acknowledging
// until its leadership moves, so the gap is shorter than the time to the
// new leader); leader-was-controller, the runs in which the stopped node
// was also the active controller; produce-errors, records that failed
// (the producer retries, so this should be 0).
func BenchmarkFailover(b *testing.B) {
	c := clustertest.StartCluster(b, 3, clustertest.ClusterOptions{Config: benchSettings})
	ctx := b.Context()
	fx := &failoverFixture{c: c, adm: kadm.NewClient(c.Client(b)), watch: &ackWatch{topic: failoverTopic}}
	res, err := fx.adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, failoverTopic)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		b.Fatalf("create %s: %v", failoverTopic, err)
	}
	prod := c.Client(b,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(2*failoverWait),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.WithHooks(fx.watch),
	)
	// The producer is owned by this benchmark: stopped (pctx) and waited
	// for (wg) before the client closes and the cluster stops.
	pctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { fx.produce(pctx, prod) })
	b.Cleanup(func() { stop(); wg.Wait() })

	b.Run("signal=KILL", func(b *testing.B) { fx.run(b, false) })
	b.Run("signal=TERM", func(b *testing.B) { fx.run(b, true) })
}

// produce writes one small acks=all record to partition 0 every
// produceEvery until ctx ends, each after the previous one was
// acknowledged (a record that fails is counted and logged).
func (fx *failoverFixture) produce(ctx context.Context, cl *kgo.Client) {
	val := make([]byte, 100)
	tick := time.NewTicker(produceEvery)
	defer tick.Stop()
	for {
		r := &kgo.Record{Topic: failoverTopic, Partition: 0, Value: val}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			if ctx.Err() != nil {
				return
			}
			fx.errs.Add(1)
			fx.errMu.Lock()
			if fx.firstErr == nil {
				fx.firstErr = err
			}
			fx.errMu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ready waits until partition 0 has a leader and all three replicas in its
// ISR, every node runs, and the producer's latest acknowledgement is a
// fresh one from that leader. It returns the leader and whether it is also
// the active controller.
func (fx *failoverFixture) ready(b *testing.B) (leader int32, controller bool) {
	b.Helper()
	ctx := b.Context()
	waitUntil(b, "a full ISR and the producer writing to its leader", readyWait, func() error {
		for _, n := range fx.c.Nodes {
			if !n.Running() {
				return fmt.Errorf("node %d is not running", n.ID)
			}
		}
		md, err := fx.adm.Metadata(ctx, failoverTopic)
		if err != nil {
			return err
		}
		td, ok := md.Topics[failoverTopic]
		if !ok || td.Err != nil {
			return fmt.Errorf("topic %s: %v", failoverTopic, td.Err)
		}
		pd, ok := td.Partitions[0]
		if !ok || pd.Err != nil {
			return fmt.Errorf("partition 0: %v", pd.Err)
		}
		if pd.Leader < 0 || len(pd.ISR) != 3 {
			return fmt.Errorf("leader %d ISR %v", pd.Leader, pd.ISR)
		}
		at, node := fx.watch.latest()
		if node != pd.Leader || time.Since(at) > time.Second {
			return fmt.Errorf("leader %d, but the latest acknowledgement came from %d %v ago", pd.Leader, node, time.Since(at).Round(time.Millisecond))
		}
		leader, controller = pd.Leader, md.Controller == pd.Leader
		return nil
	})
	return leader, controller
}

// run is one sub-benchmark: b.N failovers with SIGKILL or (graceful)
// SIGTERM. It logs a few summary lines only: the testing package keeps the
// first 10 lines of a benchmark's log.
func (fx *failoverFixture) run(b *testing.B, graceful bool) {
	verb := "kill -9"
	if graceful {
		verb = "SIGTERM"
	}
	errsBefore := fx.errs.Load()
	var (
		took, gaps     []time.Duration
		ctlTook, other []time.Duration // runs where the leader was / was not the active controller
		exits          []time.Duration // SIGTERM: until the process exited
		runs           []string
	)
	for b.Loop() {
		b.StopTimer()
		leader, ctl := fx.ready(b)
		node := fx.c.Node(leader)
		done := fx.watch.arm(leader)
		b.StartTimer()

		start := time.Now()
		var exited chan time.Duration
		if graceful {
			// Stop waits for the process to exit, which a controlled
			// shutdown delays until the leaderships have moved: run
			// it alongside.
			exited = make(chan time.Duration, 1)
			go func() { // owned by this iteration, waited for below
				node.Stop()
				exited <- time.Since(start)
			}()
		} else {
			node.Kill()
		}
		select {
		case <-done:
		case <-time.After(failoverWait):
			fx.watch.disarm()
			if exited != nil {
				<-exited
			}
			b.Fatalf("no acks=all produce acknowledged by a new leader within %v of the %s of leader %d", failoverWait, verb, leader)
		}
		b.StopTimer()

		at, newLeader, prev := fx.watch.result()
		d := at.Sub(start)
		took = append(took, d)
		gaps = append(gaps, at.Sub(prev))
		run := fmt.Sprintf("%d→%d %v", leader, newLeader, d.Round(time.Millisecond))
		if ctl {
			ctlTook = append(ctlTook, d)
			run += "*"
		} else {
			other = append(other, d)
		}
		runs = append(runs, run)
		if exited != nil {
			exits = append(exits, <-exited)
		}
		node.Restart(b)
		b.StartTimer()
	}
	// The last restarted node rejoins before the next sub-benchmark (its
	// ready does the same) or the cluster stops.
	fx.ready(b)

	for _, s := range [][]time.Duration{took, gaps, ctlTook, other, exits} {
		slices.Sort(s)
	}
	b.ReportMetric(ms(median(took)), "failover-median-ms")
	b.ReportMetric(ms(percentile(took, 90)), "failover-p90-ms")
	b.ReportMetric(ms(took[len(took)-1]), "failover-max-ms")
	b.ReportMetric(ms(median(gaps)), "write-gap-median-ms")
	b.ReportMetric(ms(gaps[len(gaps)-1]), "write-gap-max-ms")
	b.ReportMetric(float64(len(ctlTook)), "leader-was-controller")
	errs := fx.errs.Load() - errsBefore
	b.ReportMetric(float64(errs), "produce-errors")

	b.Logf("%s, %d runs (old→new leader, time to the first ack on the new one; * = the old leader was also the active controller): %s",
		verb, len(runs), strings.Join(runs, ", "))
	b.Logf("sorted: %s", fmtDurations(took))
	if len(other) > 0 {
		b.Logf("leader not the active controller, %d runs: median %v, max %v", len(other), median(other).Round(time.Millisecond), other[len(other)-1].Round(time.Millisecond))
	}
	if len(ctlTook) > 0 {
		b.Logf("leader also the active controller, %d runs: median %v, max %v", len(ctlTook), median(ctlTook).Round(time.Millisecond), ctlTook[len(ctlTook)-1].Round(time.Millisecond))
	}
	if len(exits) > 0 {
		b.Logf("the process exited %v after SIGTERM (median; max %v)", median(exits).Round(time.Millisecond), exits[len(exits)-1].Round(time.Millisecond))
	}
	if errs > 0 {
		fx.errMu.Lock()
		b.Logf("%d records failed; the first: %v", errs, fx.firstErr)
		fx.errMu.Unlock()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median of sorted durations, by nearest rank like percentile: always one
// of the runs (failover times are bimodal, and the mean of the two middle
// runs of an even count can lie between the modes, far from any run).
func median(s []time.Duration) time.Duration { return percentile(s, 50) }

// percentile p of sorted durations (nearest rank).
func percentile(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100
	return s[max(i, 1)-1]
}

func fmtDurations(s []time.Duration) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(parts, " ")
}

// waitUntil retries f every 100ms until it succeeds, failing b after d.
func waitUntil(b testing.TB, what string, d time.Duration, f func() error) {
	b.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const (
	tputPartitions = 6
	tputRecord     = 1 << 10
)

// BenchmarkReplicatedProduce measures acks=all, idempotent produce
// throughput of one franz-go client to 6 partitions of 1 KiB records on a
// 3-node cluster, for an RF=1 topic and an RF=3 topic
// (min.insync.replicas=2) on the same cluster: sub-benchmarks rf=1 and
// rf=3 (one op is one record; MB/s from SetBytes, and records/s), then
// ratio, whose rf3/rf1 metric is the RF=3 throughput as a fraction of the
// RF=1 one (when both ran). Batches are large: 5 ms linger, 1 MiB batches,
// no compression. With RF=1 each broker appends its two partitions; with
// RF=3 each also fetches the four it follows, and an acks=all produce
// waits until the followers' next fetch shows they have the records.
func BenchmarkReplicatedProduce(b *testing.B) {
	c := clustertest.StartCluster(b, 3, clustertest.ClusterOptions{Config: benchSettings})
	ctx := b.Context()
	adm := kadm.NewClient(c.Client(b))
	mbps := map[int]float64{}
	for _, rf := range []int{1, 3} {
		topic := fmt.Sprintf("tput-rf%d", rf)
		res, err := adm.CreateTopic(ctx, tputPartitions, int16(rf), map[string]*string{"min.insync.replicas": kadm.StringPtr(fmt.Sprint(min(rf, 2)))}, topic)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			b.Fatalf("create %s: %v", topic, err)
		}
		waitUntil(b, topic+" led with a full ISR", 30*time.Second, func() error {
			md, err := adm.Metadata(ctx, topic)
			if err != nil {
				return err
			}
			td := md.Topics[topic]
			if td.Err != nil || len(td.Partitions) != tputPartitions {
				return fmt.Errorf("topic %s: %v, %d partitions", topic, td.Err, len(td.Partitions))
			}
			for _, pd := range td.Partitions {
				if pd.Leader < 0 || len(pd.ISR) != rf {
					return fmt.Errorf("partition %d: leader %d ISR %v", pd.Partition, pd.Leader, pd.ISR)
				}
			}
			return nil
		})
		b.Run(fmt.Sprintf("rf=%d", rf), func(b *testing.B) {
			// The framework calls this with growing b.N; the last
			// call is the one reported.
			mbps[rf] = produceThroughput(b, c, topic)
		})
	}
	if mbps[1] > 0 && mbps[3] > 0 {
		b.Run("ratio", func(b *testing.B) {
			b.ReportMetric(mbps[3]/mbps[1], "rf3/rf1")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// produceThroughput produces b.N 1 KiB records to topic (timed, after a
// warm-up that opens the connections and gets the producer id) and
// returns the MB/s.
func produceThroughput(b *testing.B, c *clustertest.Cluster, topic string) float64 {
	ctx := b.Context()
	cl := c.Client(b,
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	val := make([]byte, tputRecord)
	for i := range val {
		val[i] = byte(i * 31)
	}
	warm := make([]*kgo.Record, tputPartitions)
	for i := range warm {
		warm[i] = &kgo.Record{Value: val}
	}
	if err := cl.ProduceSync(ctx, warm...).FirstErr(); err != nil {
		b.Fatalf("warm-up produce to %s: %v", topic, err)
	}

	var (
		errMu    sync.Mutex
		failed   int
		firstErr error
	)
	b.SetBytes(tputRecord)
	b.ResetTimer()
	for range b.N {
		cl.Produce(ctx, &kgo.Record{Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				errMu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatalf("flush: %v", err)
	}
	b.StopTimer()
	errMu.Lock()
	defer errMu.Unlock()
	if failed > 0 {
		b.Fatalf("%d of %d records failed; the first: %v", failed, b.N, firstErr)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "records/s")
	return float64(b.N) * tputRecord / 1e6 / secs
}
