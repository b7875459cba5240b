package quota

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newManager(t testing.TB, cfg Config, quotas map[Entity]map[string]float64) (*Manager, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	m, err := NewManager(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(quotas)
	if err != nil {
		t.Fatal(err)
	}
	m.SetStore(s)
	return m, clock
}

// TestThrottleFormula checks Kafka's arithmetic on a fresh sensor: 1000
// bytes at once over the minimum span of 10 windows is 100 B/s; against
// 50 B/s that is (100-50)/50 × 10,000 ms.
func TestThrottleFormula(t *testing.T) {
	m, clock := newManager(t, Config{}.Defaults(), map[Entity]map[string]float64{
		{User: Name("alice")}: {ProducerByteRate: 50},
	})
	if got := m.RecordProduce("alice", "p", 400); got != 0 {
		t.Fatalf("40 B/s throttled %v", got)
	}
	if got := m.RecordProduce("alice", "p", 600); got != 10*time.Second {
		t.Fatalf("throttle %v, want 10s", got)
	}
	// 1.5 s later the span is 1.5 s plus the 9 windows still missing:
	// 1100 B over 10.5 s, (1100/10.5-50)/50 × 10,500 ms.
	clock.Advance(1500 * time.Millisecond)
	if got := m.RecordProduce("alice", "q", 100); got != 11500*time.Millisecond {
		t.Fatalf("throttle %v, want 11.5s (client-ids of a user share the rate)", got)
	}
}

// simulate runs a producer that would send 64 KiB batches at twice its
// 1 MiB/s quota and honours every throttle (sends, waits the throttle,
// sends again), for the given time, next to a producer of another user
// with no quota, who must never be throttled. It returns alice's average
// over the run as a fraction of the quota, and her throttle count.
func simulate(t *testing.T, cfg Config, run time.Duration) (float64, int) {
	t.Helper()
	const quota = 1 << 20
	m, clock := newManager(t, cfg, map[Entity]map[string]float64{
		{User: Name("alice")}: {ProducerByteRate: quota},
	})
	const batch = 64 << 10
	interval := time.Duration(float64(time.Second) * batch / (2 * quota))
	start := clock.Now()
	var sent, throttled int
	nextAlice, nextBob := start, start
	for clock.Now().Sub(start) < run {
		now := clock.Now()
		if !now.Before(nextAlice) {
			wait := m.RecordProduce("alice", "producer-1", batch)
			sent += batch
			if wait > 0 {
				throttled++
			}
			nextAlice = now.Add(max(interval, wait))
		}
		if !now.Before(nextBob) {
			if wait := m.RecordProduce("bob", "producer-2", 10*batch); wait != 0 {
				t.Fatalf("bob, who has no quota, throttled %v", wait)
			}
			nextBob = now.Add(interval)
		}
		clock.Advance(min(nextAlice.Sub(now), nextBob.Sub(now)))
	}
	return float64(sent) / run.Seconds() / quota, throttled
}

// TestProducerAtTwiceQuota: throttles bring a producer offering twice its
// quota to the quota. Kafka's sampled rate gives a fresh sensor the
// credit of its minimum span (quota.window.num-1 windows) and lets
// bursts through as whole windows leave the span, so a 20 s average
// swings with a period of about quota.window.num windows: within 10% with
// 5 one-second windows; with Kafka's 11 it reaches 1.12 over the first
// 20 s (Kafka's own behaviour) and converges to the quota over longer runs.
func TestProducerAtTwiceQuota(t *testing.T) {
	five := Config{}.Defaults()
	five.QuotaWindowNum = 5
	cases := []struct {
		cfg Config
		run time.Duration
		tol float64
	}{
		{five, 20 * time.Second, 0.10},
		{Config{}.Defaults(), 20 * time.Second, 0.15},
		{Config{}.Defaults(), 200 * time.Second, 0.02},
	}
	for _, c := range cases {
		avg, throttled := simulate(t, c.cfg, c.run)
		if math.Abs(avg-1) > c.tol || throttled == 0 {
			t.Errorf("%d windows, %v: average %.3f of the quota (%d throttles), want within %.0f%%",
				c.cfg.QuotaWindowNum, c.run, avg, throttled, 100*c.tol)
		}
		t.Logf("%d windows, %v: average %.3f of the quota, %d throttles", c.cfg.QuotaWindowNum, c.run, avg, throttled)
	}
}

func TestFetchUnrecordAndMaxBytes(t *testing.T) {
	m, _ := newManager(t, Config{}.Defaults(), map[Entity]map[string]float64{
		{ClientID: DefaultEntity()}: {ConsumerByteRate: 100},
	})
	if n, ok := m.MaxFetchBytes("u", "c"); !ok || n != 1000 {
		t.Fatalf("MaxFetchBytes = %d %v, want 100 × 10 windows × 1 s", n, ok)
	}
	if got := m.RecordFetch("u", "c", 2000); got == 0 {
		t.Fatal("2000 B against 1000 B per span not throttled")
	}
	m.UnrecordFetch("u", "c", 2000)
	if got := m.RecordFetch("u", "c", 900); got != 0 {
		t.Fatalf("after the unrecord, 900 B throttled %v", got)
	}
	if _, ok := m.MaxFetchBytes("u", "c"); !ok {
		t.Fatal("no limit")
	}
	m.SetStore(nil)
	if n, ok := m.MaxFetchBytes("u", "c"); ok || n != math.MaxInt64 {
		t.Fatalf("without quotas MaxFetchBytes = %d %v", n, ok)
	}
}

// TestRequestPercentage: request time is counted as percent of one
// thread, and the throttle is capped at one window.
func TestRequestPercentage(t *testing.T) {
	m, clock := newManager(t, Config{}.Defaults(), map[Entity]map[string]float64{
		{User: Name("alice"), ClientID: Name("c")}: {RequestPercentage: 10},
	})
	// 10% of one thread over the minimum 10 s span is 1 s of handling.
	if got := m.RecordRequestTime("alice", "c", time.Second); got != 0 {
		t.Fatalf("at the quota: throttle %v", got)
	}
	clock.Advance(time.Millisecond)
	// 110 over 10.001 s: (110/10.001-10)/10 × 10,001 ms.
	if got := m.RecordRequestTime("alice", "c", 100*time.Millisecond); got != 999*time.Millisecond {
		t.Fatalf("throttle %v, want 999ms", got)
	}
	if got := m.RecordRequestTime("alice", "c", 10*time.Second); got != time.Second {
		t.Fatalf("throttle %v, want capped at 1 s", got)
	}
	m.RecordNetworkTime("alice", "d", time.Hour) // no quota for client d: nothing
	if got := m.RecordRequestTime("alice", "d", time.Second); got != 0 {
		t.Fatalf("client d has no quota: throttle %v", got)
	}
}

// TestMutationTokenBucket: 10 mutations/s with 11 one-second windows is
// a burst of 110.
func TestMutationTokenBucket(t *testing.T) {
	m, clock := newManager(t, Config{}.Defaults(), map[Entity]map[string]float64{
		{User: DefaultEntity()}: {ControllerMutationRate: 10},
	})
	steps := []struct {
		advance    time.Duration
		partitions int
		throttle   time.Duration
		ok         bool
	}{
		{0, 100, 0, true},                     // 110 → 10
		{0, 30, 0, true},                      // 10 → -20: taken, the bucket was not below zero
		{0, 1, 2 * time.Second, false},        // refused until -20 refills
		{time.Second, 1, time.Second, false},  // -10
		{time.Second, 5, 0, true},             // 0 → -5
		{500 * time.Millisecond, 1, 0, true},  // 0 → -1
		{20 * time.Second, 110, 0, true},      // full again (capped at 110) → 0
		{100 * time.Millisecond, 2, 0, true},  // 1 → -1
		{0, 1, 100 * time.Millisecond, false}, // -1 needs 0.1 s
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		th, ok := m.CheckMutation("alice", "admin", s.partitions)
		if th != s.throttle || ok != s.ok {
			t.Fatalf("step %d: CheckMutation = %v %v, want %v %v", i, th, ok, s.throttle, s.ok)
		}
	}
	// Permissive (older versions): always taken, throttled below zero.
	if th := m.RecordMutation("bob", "admin", 115); th != 500*time.Millisecond {
		t.Fatalf("permissive throttle %v, want 0.5 s", th)
	}
	if th, ok := m.CheckMutation("nobody", "x", 110); !ok || th != 0 {
		t.Fatalf("user default applies to everyone: %v %v", th, ok)
	}
	m.SetStore(nil)
	if th, ok := m.CheckMutation("alice", "admin", 1000); !ok || th != 0 {
		t.Fatalf("no quota: %v %v", th, ok)
	}
}

func TestSensorExpiryAndCap(t *testing.T) {
	cfg := Config{}.Defaults()
	cfg.MaxSensors = 3
	m, clock := newManager(t, cfg, map[Entity]map[string]float64{
		{ClientID: DefaultEntity()}: {ProducerByteRate: 1000},
	})
	for _, c := range []string{"a", "b", "c"} {
		m.RecordProduce("u", c, 1)
		clock.Advance(time.Minute)
	}
	m.RecordProduce("u", "a", 1) // a is now the most recent; b the least
	m.RecordProduce("u", "d", 1)
	if n := m.Sensors(); n != 3 {
		t.Fatalf("%d sensors, want the cap of 3", n)
	}
	for c, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if got := m.sensors.peek(sensorKey{kind: kindProduce, client: c}); got != want {
			t.Errorf("sensor of %s kept = %v, want %v", c, got, want)
		}
	}
	clock.Advance(SensorExpiry - 2*time.Minute) // c was last used 59 min ago
	m.RecordProduce("u", "d", 1)
	if n := m.Expire(); n != 0 {
		t.Fatalf("expired %d before an hour", n)
	}
	clock.Advance(2 * time.Minute)
	if n := m.Expire(); n != 2 || m.Sensors() != 1 {
		t.Fatalf("expired %d, %d left; want a and c gone, d kept", n, m.Sensors())
	}
	// Lazy: creating a sensor drops expired ones.
	clock.Advance(2 * SensorExpiry)
	m.RecordProduce("u", "e", 1)
	if n := m.Sensors(); n != 1 {
		t.Fatalf("%d sensors after lazy expiry, want 1", n)
	}
}

func TestShardedTableCap(t *testing.T) {
	cfg := Config{}.Defaults()
	cfg.MaxSensors = 16 * 1024
	m, clock := newManager(t, cfg, map[Entity]map[string]float64{
		{ClientID: DefaultEntity()}: {ProducerByteRate: 1000},
	})
	for i := range 3 * cfg.MaxSensors {
		m.RecordProduce("u", itoa(i), 1)
		if i%1000 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
	if n := m.Sensors(); n > cfg.MaxSensors || n < cfg.MaxSensors*9/10 {
		t.Fatalf("%d sensors with a cap of %d", n, cfg.MaxSensors)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestConnectionRates(t *testing.T) {
	cfg := Config{}.Defaults()
	cfg.MaxConnectionCreationRate = 10
	m, clock := newManager(t, cfg, map[Entity]map[string]float64{
		{IP: DefaultEntity()}:     {ConnectionCreationRate: 2},
		{IP: Name("10.0.0.9")}:    {ConnectionCreationRate: 100},
		{IP: Name("2001:db8::1")}: {ConnectionCreationRate: 1},
	})
	a := netip.MustParseAddr("10.0.0.1")
	// 2/s over the minimum 10 s span: 20 connections pass, the 21st waits.
	for i := range 20 {
		if d, ok := m.AdmitConnection(a); !ok || d != 0 {
			t.Fatalf("connection %d: %v %v", i, d, ok)
		}
	}
	d, ok := m.AdmitConnection(a)
	if ok || d != 500*time.Millisecond {
		t.Fatalf("21st connection: %v %v, want refused, closed after 0.5 s", d, ok)
	}
	// Refused connections are not counted: still refused the same way.
	if d, ok := m.AdmitConnection(netip.MustParseAddr("::ffff:10.0.0.1")); ok || d != 500*time.Millisecond {
		t.Fatalf("mapped address: %v %v", d, ok)
	}
	if _, ok := m.AdmitConnection(netip.MustParseAddr("10.0.0.9")); !ok {
		t.Fatal("override of 100/s refused")
	}
	for range 10 {
		m.AdmitConnection(netip.MustParseAddr("2001:db8::1"))
	}
	if d, ok := m.AdmitConnection(netip.MustParseAddr("2001:db8::1")); ok || d != time.Second {
		t.Fatalf("1/s address after 11: %v %v, want the 1 s cap", d, ok)
	}
	clock.Advance(11 * time.Second)
	if _, ok := m.AdmitConnection(a); !ok {
		t.Fatal("not admitted after the window passed")
	}
	m.SetStore(nil)
	for range 100 {
		if _, ok := m.AdmitConnection(a); !ok {
			t.Fatal("no ip quota, refused")
		}
	}
}

func TestBrokerConnectionDelay(t *testing.T) {
	cfg := Config{}.Defaults()
	cfg.MaxConnectionCreationRate = 10
	m, clock := newManager(t, cfg, nil)
	for i := range 100 {
		if d := m.ConnectionDelay(); d != 0 {
			t.Fatalf("connection %d delayed %v", i, d)
		}
	}
	if d := m.ConnectionDelay(); d != 100*time.Millisecond {
		t.Fatalf("101st: %v, want (10.1-10)/10 × 10 s", d)
	}
	for range 1000 {
		m.ConnectionDelay()
	}
	if d := m.ConnectionDelay(); d != time.Second {
		t.Fatalf("burst: %v, want the 1 s cap", d)
	}
	clock.Advance(time.Minute)
	unlimited, _ := newManager(t, Config{}.Defaults(), nil)
	for range 10000 {
		if d := unlimited.ConnectionDelay(); d != 0 {
			t.Fatal("unlimited rate delayed")
		}
	}
}

func TestConcurrentRecording(t *testing.T) {
	cfg := Config{}.Defaults()
	m, clock := newManager(t, cfg, map[Entity]map[string]float64{
		{User: DefaultEntity()}: {ProducerByteRate: 1 << 20, RequestPercentage: 50},
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				m.RecordProduce(itoa(g), itoa(i%7), 100)
				m.RecordRequestTime(itoa(g), "c", time.Microsecond)
				if i%100 == 0 {
					clock.Advance(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	if n := m.Sensors(); n != 8 {
		t.Fatalf("%d sensors, want 4 users × (produce, request)", n)
	}
}

func BenchmarkRecordProduce(b *testing.B) {
	m, _ := newManager(b, Config{}.Defaults(), map[Entity]map[string]float64{
		{User: DefaultEntity()}:     {ProducerByteRate: 1 << 30},
		{ClientID: DefaultEntity()}: {ConsumerByteRate: 1 << 20},
	})
	m.clock = wallClock{}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RecordProduce("alice", "producer-1", 16<<10)
		}
	})
}
