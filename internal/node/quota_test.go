package node

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// quotaNode starts a node whose SASL_PLAINTEXT listener knows alice and
// bob (SCRAM), with producer_byte_rate bytes/s set for alice only.
func quotaNode(t testing.TB, rate float64) *Node {
	t.Helper()
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":               "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms": "SCRAM-SHA-256",
	})
	cfg.AddScram = []string{"SCRAM-SHA-256=[name=alice,password=a]", "SCRAM-SHA-256=[name=bob,password=b]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	cl := quotaClient(t, n, "alice", "a", nil)
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if r, err := adm.CreateTopic(ctx, 1, 1, nil, "quota"); err != nil || r.Err != nil {
		t.Fatalf("create topic: %v %v", err, r.Err)
	}
	alice := "alice"
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: []kadm.ClientQuotaEntityComponent{{Type: "user", Name: &alice}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: rate}},
	}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter quota: %v %+v", err, res)
	}
	return n
}

// throttles counts the throttle_time_ms brokers answered a client with.
type throttles struct{ n, ms atomic.Int64 }

func (h *throttles) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	h.n.Add(1)
	h.ms.Add(d.Milliseconds())
}

func quotaClient(t testing.TB, n *Node, user, pass string, h *throttles, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append(opts, kgo.SeedBrokers(n.Addr()), kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()),
		kgo.DefaultProduceTopic("quota"), kgo.ProducerLinger(0))
	if h != nil {
		opts = append(opts, kgo.WithHooks(h))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceFor sends 10 KiB records synchronously for d, numbering them,
// and returns how many it sent.
func produceFor(t testing.TB, cl *kgo.Client, who string, d time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	val := make([]byte, 10<<10)
	rand.Read(val) // incompressible: the quota counts bytes on the wire
	i := 0
	for end := time.Now().Add(d); time.Now().Before(end); i++ {
		r := &kgo.Record{Key: []byte(who), Value: append([]byte(who+":"+strconv.Itoa(i)+":"), val...)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Errorf("%s produce %d: %v", who, i, err)
			return i
		}
	}
	return i
}

// TestProducerQuota: alice, over her producer_byte_rate, is answered with
// throttle_time_ms (and her connection muted) while bob, without a quota,
// never is; both users' records are stored in the order sent.
func TestProducerQuota(t *testing.T) {
	n := quotaNode(t, 64<<10)
	var ha, hb throttles
	alice := quotaClient(t, n, "alice", "a", &ha)
	bob := quotaClient(t, n, "bob", "b", &hb)
	var wg sync.WaitGroup
	sent := map[string]int{}
	var mu sync.Mutex
	for who, cl := range map[string]*kgo.Client{"alice": alice, "bob": bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := produceFor(t, cl, who, 3*time.Second)
			mu.Lock()
			sent[who] = k
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ha.n.Load() == 0 || ha.ms.Load() <= 0 {
		t.Fatalf("alice over her quota got no throttle_time_ms (%d responses throttled)", ha.n.Load())
	}
	if hb.n.Load() != 0 {
		t.Fatalf("bob without a quota was throttled %d times (%d ms)", hb.n.Load(), hb.ms.Load())
	}
	consumer := quotaClient(t, n, "bob", "b", nil, kgo.ConsumeTopics("quota"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	next := map[string]int{}
	for next["alice"] < sent["alice"] || next["bob"] < sent["bob"] {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %v of %v", next, sent)
		}
		fs.EachRecord(func(r *kgo.Record) {
			who, rest, _ := strings.Cut(string(r.Value), ":")
			num, _, _ := strings.Cut(rest, ":")
			if num != strconv.Itoa(next[who]) {
				t.Fatalf("%s's record %s after %d: out of order", who, num, next[who]-1)
			}
			next[who]++
		})
	}
}

// BenchmarkProducerQuota runs alice (producer_byte_rate 256 KiB/s) and bob
// (no quota) side by side for 20 s and reports both rates and alice's
// rate as a fraction of her quota, over the 20 s and over its last 10 s
// (Kafka's sampled rate admits a burst of about (quota.window.num - 1) ×
// quota.window.size.seconds of quota at first).
func BenchmarkProducerQuota(b *testing.B) {
	const quota = 256 << 10
	for range b.N {
		n := quotaNode(b, quota)
		alice := quotaClient(b, n, "alice", "a", nil)
		bob := quotaClient(b, n, "bob", "b", nil)
		const half = 10 * time.Second
		var wg sync.WaitGroup
		var a1, a2, sentB int
		wg.Add(2)
		go func() {
			defer wg.Done()
			a1 = produceFor(b, alice, "alice", half)
			a2 = produceFor(b, alice, "alice", half)
		}()
		go func() { defer wg.Done(); sentB = produceFor(b, bob, "bob", 2*half) }()
		wg.Wait()
		rate := func(k int, d time.Duration) float64 { return float64(k) * (10 << 10) / d.Seconds() }
		b.ReportMetric(rate(a1+a2, 2*half), "alice-B/s")
		b.ReportMetric(rate(sentB, 2*half), "bob-B/s")
		b.ReportMetric(rate(a1+a2, 2*half)/quota, "alice/quota")
		b.ReportMetric(rate(a2, half)/quota, "alice-last10s/quota")
	}
}

// TestControllerMutationQuota (KIP-599): with controller_mutation_rate 1
// partition/s, alice's first large CreateTopics takes the bucket below
// zero and her next topic is refused with THROTTLING_QUOTA_EXCEEDED and a
// throttle; bob, without the quota, creates his.
func TestControllerMutationQuota(t *testing.T) {
	n := quotaNode(t, 1<<30)
	var ha throttles
	admin := kadm.NewClient(quotaClient(t, n, "alice", "a", nil))
	ctx := context.Background()
	alice := "alice"
	res, err := admin.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: []kadm.ClientQuotaEntityComponent{{Type: "user", Name: &alice}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "controller_mutation_rate", Value: 1}},
	}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter quota: %v %+v", err, res)
	}
	adm := kadm.NewClient(quotaClient(t, n, "alice", "a", &ha))
	if r, err := adm.CreateTopic(ctx, 40, 1, nil, "big"); err != nil || r.Err != nil {
		t.Fatalf("first create: %v %v", err, r.Err)
	}
	r, err := adm.CreateTopic(ctx, 1, 1, nil, "next")
	if err == nil {
		err = r.Err
	}
	if !errors.Is(err, kerr.ThrottlingQuotaExceeded) {
		t.Fatalf("second create: %v, want THROTTLING_QUOTA_EXCEEDED", err)
	}
	if ha.n.Load() == 0 {
		t.Fatal("no throttle_time_ms on the refused CreateTopics")
	}
	bob := kadm.NewClient(quotaClient(t, n, "bob", "b", nil))
	if r, err := bob.CreateTopic(ctx, 40, 1, nil, "bobs"); err != nil || r.Err != nil {
		t.Fatalf("bob's create: %v %v", err, r.Err)
	}
}
