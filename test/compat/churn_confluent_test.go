//go:build cgo

package compat

import (
	"context"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// confluentChurnUnavailable reports why confluent-kafka-go cannot run: it
// can.
func confluentChurnUnavailable() error { return nil }

// confluentChurnMember runs a confluent-kafka-go (librdkafka) consumer
// subscribed as a group member (range, eager). It commits what it processed
// when Poll finds nothing more buffered, every 200 records, and before its
// partitions are revoked, with explicit offsets.
func confluentChurnMember(ctx context.Context, em *churnEmitter, bootstrap, topic, group, name string) error {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{
		"bootstrap.servers":     bootstrap,
		"client.id":             name,
		"group.id":              group,
		"enable.auto.commit":    false,
		"auto.offset.reset":     "earliest",
		"session.timeout.ms":    int(churnSession / time.Millisecond),
		"heartbeat.interval.ms": 1000,
	})
	if err != nil {
		return err
	}
	pending := make(map[int32]kafka.Offset) // next offset to commit
	commit := func() {
		if len(pending) == 0 {
			return
		}
		var tps []kafka.TopicPartition
		for p, o := range pending {
			tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: o})
		}
		clear(pending)
		done, err := c.CommitOffsets(tps)
		if err != nil {
			em.emit(churnEvent{Event: "commit_failed", Error: err.Error()})
			return
		}
		for _, tp := range done {
			if tp.Error != nil {
				em.emit(churnEvent{Event: "commit_failed", Error: tp.Error.Error()})
				continue
			}
			em.emit(churnEvent{Event: "commit", Topic: *tp.Topic, Partition: tp.Partition, Offset: int64(tp.Offset)})
		}
	}
	partitions := func(tps []kafka.TopicPartition) []int32 {
		var out []int32
		for _, tp := range tps {
			out = append(out, tp.Partition)
		}
		return out
	}
	rebalance := func(c *kafka.Consumer, ev kafka.Event) error {
		switch e := ev.(type) {
		case kafka.AssignedPartitions:
			em.emit(churnEvent{Event: "assigned", Partitions: partitions(e.Partitions)})
		case kafka.RevokedPartitions:
			if c.AssignmentLost() {
				clear(pending)
				em.emit(churnEvent{Event: "lost", Partitions: partitions(e.Partitions)})
			} else {
				commit()
				em.emit(churnEvent{Event: "revoked", Partitions: partitions(e.Partitions)})
			}
		}
		return nil // the library assigns and unassigns
	}
	if err := c.Subscribe(topic, rebalance); err != nil {
		c.Close()
		return err
	}
	n := 0
	for ctx.Err() == nil {
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				em.emit(churnEvent{Event: "error", Error: e.TopicPartition.Error.Error()})
				continue
			}
			em.emit(churnEvent{Event: "record", Topic: *e.TopicPartition.Topic, Partition: e.TopicPartition.Partition, Offset: int64(e.TopicPartition.Offset)})
			pending[e.TopicPartition.Partition] = e.TopicPartition.Offset + 1
			if n++; n >= 200 {
				commit()
				n = 0
			}
		case kafka.Error:
			em.emit(churnEvent{Event: "error", Error: e.Error()})
			if e.IsFatal() {
				c.Close()
				return e
			}
		case nil:
			commit()
			n = 0
		}
	}
	commit()
	return c.Close()
}
