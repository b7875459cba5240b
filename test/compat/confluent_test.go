//go:build cgo

package compat

import (
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func produceConfluent(t testing.TB, node *clustertest.Node, topic, codec string, want []rec) []produced {
	t.Helper()
	p, err := kafka.NewProducer(&kafka.ConfigMap{
		"bootstrap.servers":  node.Addr,
		"client.id":          "samsa-compat-confluent-go",
		"compression.type":   codec,
		"enable.idempotence": true,
		"acks":               "all",
		"partitioner":        "murmur2_random",
		"linger.ms":          5,
		"log_level":          5,
		"message.timeout.ms": int(opTimeout / time.Millisecond),
	})
	if err != nil {
		t.Fatalf("confluent-kafka-go: new producer: %v", err)
	}
	defer p.Close()
	deliveries := make(chan kafka.Event, len(want))
	for i, w := range want {
		m := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key:            []byte(w.Key),
			Value:          []byte(w.Value),
			Timestamp:      time.UnixMilli(w.Timestamp),
			Opaque:         i,
		}
		for _, h := range w.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h[0], Value: []byte(h[1])})
		}
		for {
			err := p.Produce(m, deliveries)
			if err == nil {
				break
			}
			if kerr, ok := err.(kafka.Error); ok && kerr.Code() == kafka.ErrQueueFull {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			t.Fatalf("confluent-kafka-go: produce record %d: %v", i, err)
		}
	}
	var acks []produced
	timeout := time.After(opTimeout)
	for len(acks) < len(want) {
		select {
		case ev := <-deliveries:
			m, ok := ev.(*kafka.Message)
			if !ok {
				t.Fatalf("confluent-kafka-go: unexpected delivery event %v", ev)
			}
			if m.TopicPartition.Error != nil {
				t.Fatalf("confluent-kafka-go: delivery of record %v: %v", m.Opaque, m.TopicPartition.Error)
			}
			acks = append(acks, produced{
				Index:     m.Opaque.(int),
				Partition: m.TopicPartition.Partition,
				Offset:    int64(m.TopicPartition.Offset),
				Timestamp: m.Timestamp.UnixMilli(),
			})
		case <-timeout:
			t.Fatalf("confluent-kafka-go: %d of %d deliveries before timeout", len(acks), len(want))
		}
	}
	return acks
}

func fromConfluent(m *kafka.Message) consumed {
	k, v := string(m.Key), string(m.Value)
	c := consumed{
		Partition: m.TopicPartition.Partition,
		Offset:    int64(m.TopicPartition.Offset),
		Timestamp: m.Timestamp.UnixMilli(),
		Key:       &k,
		Value:     &v,
	}
	switch m.TimestampType {
	case kafka.TimestampCreateTime:
		c.TimestampType = "CreateTime"
	case kafka.TimestampLogAppendTime:
		c.TimestampType = "LogAppendTime"
	default:
		c.TimestampType = "NoTimestampType"
	}
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

// consumeConfluent reads topic from the beginning, by assignment or, with a
// group, by subscription followed by a synchronous commit.
func consumeConfluent(t testing.TB, node *clustertest.Node, topic string, n int, group string) []consumed {
	t.Helper()
	groupID := group
	if groupID == "" {
		groupID = "samsa-compat-confluent-go-unused"
	}
	c, err := kafka.NewConsumer(&kafka.ConfigMap{
		"bootstrap.servers":  node.Addr,
		"client.id":          "samsa-compat-confluent-go",
		"group.id":           groupID,
		"enable.auto.commit": false,
		"auto.offset.reset":  "earliest",
	})
	if err != nil {
		t.Fatalf("confluent-kafka-go: new consumer: %v", err)
	}
	defer c.Close()
	if group != "" {
		if err := c.Subscribe(topic, nil); err != nil {
			t.Fatalf("confluent-kafka-go: subscribe: %v", err)
		}
	} else {
		var tps []kafka.TopicPartition
		for p := int32(0); p < numPartitions; p++ {
			tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: kafka.OffsetBeginning})
		}
		if err := c.Assign(tps); err != nil {
			t.Fatalf("confluent-kafka-go: assign: %v", err)
		}
	}
	var got []consumed
	deadline := time.Now().Add(opTimeout)
	var extraUntil time.Time
	for {
		now := time.Now()
		if len(got) >= n {
			if extraUntil.IsZero() {
				extraUntil = now.Add(300 * time.Millisecond)
			}
			if now.After(extraUntil) {
				break
			}
		} else if now.After(deadline) {
			t.Errorf("confluent-kafka-go: consumed %d of %d records before timeout", len(got), n)
			break
		}
		switch ev := c.Poll(100).(type) {
		case *kafka.Message:
			if ev.TopicPartition.Error != nil {
				t.Errorf("confluent-kafka-go: consume: %v", ev.TopicPartition.Error)
				return got
			}
			got = append(got, fromConfluent(ev))
		case kafka.Error:
			t.Logf("confluent-kafka-go: %v", ev)
			if ev.IsFatal() {
				t.Errorf("confluent-kafka-go: fatal: %v", ev)
				return got
			}
		}
	}
	if group != "" {
		if _, err := c.Commit(); err != nil {
			t.Errorf("confluent-kafka-go: commit: %v", err)
		}
	}
	return got
}

// TestConfluentKafkaGo round-trips through confluent-kafka-go (bundled
// librdkafka; idempotent, acks=all, murmur2 partitioner) with every codec and
// consumes as a group.
func TestConfluentKafkaGo(t *testing.T) {
	t.Parallel()
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-confluent-go-" + codec
			createTopic(t, node, topic)
			want := genRecords("confluent-kafka-go", codec, numRecords)
			acks := produceConfluent(t, node, topic, codec, want)
			checkProduced(t, want, acks)
			got := consumeConfluent(t, node, topic, len(want), "")
			checkConsumed(t, "confluent-kafka-go", want, got, acks, checkOpts{})
			checkConsumed(t, "franz-go reading confluent-kafka-go", want, consumeKgo(t, node, topic, len(want), ""), acks, checkOpts{})
		})
	}
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-confluent-go-group", "compat-confluent-go-group"
		want := seedTopic(t, node, topic)
		got := consumeConfluent(t, node, topic, len(want), group)
		checkConsumed(t, "confluent-kafka-go group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
