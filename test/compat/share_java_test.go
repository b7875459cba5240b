package compat

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// shareEvent is one JSON line of the Java driver's share-consume mode.
type shareEvent struct {
	Event     string `json:"event"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Delivery  int    `json:"delivery"`
	Value     string `json:"value"`
	Error     string `json:"error"`
}

// shareLog collects the events of every share consumer.
type shareLog struct {
	mu       sync.Mutex
	records  map[string][]shareEvent // by value
	parts    map[int32]bool          // partitions some member got a record from
	failures []string
}

func (l *shareLog) read(t *testing.T, name string, r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var e shareEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Errorf("%s: bad line %q: %v", name, sc.Text(), err)
			continue
		}
		l.mu.Lock()
		switch e.Event {
		case "record":
			l.records[e.Value] = append(l.records[e.Value], e)
			l.parts[e.Partition] = true
		case "commit_failed":
			l.failures = append(l.failures, name+": "+e.Error)
		}
		l.mu.Unlock()
	}
}

// TestJavaShareConsumers runs three Java KafkaShareConsumers (kafka-clients
// 4.4, explicit acknowledgement, ACCEPT and commitSync) in one share group
// on a six-partition topic: every record is delivered and accepted exactly
// once overall, with delivery count 1, and no commit fails. The group uses
// share.auto.offset.reset=latest (Kafka's default), so the test first
// produces warm-up records until every partition has delivered one.
func TestJavaShareConsumers(t *testing.T) {
	t.Parallel()
	java, jar := javaCommand(t)
	node := startBroker(t)
	node.RequireAPIs(t, "KIP-932 share groups", kmsg.ShareGroupHeartbeat, kmsg.ShareFetch, kmsg.ShareAcknowledge)
	const topic, group, n = "compat-java-share", "compat-java-share", 3000
	createTopicN(t, node, topic, 6)
	log := &shareLog{records: map[string][]shareEvent{}, parts: map[int32]bool{}}
	var stdins []io.WriteCloser
	var dones []chan struct{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("java-share-%d", i)
		cmd := exec.Command(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar, "share-consume", node.Addr, topic, group, "client.id="+name)
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr := &tailWriter{max: 4096}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go log.read(t, name, out, done) // ends when the process closes stdout
		t.Cleanup(func() {
			in.Close()
			if err := cmd.Wait(); err != nil {
				t.Errorf("%s: %v; stderr: %s", name, err, stderr.String())
			}
		})
		stdins, dones = append(stdins, in), append(dones, done)
	}
	cl := node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	produce := func(prefix string, count int) {
		recs := make([]*kgo.Record, count)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Partition: int32(i % 6), Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; ; round++ {
		log.mu.Lock()
		ready := len(log.parts) == 6
		log.mu.Unlock()
		if ready {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("share consumers never received from every partition: %v", log.parts)
		}
		produce(fmt.Sprintf("warmup%d", round), 6)
		time.Sleep(300 * time.Millisecond)
	}
	produce("r", n)
	for {
		log.mu.Lock()
		got := 0
		for v := range log.records {
			if strings.HasPrefix(v, "r-") {
				got++
			}
		}
		log.mu.Unlock()
		if got == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d records delivered", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a redelivery would show up now
	for i, in := range stdins {
		in.Close()
		<-dones[i]
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("r-%d", i)
		if evs := log.records[v]; len(evs) != 1 || evs[0].Delivery != 1 {
			t.Errorf("record %s: deliveries %+v, want one with delivery count 1", v, evs)
		}
	}
	if len(log.failures) > 0 {
		t.Errorf("commitSync failures: %v", log.failures)
	}
}
