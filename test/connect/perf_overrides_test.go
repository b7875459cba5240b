package connect

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestPerfClientOverrides shows that a worker's consumer.* properties and
// a connector's consumer.override.* settings reach the sink tasks'
// consumers. The worker sets consumer.session.timeout.ms=6000; sink
// "short" has no override, sink "long" overrides it to 50 s. After the
// worker is killed with kill -9, a new member of "short"'s group
// connect-short gets its partition once the dead member's 6 s session
// ends, well before the 45 s default; one of connect-long's does not get
// it in that time, the dead member's 50 s session still holding it.
func TestPerfClientOverrides(t *testing.T) {
	broker := javaStartBroker(t)
	topic := "perf-overrides"
	distCreateTopic(t, broker.Client(t), topic, 1)
	cl := broker.Client(t)
	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(`{"seqno":1}`)}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	props := distSamsaProps(javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "perf-overrides",
		Props: map[string]string{"consumer.session.timeout.ms": "6000", "consumer.heartbeat.interval.ms": "1000",
			"value.converter.schemas.enable": "false"}})
	w := distStartSamsa(t, props)[0]
	sink := func(name, extra string) {
		distPost(t, http.MethodPost, w.URL+"/connectors", `{"name":"`+name+`","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSinkConnector","tasks.max":"1","topics":"`+topic+`"`+extra+`}}`, http.StatusCreated)
		distWaitFor(t, w.URL+"/connectors/"+name+"/status", 60*time.Second, javaAllRunning(1))
	}
	sink("short", "")
	sink("long", `,"consumer.override.session.timeout.ms":"50000","consumer.override.heartbeat.interval.ms":"3000"`)
	for _, g := range []string{"connect-short", "connect-long"} {
		perfWaitCommitted(t, broker, g, 10)
	}
	w.Kill()
	killed := time.Now()
	short := perfJoin(t, broker, "connect-short", topic, 30*time.Second)
	if short < 0 {
		t.Fatalf("connect-short: no partition %s after the worker's kill, want it after its 6 s session (the worker's consumer.session.timeout.ms)", time.Since(killed).Round(time.Second))
	}
	if long := perfJoin(t, broker, "connect-long", topic, 15*time.Second); long >= 0 {
		t.Fatalf("connect-long: partition assigned %s after the kill, want the override's 50 s session to hold it", long.Round(time.Second))
	}
	t.Logf("connect-short's partition moved %s after the kill; connect-long's stayed with the dead member for 15 s more", short.Round(time.Second))
}

// perfWaitCommitted waits until group has committed at least n records.
func perfWaitCommitted(t *testing.T, broker *clustertest.Node, group string, n int64) {
	t.Helper()
	adm := kadm.NewClient(broker.Client(t))
	deadline := time.Now().Add(60 * time.Second)
	for {
		var at int64
		offs, err := adm.FetchOffsets(context.Background(), group)
		if err == nil {
			offs.Each(func(o kadm.OffsetResponse) { at += o.At })
		}
		if at >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %d records (err %v), want %d", group, at, err, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// perfJoin joins group as a plain consumer of topic and returns how long
// it took to be assigned a partition, or -1 when it was not within wait.
func perfJoin(t *testing.T, broker *clustertest.Node, group, topic string, wait time.Duration) time.Duration {
	t.Helper()
	got := make(chan struct{}, 1)
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if len(m[topic]) > 0 {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cl.CloseAllowingRebalance()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	done := make(chan struct{})
	go func() { // polls so the client joins; ends with ctx, waited below
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-got:
		return time.Since(start)
	case <-ctx.Done():
		return -1
	}
}

// TestPerfOverridePolicyNone: with connector.client.config.override.policy=None
// a connector overriding a client setting is refused with Java's 400 and
// message; with the default policy (All) a bad value is refused and a
// good one accepted.
func TestPerfOverridePolicyNone(t *testing.T) {
	broker := javaStartBroker(t)
	none := distSamsaProps(javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "perf-policy-none",
		Props: map[string]string{"connector.client.config.override.policy": "None"}})
	all := distSamsaProps(javaWorkerConfig{Bootstrap: broker.Addr, GroupID: "perf-policy-all"})
	ws := distStartSamsa(t, none, all)
	body := func(name, override string) string {
		return `{"name":"` + name + `","config":{"connector.class":"org.apache.kafka.connect.tools.VerifiableSinkConnector","tasks.max":"1","topics":"perf-policy","consumer.override.session.timeout.ms":"` + override + `"}}`
	}
	a := distPost(t, http.MethodPost, ws[0].URL+"/connectors", body("refused", "6000"), http.StatusBadRequest)
	perfWantError(t, a, "Connector configuration is invalid and contains the following 1 error(s):\nThe 'None' policy does not allow 'session.timeout.ms' to be overridden in the connector configuration.")
	distPost(t, http.MethodGet, ws[0].URL+"/connectors/refused", "", http.StatusNotFound)

	a = distPost(t, http.MethodPost, ws[1].URL+"/connectors", body("bad", "soon"), http.StatusBadRequest)
	perfWantError(t, a, "Invalid value soon for configuration session.timeout.ms")
	distPost(t, http.MethodPost, ws[1].URL+"/connectors", body("good", "6000"), http.StatusCreated)
	distWaitFor(t, ws[1].URL+"/connectors/good/status", 60*time.Second, javaAllRunning(1))
}

// perfWantError checks a Connect error body: error_code 400 and a message
// containing want.
func perfWantError(t *testing.T, a javaAnswer, want string) {
	t.Helper()
	var e struct {
		Code int    `json:"error_code"`
		Msg  string `json:"message"`
	}
	if err := json.Unmarshal(a.Body, &e); err != nil || e.Code != http.StatusBadRequest || !strings.Contains(e.Msg, want) {
		t.Fatalf("answer %d %s: want error_code 400 with a message containing %q", a.Status, a.Body, want)
	}
}
