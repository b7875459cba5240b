package chaos_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// topicChurn creates topics and deletes every other one in a loop through
// a kadm client seeded with the whole cluster, and remembers what each
// request answered. Its goroutine is stopped and waited by stop.
type topicChurn struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// state of each topic touched: "created", "deleted" (the request
	// succeeded), or "unknown" (the last request on it failed: it may or
	// may not have applied).
	state   map[string]string
	creates int
	deletes int
	fails   []string
}

func startTopicChurn(t *testing.T, seeds []string, prefix string) *topicChurn {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestTimeoutOverhead(2*time.Second),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.RetryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(5000)
	ctx, cancel := context.WithCancel(context.Background())
	tc := &topicChurn{cancel: cancel, done: make(chan struct{}), state: map[string]string{}}
	go func() { // owned by tc; stopped by tc.stop (cancel); waited via tc.done
		defer close(tc.done)
		defer cl.Close()
		for i := 0; ctx.Err() == nil; i++ {
			name := fmt.Sprintf("%s-%d", prefix, i)
			rctx, rcancel := context.WithTimeout(ctx, 8*time.Second)
			resp, err := adm.CreateTopic(rctx, 1, 1, nil, name)
			rcancel()
			if err == nil {
				err = resp.Err
			}
			if ctx.Err() != nil {
				tc.record(name, "unknown", "create", err)
				return
			}
			tc.record(name, "created", "create", err)
			if i%2 == 1 {
				victim := fmt.Sprintf("%s-%d", prefix, i-1)
				rctx, rcancel := context.WithTimeout(ctx, 8*time.Second)
				dresp, err := adm.DeleteTopic(rctx, victim)
				rcancel()
				if err == nil {
					err = dresp.Err
				}
				if ctx.Err() != nil {
					tc.record(victim, "unknown", "delete", err)
					return
				}
				tc.record(victim, "deleted", "delete", err)
			}
		}
	}()
	t.Cleanup(tc.stop)
	return tc
}

func (tc *topicChurn) record(name, ok, op string, err error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if err != nil {
		tc.state[name] = "unknown"
		if len(tc.fails) < 20 {
			tc.fails = append(tc.fails, fmt.Sprintf("%s %s %s: %v", time.Now().Format("15:04:05.000"), op, name, err))
		}
		return
	}
	tc.state[name] = ok
	if op == "create" {
		tc.creates++
	} else {
		tc.deletes++
	}
}

func (tc *topicChurn) stop() {
	tc.cancel()
	<-tc.done
}

func (tc *topicChurn) counts() (creates, deletes int) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.creates, tc.deletes
}

// metadataOf asks node n for every topic and returns the topics named
// prefix-* and the brokers it lists.
func metadataOf(ctx context.Context, n *clustertest.ClusterNode, prefix string) (topics []string, brokers []int32, err error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	r, err := n.Request(ctx, kmsg.NewPtrMetadataRequest())
	if err != nil {
		return nil, nil, err
	}
	resp := r.(*kmsg.MetadataResponse)
	for _, t := range resp.Topics {
		if t.Topic != nil && strings.HasPrefix(*t.Topic, prefix+"-") {
			topics = append(topics, *t.Topic)
		}
	}
	for _, b := range resp.Brokers {
		brokers = append(brokers, b.NodeID)
	}
	slices.Sort(topics)
	slices.Sort(brokers)
	return topics, brokers, nil
}

// Scenario 5: SIGSTOP the active controller for twice the session timeout
// while topics are created and deleted in a loop, then SIGCONT. Afterwards
// every node's Metadata lists the same topics, every create that
// succeeded (and was not followed by a successful delete) exists, and no
// successfully deleted topic does.
func TestPauseActiveControllerDuringTopicChurn(t *testing.T) {
	const prefix = "churn"
	c := startCluster(t, 3, clustertest.ClusterOptions{})
	ctx := ctxFor(t, 3*time.Minute)
	churn := startTopicChurn(t, c.Bootstrap(), prefix)
	time.Sleep(2 * time.Second)

	rounds(t, 1, func(i int) {
		active, err := c.ActiveController(ctx, 10*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		cr, dl := churn.counts()
		node := c.Node(active)
		node.Pause()
		pausedAt := time.Now()
		t.Logf("round %d: paused active controller %d after %d creates and %d deletes", i, active, cr, dl)
		newActive, err := c.ActiveController(ctx, 20*time.Second)
		if err != nil {
			t.Errorf("round %d: while %d is paused: %v", i, active, err)
		} else if newActive != active {
			t.Logf("round %d: node %d took over %v after the pause", i, newActive, time.Since(pausedAt).Round(time.Millisecond))
		}
		if rest := 2*sessionTimeout - time.Since(pausedAt); rest > 0 {
			time.Sleep(rest)
		}
		node.Resume()
		time.Sleep(3 * time.Second) // churn goes on with the resumed node back
	})
	churn.stop()
	creates, deletes := churn.counts()
	t.Logf("churn: %d creates and %d deletes succeeded; failures: %v", creates, deletes, churn.fails)
	if creates == 0 {
		t.Fatal("no topic creation succeeded")
	}

	var want, maybe []string
	for name, st := range churn.state {
		switch st {
		case "created":
			want = append(want, name)
		case "unknown":
			maybe = append(maybe, name)
		}
	}
	slices.Sort(want)
	var last string
	deadline := time.Now().Add(20 * time.Second)
	for {
		views := map[int32][]string{}
		var problems []string
		for _, n := range c.Nodes {
			got, brokers, err := metadataOf(ctx, n, prefix)
			if err != nil {
				problems = append(problems, fmt.Sprintf("node %d: %v", n.ID, err))
				continue
			}
			views[n.ID] = got
			if len(brokers) != len(c.Nodes) {
				problems = append(problems, fmt.Sprintf("node %d lists brokers %v (the others fenced)", n.ID, brokers))
			}
		}
		if len(problems) == 0 {
			first := views[c.Nodes[0].ID]
			for _, n := range c.Nodes[1:] {
				if !slices.Equal(views[n.ID], first) {
					problems = append(problems, fmt.Sprintf("node %d lists %d topics, node %d %d: only on %d: %v, only on %d: %v",
						c.Nodes[0].ID, len(first), n.ID, len(views[n.ID]),
						c.Nodes[0].ID, minus(first, views[n.ID]), n.ID, minus(views[n.ID], first)))
				}
			}
			if missing := minus(want, first); len(missing) > 0 {
				problems = append(problems, fmt.Sprintf("topics whose CreateTopics succeeded are missing: %v", missing))
			}
			if extra := minus(minus(first, want), maybe); len(extra) > 0 {
				problems = append(problems, fmt.Sprintf("topics listed that were deleted successfully (or never created): %v", extra))
			}
		}
		if len(problems) == 0 {
			t.Logf("every node lists the same %d %s-* topics", len(views[c.Nodes[0].ID]), prefix)
			return
		}
		last = strings.Join(problems, "; ")
		if time.Now().After(deadline) {
			t.Fatalf("metadata after the controller pause: %s", last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// minus returns the members of a not in b.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return slices.Sorted(maps.Keys(setOf(out)))
}

func setOf(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}
