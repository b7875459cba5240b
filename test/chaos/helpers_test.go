package chaos_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// clusterConfig is every scenario's broker configuration: liveness and ISR
// timeouts short enough that a fault is detected in seconds, internal
// topics small and replicated.
const clusterConfig = `broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
replica.lag.time.max.ms=3000
replica.fetch.wait.max.ms=200
replica.fetch.backoff.ms=200
offsets.topic.num.partitions=3
offsets.topic.replication.factor=3
transaction.state.log.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
`

// sessionTimeout matches broker.session.timeout.ms above.
const sessionTimeout = 3 * time.Second

// longRun is SAMSA_CHAOS_DURATION: how long scenarios that repeat a fault
// keep going (0: the short default, a fixed number of faults).
func longRun(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SAMSA_CHAOS_DURATION")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("SAMSA_CHAOS_DURATION=%q: %v", v, err)
	}
	return d
}

// rounds calls f(i) for round i = 0, 1, ...: def rounds by default, or
// until SAMSA_CHAOS_DURATION has passed (at least def rounds).
func rounds(t *testing.T, def int, f func(i int)) {
	t.Helper()
	d := longRun(t)
	start := time.Now()
	for i := 0; ; i++ {
		if i >= def && (d == 0 || time.Since(start) >= d) {
			return
		}
		if t.Failed() && d > 0 {
			return // a long run stops at the first failure
		}
		f(i)
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	if ld := longRun(t); ld > 0 {
		d += ld
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// starter starts a scenario's cluster: startCluster, or startSecureCluster
// (secure_test.go) for the same scenario on a secured cluster.
type starter func(t *testing.T, n int, opts clustertest.ClusterOptions) *clustertest.Cluster

func startCluster(t *testing.T, n int, opts clustertest.ClusterOptions) *clustertest.Cluster {
	t.Helper()
	opts.Config = clusterConfig + opts.Config
	return clustertest.StartCluster(t, n, opts)
}

// createTopic creates topic with partitions, rf and configs through kadm
// and waits until every partition has a leader.
func createTopic(ctx context.Context, t *testing.T, c *clustertest.Cluster, topic string, partitions int32, rf int16, configs map[string]string) {
	t.Helper()
	cl := c.Client(t)
	adm := kadm.NewClient(cl)
	cfg := map[string]*string{}
	for k, v := range configs {
		cfg[k] = kadm.StringPtr(v)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(cctx, partitions, rf, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && strings.Contains(err.Error(), "did not reply with that broker in the broker list") {
		// Clients send CreateTopics to Metadata's ControllerID; a
		// controller-only node is not a broker they can reach. Report it
		// and go on through a broker, to test the rest.
		t.Errorf("Metadata names a ControllerID that is not in its broker list, so admin clients cannot send it CreateTopics: %v", err)
		err = createTopicVia(cctx, cl, c.Brokers()[0].ID, topic, partitions, rf, configs)
	}
	if err != nil {
		t.Fatalf("create topic %s (partitions %d, rf %d, %v): %v", topic, partitions, rf, configs, err)
	}
	if err := clustertest.WaitLeaders(ctx, c.RunningBootstrap(), 30*time.Second, topic); err != nil {
		t.Fatalf("new topic %s: %v", topic, err)
	}
}

// createTopicVia sends CreateTopics to broker id.
func createTopicVia(ctx context.Context, cl *kgo.Client, id int32, topic string, partitions int32, rf int16, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, rf
	for k, v := range configs {
		rc := kmsg.NewCreateTopicsRequestTopicConfig()
		rc.Name, rc.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, rc)
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 20000
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("CreateTopics via %d: %d topics in the response", id, len(resp.Topics))
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

// waitISR waits until every partition of topic has n in-sync replicas, and
// reports the partitions that do not after within.
func waitISR(ctx context.Context, c *clustertest.Cluster, topic string, n int, within time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.RunningBootstrap()...), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last string
	for {
		mctx, mcancel := context.WithTimeout(ctx, 3*time.Second)
		md, err := adm.Metadata(mctx, topic)
		mcancel()
		if err == nil {
			var short []string
			for _, p := range md.Topics[topic].Partitions.Sorted() {
				if len(p.ISR) < n || p.Err != nil {
					short = append(short, fmt.Sprintf("p%d isr %v leader %d err %v", p.Partition, p.ISR, p.Leader, p.Err))
				}
			}
			if len(short) == 0 && len(md.Topics[topic].Partitions) > 0 {
				return nil
			}
			last = strings.Join(short, "; ")
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: ISR not back to %d within %v: %s", topic, n, within, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// finish stops the workload, checks V (leaders within 30s, and no running
// broker left fenced), reads every partition back and runs the history
// checks.
func finish(ctx context.Context, t *testing.T, c *clustertest.Cluster, h *clustertest.History, topic string, stop ...func()) *clustertest.Report {
	t.Helper()
	for _, s := range stop {
		s()
	}
	if err := clustertest.WaitLeaders(ctx, c.RunningBootstrap(), 30*time.Second, topic); err != nil {
		t.Error(err)
	}
	if err := c.WaitUnfenced(ctx, 30*time.Second); err != nil {
		t.Error(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	final, err := clustertest.ReadAll(rctx, c.RunningBootstrap(), topic, false)
	if err != nil {
		t.Errorf("final read of %s: %v", topic, err)
	}
	h.SetFinal(final)
	return h.Verify(t)
}

// logFailovers logs the failover times measured in a scenario.
func logFailovers(t *testing.T, what string, ds []time.Duration) {
	t.Helper()
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	t.Logf("%s: %d failovers, min %v, median %v, max %v (all %v)", what, len(s), s[0], s[len(s)/2], s[len(s)-1], ds)
}

// commitWatch polls a group's committed offsets and records every time one
// goes backwards. Its goroutine is stopped and waited by stop.
type commitWatch struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	regress []string
	polls   int
}

func watchCommits(t *testing.T, seeds []string, group string) *commitWatch {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestTimeoutOverhead(2*time.Second), kgo.MetadataMinAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithCancel(context.Background())
	w := &commitWatch{cancel: cancel, done: make(chan struct{})}
	go func() { // owned by w; stopped by w.stop (cancel); waited via w.done
		defer close(w.done)
		defer cl.Close()
		last := map[string]map[int32]int64{}
		for ctx.Err() == nil {
			fctx, fcancel := context.WithTimeout(ctx, 3*time.Second)
			offs, err := adm.FetchOffsets(fctx, group)
			fcancel()
			if err == nil {
				w.mu.Lock()
				w.polls++
				offs.Each(func(o kadm.OffsetResponse) {
					if o.Err != nil {
						return
					}
					if last[o.Topic] == nil {
						last[o.Topic] = map[int32]int64{}
					}
					if prev, ok := last[o.Topic][o.Partition]; ok && o.At < prev {
						w.regress = append(w.regress, fmt.Sprintf("%s %s/%d: %d → %d", time.Now().Format("15:04:05.000"), o.Topic, o.Partition, prev, o.At))
					}
					last[o.Topic][o.Partition] = max(last[o.Topic][o.Partition], o.At)
				})
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the watch and returns the regressions seen.
func (w *commitWatch) stop() []string {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.regress)
}
