package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

func init() { register(int16(kmsg.Produce), 3, 13, handleProduce) }

var errOneBatch = fmt.Errorf("%w: produce requests may hold exactly one record batch per partition", partition.ErrInvalidRecord)

func handleProduce(b *Broker, _ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	img := b.image()
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	failed := false

	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *metadata.Topic
		var topicErr int16
		if req.Version >= 13 {
			t = img.TopicsByID[metadata.Uuid(rt.TopicID)]
			if t == nil {
				topicErr = kerr.UnknownTopicID.Code
			}
		} else {
			t = img.Topics[rt.Topic]
			if t == nil {
				topicErr = kerr.UnknownTopicOrPartition.Code
			}
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			var err error
			switch {
			case badAcks:
				sp.ErrorCode = kerr.InvalidRequiredAcks.Code
			case topicErr != 0:
				sp.ErrorCode = topicErr
			case req.TransactionID != nil:
				// Transactions arrive with the transaction coordinator.
				sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			default:
				err = produceTo(b, t, &sp, rp.Records, req.Acks)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					sp.ErrorMessage = errMessage(err)
				}
			}
			if sp.ErrorCode != 0 {
				failed = true
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		if failed {
			// Kafka closes the connection so that an acks=0 producer
			// notices that something went wrong.
			return nil, errors.New("acks=0 produce failed")
		}
		return nil, nil
	}
	return resp, nil
}

func produceTo(b *Broker, t *metadata.Topic, sp *kmsg.ProduceResponseTopicPartition, records []byte, acks int16) error {
	mp, ok := partitionOf(t, sp.Partition)
	if !ok {
		return kerr.UnknownTopicOrPartition
	}
	if mp.Leader != b.cfg.NodeID {
		return kerr.NotLeaderForPartition
	}
	p, ok := b.parts.Get(t.Name, sp.Partition)
	if !ok {
		return kerr.NotLeaderForPartition
	}
	if len(records) == 0 {
		return fmt.Errorf("%w: no records", partition.ErrInvalidRecord)
	}
	if h, err := batch.ParseHeader(records); err == nil && h.Length >= 0 && int64(h.Length)+batch.LogOverhead < int64(len(records)) {
		return errOneBatch
	}
	res, err := p.Append(records, acks)
	if err != nil {
		return err
	}
	sp.BaseOffset = res.BaseOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = res.LogStartOffset
	return nil
}
