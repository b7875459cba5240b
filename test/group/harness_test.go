package group_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// brokerConfig keeps tests fast: few offsets partitions, no initial
// rebalance delay, session timeouts down to 1 s.
const brokerConfig = "offsets.topic.num.partitions=4\ngroup.initial.rebalance.delay.ms=0\ngroup.min.session.timeout.ms=1000\n"

const opTimeout = 60 * time.Second

func startNode(t *testing.T) *clustertest.Node {
	t.Helper()
	return clustertest.Start(t, clustertest.Options{Config: brokerConfig})
}

func createTopic(t *testing.T, node *clustertest.Node, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	resp, err := kadm.NewClient(node.Client(t)).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes n records keyed round robin and returns their positions.
func produce(t *testing.T, node *clustertest.Node, topic string, from, n int) []tpo {
	t.Helper()
	cl := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var mu sync.Mutex
	var out []tpo
	var wg sync.WaitGroup
	var firstErr error
	for i := from; i < from+n; i++ {
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: fmt.Appendf(nil, "%d", i)}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = err
				return
			}
			out = append(out, tpo{r.Partition, r.Offset})
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("produce: %v", firstErr)
	}
	return out
}

// tpo is a record position.
type tpo struct {
	p int32
	o int64
}

// killDialer lets a test cut a client off the network, which is what a
// crashed process looks like to the broker.
type killDialer struct {
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (d *killDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.killed {
		return nil, errors.New("killed")
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *killDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killed = true
	for _, c := range d.conns {
		c.Close()
	}
}

// tracker records what every member consumed and owns.
type tracker struct {
	mu       sync.Mutex
	consumed map[tpo]int
	owned    map[string]map[int32]bool // member -> partitions
}

func newTracker() *tracker {
	return &tracker{consumed: make(map[tpo]int), owned: make(map[string]map[int32]bool)}
}

// member is one group consumer.
type member struct {
	name   string
	cl     *kgo.Client
	dialer *killDialer
	cancel context.CancelFunc
	done   chan struct{}
}

type memberOpts struct {
	balancer kgo.GroupBalancer
	session  time.Duration
	extra    []kgo.Opt
}

func startMember(t *testing.T, node *clustertest.Node, tr *tracker, name, group, topic string, o memberOpts) *member {
	t.Helper()
	m := &member{name: name, dialer: &killDialer{}, done: make(chan struct{})}
	setOwned := func(assigned map[string][]int32, add bool) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		own := tr.owned[name]
		if own == nil {
			own = make(map[int32]bool)
			tr.owned[name] = own
		}
		for _, ps := range assigned {
			for _, p := range ps {
				if add {
					own[p] = true
				} else {
					delete(own, p)
				}
			}
		}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(node.Addr),
		kgo.Dialer(m.dialer.dial),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.AutoCommitInterval(300 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { setOwned(a, true) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// Commit what was consumed before giving partitions up, as
			// the default revoke does.
			_ = cl.CommitUncommittedOffsets(ctx)
			setOwned(r, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) { setOwned(l, false) }),
	}
	if o.balancer != nil {
		opts = append(opts, kgo.Balancers(o.balancer))
	}
	if o.session > 0 {
		opts = append(opts, kgo.SessionTimeout(o.session), kgo.HeartbeatInterval(o.session/10))
	}
	opts = append(opts, o.extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { // owned by m; stopped by m.cancel; waited via m.done
		defer close(m.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				tr.mu.Lock()
				tr.consumed[tpo{r.Partition, r.Offset}]++
				tr.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { m.stop(false) })
	return m
}

// stop ends the member: a clean close leaves the group; crash cuts it off
// the network first, so that the broker only notices by session expiry.
func (m *member) stop(crash bool) {
	select {
	case <-m.done:
		return // already stopped
	default:
	}
	if crash {
		m.dialer.kill()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = m.cl.LeaveGroupContext(ctx)
	}
	m.cancel()
	<-m.done
	if !crash {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = m.cl.CommitUncommittedOffsets(ctx)
		cancel()
	}
	m.cl.Close()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// balanced reports whether the given members own every partition of n
// exactly once and the others own nothing.
func (tr *tracker) balanced(n int32, members ...string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	count := make(map[int32]int)
	alive := make(map[string]bool)
	for _, m := range members {
		alive[m] = true
		for p := range tr.owned[m] {
			count[p]++
		}
	}
	for m, own := range tr.owned {
		if !alive[m] && len(own) > 0 {
			return false
		}
	}
	for _, m := range members {
		if len(tr.owned[m]) == 0 {
			return false
		}
	}
	for p := int32(0); p < n; p++ {
		if count[p] != 1 {
			return false
		}
	}
	return true
}

func (tr *tracker) allConsumed(want []tpo) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, w := range want {
		if tr.consumed[w] == 0 {
			return false
		}
	}
	return true
}

func (tr *tracker) forget(m string) {
	tr.mu.Lock()
	delete(tr.owned, m)
	tr.mu.Unlock()
}

// commitWatcher polls the group's committed offsets and reports any that
// go backwards.
type commitWatcher struct {
	mu      sync.Mutex
	last    map[int32]int64
	regress []string
	stop    context.CancelFunc
	done    chan struct{}
}

func watchCommits(t *testing.T, node *clustertest.Node, group, topic string) *commitWatcher {
	w := &commitWatcher{last: make(map[int32]int64), done: make(chan struct{})}
	adm := kadm.NewClient(node.Client(t))
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go func() { // owned by w; stopped by w.stop; waited via w.done
		defer close(w.done)
		for ctx.Err() == nil {
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			offs, err := adm.FetchOffsets(rctx, group)
			rcancel()
			if err == nil {
				w.mu.Lock()
				offs.Each(func(o kadm.OffsetResponse) {
					if o.Topic != topic || o.Err != nil {
						return
					}
					if prev, ok := w.last[o.Partition]; ok && o.At < prev {
						w.regress = append(w.regress, fmt.Sprintf("partition %d: %d after %d", o.Partition, o.At, prev))
					}
					w.last[o.Partition] = o.At
				})
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.finish)
	return w
}

func (w *commitWatcher) finish() {
	w.stop()
	<-w.done
}

func (w *commitWatcher) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.regress) > 0 {
		t.Errorf("committed offsets went backwards: %v", w.regress)
	}
}

// checkCommittedAtEnd requires the group's commits to equal the end offsets.
func checkCommittedAtEnd(t *testing.T, node *clustertest.Node, group, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	adm := kadm.NewClient(node.Client(t))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		if !ok || c.At != o.Offset {
			bad = append(bad, fmt.Sprintf("p%d committed %d end %d", o.Partition, c.At, o.Offset))
		}
	})
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("committed offsets are not the end offsets: %v", bad)
	}
}
