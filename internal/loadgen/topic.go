package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// This file prepares a run's topic and lists its offsets.

// prepareTopic deletes and creates the topic as the config asks and waits
// until every partition has a leader.
func (r *run) prepareTopic(ctx context.Context) (kadm.TopicDetail, error) {
	adm, err := r.newAdmin()
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	defer adm.Close()
	c := r.cfg
	if c.Recreate {
		if err := r.deleteTopic(ctx, adm); err != nil {
			return kadm.TopicDetail{}, err
		}
	}
	created := false
	if c.Create {
		if created, err = r.createTopic(ctx, adm); err != nil {
			return kadm.TopicDetail{}, err
		}
	}
	td, err := r.waitTopic(ctx, adm, created)
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	if c.Create && !created && len(td.Partitions) != int(c.Partitions) && c.CheckPartitions {
		r.warn("topic %s already exists with %s; --partitions %d not applied (use --recreate)",
			c.Topic, plural(int64(len(td.Partitions)), "partition", "partitions"), c.Partitions)
	}
	return td, nil
}

func (r *run) deleteTopic(ctx context.Context, adm *kadm.Client) error {
	topic, timeout := r.cfg.Topic, r.cfg.Timeout
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := adm.DeleteTopic(rctx, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return nil
	case err != nil:
		return &ClusterError{Op: "cannot delete topic " + topic, Err: err, BrokerMessage: resp.ErrMessage}
	}
	// Deletion can complete after the response; wait until the topic
	// is gone from metadata.
	for {
		md, err := adm.Metadata(rctx, topic)
		if err != nil {
			return &ClusterError{Op: "cannot delete topic " + topic, Err: err}
		}
		if td, ok := md.Topics[topic]; !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return nil
		}
		select {
		case <-rctx.Done():
			return fmt.Errorf("cannot delete topic %s: it still exists after %s", topic, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createTopic creates the topic; it reports false if it already existed.
func (r *run) createTopic(ctx context.Context, adm *kadm.Client) (bool, error) {
	c := r.cfg
	rctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	for {
		resp, err := adm.CreateTopic(rctx, c.Partitions, c.ReplicationFactor, nil, c.Topic)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, kerr.TopicAlreadyExists) && !c.Recreate:
			return false, nil
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Just deleted: the cluster may still be removing it.
		default:
			return false, &ClusterError{Op: "cannot create topic " + c.Topic, Err: err, BrokerMessage: resp.ErrMessage}
		}
		select {
		case <-rctx.Done():
			return false, fmt.Errorf("cannot create topic %s: it still exists %s after deleting it", c.Topic, c.Timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitTopic waits until the topic has a leader for every partition.
// Right after creating it, "unknown topic" is retried too.
func (r *run) waitTopic(ctx context.Context, adm *kadm.Client, justCreated bool) (kadm.TopicDetail, error) {
	topic := r.cfg.Topic
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	for {
		md, err := adm.Metadata(rctx, topic)
		if err != nil {
			return kadm.TopicDetail{}, &ClusterError{Op: "cannot look up topic " + topic, Err: err}
		}
		td, ok := md.Topics[topic]
		unknown := !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition)
		switch {
		case unknown && !justCreated:
			return kadm.TopicDetail{}, fmt.Errorf("topic %s does not exist (--create creates it)", topic)
		case !unknown && td.Err != nil && !kerr.IsRetriable(td.Err):
			return kadm.TopicDetail{}, &ClusterError{Op: "cannot look up topic " + topic, Err: td.Err}
		case !unknown && td.Err == nil && len(td.Partitions) > 0 && allLeaders(td):
			return td, nil
		}
		select {
		case <-rctx.Done():
			if ctx.Err() != nil {
				return kadm.TopicDetail{}, ctx.Err()
			}
			return kadm.TopicDetail{}, fmt.Errorf("topic %s has partitions without a leader after %s", topic, r.cfg.Timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allLeaders(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// listOffsets returns where each partition starts (the log start, or the
// end if fromEnd) and ends now.
func (r *run) listOffsets(ctx context.Context, parts []int32, fromEnd bool) (starts, ends map[int32]int64, err error) {
	adm, err := r.newAdmin()
	if err != nil {
		return nil, nil, err
	}
	defer adm.Close()
	topic := r.cfg.Topic
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	op := "cannot list offsets of topic " + topic
	listed, err := adm.ListEndOffsets(rctx, topic)
	if err != nil {
		return nil, nil, &ClusterError{Op: op, Err: err}
	}
	if ends, err = pickOffsets(op, listed, topic, parts); err != nil {
		return nil, nil, err
	}
	if fromEnd {
		return maps.Clone(ends), ends, nil
	}
	if listed, err = adm.ListStartOffsets(rctx, topic); err != nil {
		return nil, nil, &ClusterError{Op: op, Err: err}
	}
	if starts, err = pickOffsets(op, listed, topic, parts); err != nil {
		return nil, nil, err
	}
	return starts, ends, nil
}

func pickOffsets(op string, l kadm.ListedOffsets, topic string, parts []int32) (map[int32]int64, error) {
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		o, ok := l.Lookup(topic, p)
		if !ok {
			return nil, fmt.Errorf("%s: the broker listed no offset for partition %d", op, p)
		}
		if o.Err != nil {
			return nil, &ClusterError{Op: fmt.Sprintf("%s: partition %d", op, p), Err: o.Err}
		}
		out[p] = o.Offset
	}
	return out, nil
}

// plural returns "1 record" or "N records".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
