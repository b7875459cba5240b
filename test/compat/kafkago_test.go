package compat

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func kafkaGoCodec(t testing.TB, codec string) kafka.Compression {
	switch codec {
	case "none":
		return 0
	case "gzip":
		return kafka.Gzip
	case "snappy":
		return kafka.Snappy
	case "lz4":
		return kafka.Lz4
	case "zstd":
		return kafka.Zstd
	}
	t.Fatalf("unknown codec %q", codec)
	return 0
}

// kafkaGoNet is where and how kafka-go connects: a listener's address and,
// for a secured one, TLS and a SASL mechanism.
type kafkaGoNet struct {
	addr string
	tls  *tls.Config
	sasl sasl.Mechanism
}

// dialer returns a Dialer for kn (kafka-go's Reader connects through one).
func (kn kafkaGoNet) dialer() *kafka.Dialer {
	return &kafka.Dialer{
		ClientID:      "samsa-compat-kafka-go",
		Timeout:       10 * time.Second,
		DualStack:     true,
		TLS:           kn.tls,
		SASLMechanism: kn.sasl,
	}
}

func produceKafkaGo(t testing.TB, kn kafkaGoNet, topic, codec string, want []rec) []produced {
	t.Helper()
	var mu sync.Mutex
	var acks []produced
	// A Transport of its own: the default one is shared process-wide and
	// caches metadata from before this test's topic existed.
	transport := &kafka.Transport{ClientID: "samsa-compat-kafka-go", TLS: kn.tls, SASL: kn.sasl}
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{
		Addr:         kafka.TCP(kn.addr),
		Transport:    transport,
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks: kafka.RequireAll,
		Compression:  kafkaGoCodec(t, codec),
		BatchSize:    100,
		BatchTimeout: 10 * time.Millisecond,
		Completion: func(msgs []kafka.Message, err error) {
			if err != nil {
				return // WriteMessages reports it
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				i, ierr := indexOf(string(m.Value))
				if ierr != nil {
					t.Errorf("kafka-go: completion for unknown message: %v", ierr)
					continue
				}
				acks = append(acks, produced{Index: i, Partition: int32(m.Partition), Offset: m.Offset, Timestamp: m.Time.UnixMilli()})
			}
		},
	}
	msgs := make([]kafka.Message, len(want))
	for i, r := range want {
		m := kafka.Message{Key: []byte(r.Key), Value: []byte(r.Value), Time: time.UnixMilli(r.Timestamp)}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h[0], Value: []byte(h[1])})
		}
		msgs[i] = m
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := w.WriteMessages(ctx, msgs...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) {
			t.Fatalf("kafka-go: %d of %d messages failed, e.g. %v", werrs.Count(), len(msgs), firstErr(werrs))
		}
		t.Fatalf("kafka-go: write: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return acks
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func fromKafkaGo(m kafka.Message) consumed {
	k, v := string(m.Key), string(m.Value)
	c := consumed{Partition: int32(m.Partition), Offset: m.Offset, Timestamp: m.Time.UnixMilli(), Key: &k, Value: &v}
	if m.Key == nil {
		c.Key = nil
	}
	if m.Value == nil {
		c.Value = nil
	}
	for _, h := range m.Headers {
		c.Headers = append(c.Headers, [2]string{h.Key, string(h.Value)})
	}
	return c
}

// consumeKafkaGo reads each partition with its own partition Reader from the
// first offset.
func consumeKafkaGo(t testing.TB, node *clustertest.Node, topic string, n int) []consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out := make(chan consumed, n+16)
	errs := make(chan error, numPartitions)
	var wg sync.WaitGroup
	for p := 0; p < numPartitions; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:     []string{node.Addr},
			Topic:       topic,
			Partition:   p,
			StartOffset: kafka.FirstOffset,
			MaxWait:     200 * time.Millisecond,
		})
		wg.Add(1)
		go func() { // stopped by cancel
			defer wg.Done()
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				select {
				case out <- fromKafkaGo(m):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var got []consumed
	var extra <-chan time.Time
loop:
	for {
		if len(got) >= n && extra == nil {
			extra = time.After(300 * time.Millisecond)
		}
		select {
		case c := <-out:
			got = append(got, c)
		case err := <-errs:
			t.Errorf("kafka-go: read: %v", err)
			break loop
		case <-extra:
			break loop
		case <-ctx.Done():
			t.Errorf("kafka-go: consumed %d of %d records before timeout", len(got), n)
			break loop
		}
	}
	cancel()
	wg.Wait()
	return got
}

// consumeKafkaGoGroup reads topic as a member of group and commits the last
// message of each partition.
func consumeKafkaGoGroup(t testing.TB, kn kafkaGoNet, topic, group string, n int) []consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{
		Dialer:         kn.dialer(),
		Brokers:        []string{kn.addr},
		GroupID:        group,
		Topic:          topic,
		StartOffset:    kafka.FirstOffset,
		MaxWait:        200 * time.Millisecond,
		CommitInterval: 0, // synchronous commits
	})
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("kafka-go group: close: %v", err)
		}
	}()
	var got []consumed
	last := make(map[int]kafka.Message)
	for len(got) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Errorf("kafka-go group: consumed %d of %d records: %v", len(got), n, err)
			return got
		}
		got = append(got, fromKafkaGo(m))
		last[m.Partition] = m
	}
	extra, cancelExtra := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelExtra()
	for {
		m, err := r.FetchMessage(extra)
		if err != nil {
			break
		}
		got = append(got, fromKafkaGo(m))
		last[m.Partition] = m
	}
	var toCommit []kafka.Message
	for _, m := range last {
		toCommit = append(toCommit, m)
	}
	if err := r.CommitMessages(ctx, toCommit...); err != nil {
		t.Errorf("kafka-go group: commit: %v", err)
	}
	return got
}

// TestKafkaGo round-trips through segmentio/kafka-go (acks=all,
// Murmur2Balancer) with every codec and consumes as a group.
func TestKafkaGo(t *testing.T) {
	t.Parallel()
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-kafkago-" + codec
			createTopic(t, node, topic)
			want := genRecords("kafka-go", codec, numRecords)
			acks := produceKafkaGo(t, kafkaGoNet{addr: node.Addr}, topic, codec, want)
			checkProduced(t, want, acks)
			got := consumeKafkaGo(t, node, topic, len(want))
			checkConsumed(t, "kafka-go", want, got, acks, checkOpts{})
			checkConsumed(t, "franz-go reading kafka-go", want, consumeKgo(t, node, topic, len(want), ""), acks, checkOpts{})
		})
	}
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-kafkago-group", "compat-kafkago-group"
		want := seedTopic(t, node, topic)
		got := consumeKafkaGoGroup(t, kafkaGoNet{addr: node.Addr}, topic, group, len(want))
		checkConsumed(t, "kafka-go group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
