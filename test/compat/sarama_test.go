package compat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func saramaCodec(t testing.TB, codec string) sarama.CompressionCodec {
	switch codec {
	case "none":
		return sarama.CompressionNone
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	t.Fatalf("unknown codec %q", codec)
	return 0
}

// murmur2Partitioner is Java's default partitioner for keyed records; sarama's
// default hashes with FNV-1a.
type murmur2Partitioner struct{}

func (murmur2Partitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	key, err := m.Key.Encode()
	if err != nil {
		return 0, err
	}
	return keyPartition(string(key), int(n)), nil
}

func (murmur2Partitioner) RequiresConsistency() bool { return true }

// saramaConfig is sarama's default configuration (protocol version 2.8),
// with acks=all and the murmur2 partitioner.
func saramaConfig(version sarama.KafkaVersion) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "samsa-compat-sarama"
	cfg.Version = version
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 10
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = func(string) sarama.Partitioner { return murmur2Partitioner{} }
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func produceSarama(t testing.TB, addr string, cfg *sarama.Config, topic string, want []rec) []produced {
	t.Helper()
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama: new producer: %v", err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(want))
	for i, w := range want {
		m := &sarama.ProducerMessage{
			Topic:     topic,
			Key:       sarama.StringEncoder(w.Key),
			Value:     sarama.StringEncoder(w.Value),
			Timestamp: time.UnixMilli(w.Timestamp),
			Metadata:  i,
		}
		for _, h := range w.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		msgs[i] = m
	}
	if err := p.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			t.Fatalf("sarama: %d of %d records failed, first: %v", len(perrs), len(msgs), perrs[0].Err)
		}
		t.Fatalf("sarama: send: %v", err)
	}
	acks := make([]produced, len(msgs))
	for i, m := range msgs {
		acks[i] = produced{Index: m.Metadata.(int), Partition: m.Partition, Offset: m.Offset, Timestamp: m.Timestamp.UnixMilli()}
	}
	return acks
}

func fromSarama(m *sarama.ConsumerMessage) consumed {
	k, v := string(m.Key), string(m.Value)
	c := consumed{Partition: m.Partition, Offset: m.Offset, Timestamp: m.Timestamp.UnixMilli(), Key: &k, Value: &v}
	if m.Key == nil {
		c.Key = nil
	}
	if m.Value == nil {
		c.Value = nil
	}
	for _, h := range m.Headers {
		c.Headers = append(c.Headers, [2]string{string(h.Key), string(h.Value)})
	}
	return c
}

// consumeSarama reads every partition of topic from the oldest offset.
func consumeSarama(t testing.TB, node *clustertest.Node, cfg *sarama.Config, topic string, n int) []consumed {
	t.Helper()
	c, err := sarama.NewConsumer([]string{node.Addr}, cfg)
	if err != nil {
		t.Fatalf("sarama: new consumer: %v", err)
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		t.Fatalf("sarama: partitions of %s: %v", topic, err)
	}
	if len(parts) != numPartitions {
		t.Fatalf("sarama: %s has %d partitions, want %d", topic, len(parts), numPartitions)
	}
	out := make(chan consumed, n+16)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	var pcs []sarama.PartitionConsumer
	for _, p := range parts {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("sarama: consume %s/%d: %v", topic, p, err)
		}
		pcs = append(pcs, pc)
		wg.Add(2)
		go func() { // stopped by pc.AsyncClose below
			defer wg.Done()
			for m := range pc.Messages() {
				out <- fromSarama(m)
			}
		}()
		go func() {
			defer wg.Done()
			for err := range pc.Errors() {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	var got []consumed
	deadline := time.After(opTimeout)
	extra := (<-chan time.Time)(nil)
loop:
	for {
		if len(got) >= n && extra == nil {
			extra = time.After(300 * time.Millisecond)
		}
		select {
		case c := <-out:
			got = append(got, c)
		case err := <-errs:
			t.Errorf("sarama: consume: %v", err)
			break loop
		case <-extra:
			break loop
		case <-deadline:
			t.Errorf("sarama: consumed %d of %d records before timeout", len(got), n)
			break loop
		}
	}
	for _, pc := range pcs {
		pc.AsyncClose()
	}
	go func() { // drain so the partition consumers can exit
		for range out {
		}
	}()
	wg.Wait()
	close(out)
	return got
}

// saramaGroupHandler collects n records, marks them, and commits once it
// has them all.
type saramaGroupHandler struct {
	n    int
	mu   sync.Mutex
	got  []consumed
	done chan struct{}
	once sync.Once
}

func (h *saramaGroupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaGroupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaGroupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		sess.MarkMessage(m, "")
		h.mu.Lock()
		h.got = append(h.got, fromSarama(m))
		complete := len(h.got) >= h.n
		h.mu.Unlock()
		if complete {
			sess.Commit()
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

func consumeSaramaGroup(t testing.TB, addr string, cfg *sarama.Config, topic, group string, n int) []consumed {
	t.Helper()
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatalf("sarama: new consumer group: %v", err)
	}
	h := &saramaGroupHandler{n: n, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	consumeErr := make(chan error, 1)
	go func() { // stopped by cancel
		defer wg.Done()
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil {
				consumeErr <- err
				return
			}
		}
	}()
	go func() { // stopped when cg.Errors closes on cg.Close
		defer wg.Done()
		for err := range cg.Errors() {
			t.Errorf("sarama group: %v", err)
		}
	}()
	select {
	case <-h.done:
		time.Sleep(300 * time.Millisecond) // let duplicates or extras show up
	case err := <-consumeErr:
		t.Errorf("sarama group: consume: %v", err)
	case <-time.After(opTimeout):
		t.Errorf("sarama group: consumed %d of %d records before timeout", len(h.got), n)
	}
	cancel()
	if err := cg.Close(); err != nil {
		t.Errorf("sarama group: close: %v", err)
	}
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got
}

// TestSarama round-trips through sarama at its default protocol version
// (2.8) with every codec, once at its newest protocol version, once as an
// idempotent producer, and consumes as a group.
func TestSarama(t *testing.T) {
	t.Parallel()
	node := startBroker(t)
	run := func(t *testing.T, name, codec string, cfg *sarama.Config) {
		topic := "compat-sarama-" + name
		createTopic(t, node, topic)
		cfg.Producer.Compression = saramaCodec(t, codec)
		want := genRecords("sarama", codec, numRecords)
		acks := produceSarama(t, node.Addr, cfg, topic, want)
		checkProduced(t, want, acks)
		got := consumeSarama(t, node, cfg, topic, len(want))
		checkConsumed(t, "sarama", want, got, acks, checkOpts{})
		checkConsumed(t, "franz-go reading sarama", want, consumeKgo(t, node, topic, len(want), ""), acks, checkOpts{})
	}
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) { run(t, codec, codec, saramaConfig(sarama.DefaultVersion)) })
	}
	t.Run("maxversion-zstd", func(t *testing.T) {
		run(t, "maxversion-zstd", "zstd", saramaConfig(sarama.MaxVersion))
	})
	t.Run("idempotent-lz4", func(t *testing.T) {
		cfg := saramaConfig(sarama.DefaultVersion)
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		run(t, "idempotent-lz4", "lz4", cfg)
	})
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-sarama-group", "compat-sarama-group"
		want := seedTopic(t, node, topic)
		got := consumeSaramaGroup(t, node.Addr, saramaConfig(sarama.DefaultVersion), topic, group, len(want))
		checkConsumed(t, "sarama group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
