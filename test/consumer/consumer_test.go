package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const brokerConfig = "offsets.topic.num.partitions=4\ngroup.initial.rebalance.delay.ms=0\n"

const opTimeout = 60 * time.Second

// tpo is a record position.
type tpo struct {
	p int32
	o int64
}

func produce(t *testing.T, node *clustertest.Node, topic string, from, n int) []tpo {
	t.Helper()
	cl := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var mu sync.Mutex
	var out []tpo
	var firstErr error
	var wg sync.WaitGroup
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

// killDialer cuts a client off the network: a crashed process.
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

// tracker records what members consume and own.
type tracker struct {
	mu       sync.Mutex
	consumed map[tpo]int
	owned    map[string]map[int32]bool
}

type member struct {
	name   string
	cl     *kgo.Client
	dialer *killDialer
	cancel context.CancelFunc
	done   chan struct{}
}

func startMember(t *testing.T, node *clustertest.Node, tr *tracker, name, group, topic string, balancer kgo.GroupBalancer) *member {
	t.Helper()
	return startMemberWith(t, node, tr, name, group, topic, false, balancer)
}

// startMemberWith starts a member using the KIP-848 protocol, or with
// classic set the classic one (JoinGroup/SyncGroup, balancer run by the
// group leader).
func startMemberWith(t *testing.T, node *clustertest.Node, tr *tracker, name, group, topic string, classic bool, balancer kgo.GroupBalancer) *member {
	t.Helper()
	m := &member{name: name, dialer: &killDialer{}, done: make(chan struct{})}
	setOwned := func(a map[string][]int32, add bool) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if tr.owned[name] == nil {
			tr.owned[name] = map[int32]bool{}
		}
		for _, ps := range a {
			for _, p := range ps {
				if add {
					tr.owned[name][p] = true
				} else {
					delete(tr.owned[name], p)
				}
			}
		}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(node.Addr),
		kgo.Dialer(m.dialer.dial),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.Balancers(balancer),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.AutoCommitInterval(300 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { setOwned(a, true) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			_ = cl.CommitUncommittedOffsets(ctx)
			setOwned(r, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) { setOwned(l, false) }),
	}
	if !classic {
		opts = append(opts, kgo.ServerSideBalancer())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { // owned by m; stopped by m.cancel; waited via m.done
		defer close(m.done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				tr.mu.Lock()
				tr.consumed[tpo{r.Partition, r.Offset}]++
				tr.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { m.stop(false) })
	return m
}

func (m *member) stop(crash bool) {
	select {
	case <-m.done:
		return
	default:
	}
	if crash {
		m.dialer.kill()
	}
	m.cancel()
	<-m.done
	if !crash {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = m.cl.CommitUncommittedOffsets(ctx)
		cancel()
		m.cl.Close()
		return
	}
	// A crashed client must not leave the group on Close.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = m.cl.LeaveGroupContext(ctx)
	m.cl.Close()
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// owns reports whether exactly the given members own all n partitions,
// each once.
func (tr *tracker) owns(n int32, members ...string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	alive := map[string]bool{}
	count := map[int32]int{}
	for _, m := range members {
		alive[m] = true
		if len(tr.owned[m]) == 0 {
			return false
		}
		for p := range tr.owned[m] {
			count[p]++
		}
	}
	for m, own := range tr.owned {
		if !alive[m] && len(own) > 0 {
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

func (tr *tracker) consumedAll(ps []tpo) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, p := range ps {
		if tr.consumed[p] == 0 {
			return false
		}
	}
	return true
}

// watchCommits polls the group's committed offsets and fails the test if
// one ever goes backwards.
func watchCommits(t *testing.T, adm *kadm.Client, group string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var mu sync.Mutex
	var regress []string
	go func() { // owned by the test; stopped by stop; waited by stop
		defer close(done)
		last := map[int32]int64{}
		for ctx.Err() == nil {
			offs, err := adm.FetchOffsets(ctx, group)
			if err == nil {
				offs.Each(func(o kadm.OffsetResponse) {
					if prev, ok := last[o.Partition]; ok && o.At < prev {
						mu.Lock()
						regress = append(regress, fmt.Sprintf("partition %d: %d → %d", o.Partition, prev, o.At))
						mu.Unlock()
					}
					last[o.Partition] = o.At
				})
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(regress) > 0 {
			t.Errorf("committed offsets went backwards: %v", regress)
		}
	}
}

func TestConsumerProtocolChurn(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{Config: brokerConfig})
	const topic, group, parts = "t848", "g848", 6
	adm := kadm.NewClient(node.Client(t))
	ctx := context.Background() // each wait below has its own bound
	if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produced := produce(t, node, topic, 0, 3000)
	stopWatch := watchCommits(t, adm, group)

	tr := &tracker{consumed: map[tpo]int{}, owned: map[string]map[int32]bool{}}
	m1 := startMember(t, node, tr, "m1", group, topic, kgo.StickyBalancer())
	waitFor(t, opTimeout, "m1 to own everything", func() bool { return tr.owns(parts, "m1") })

	// The group is a KIP-848 group.
	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if d := described[group]; d.Err != nil || len(d.Members) != 1 || d.AssignorName != "uniform" {
		t.Fatalf("ConsumerGroupDescribe: %+v", d)
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lg := listed[group]; lg.GroupType != "consumer" {
		t.Fatalf("ListGroups type %q", lg.GroupType)
	}

	m2 := startMember(t, node, tr, "m2", group, topic, kgo.StickyBalancer())
	m3 := startMember(t, node, tr, "m3", group, topic, kgo.StickyBalancer())
	waitFor(t, opTimeout, "three members to share the partitions", func() bool { return tr.owns(parts, "m1", "m2", "m3") })
	produced = append(produced, produce(t, node, topic, 3000, 3000)...)

	m2.stop(false) // leaves the group
	waitFor(t, opTimeout, "m1 and m3 to take over m2's partitions", func() bool { return tr.owns(parts, "m1", "m3") })

	m3.stop(true) // crashes: fenced after group.consumer.session.timeout.ms
	tr.mu.Lock()
	tr.owned["m3"] = nil
	tr.mu.Unlock()
	waitFor(t, 2*opTimeout, "m1 to own everything after m3's session expired", func() bool { return tr.owns(parts, "m1") })
	produced = append(produced, produce(t, node, topic, 6000, 1000)...)
	waitFor(t, opTimeout, "every record to be consumed", func() bool { return tr.consumedAll(produced) })

	m1.stop(false)
	stopWatch()

	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(topic, e.Partition)
		if !ok || o.At != e.Offset {
			t.Errorf("partition %d: committed %v (found %v), end %d", e.Partition, o.At, ok, e.Offset)
		}
	})

	// All members gone: the group is empty and a classic consumer can
	// take it over (downgrade), starting from the committed offsets.
	classic, err := kgo.NewClient(kgo.SeedBrokers(node.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer classic.Close()
	pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
	defer pcancel()
	go func() { classic.PollFetches(pctx) }()
	waitFor(t, opTimeout, "the group to become classic", func() bool {
		l, err := adm.ListGroups(ctx)
		return err == nil && l[group].GroupType == "classic" && l[group].State == "Stable"
	})
}
