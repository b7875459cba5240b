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

func handleProduce(b *Broker, ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
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
			default:
				err = produceTo(b, ctx, req, t, &sp, rp.Records)
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

func produceTo(b *Broker, ctx context.Context, req *kmsg.ProduceRequest, t *metadata.Topic, sp *kmsg.ProduceResponseTopicPartition, records []byte) error {
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
	h, err := batch.ParseHeader(records)
	if err == nil && h.Length >= 0 && int64(h.Length)+batch.LogOverhead < int64(len(records)) {
		return errOneBatch
	}
	if err == nil && h.IsTransactional() {
		if err := verifyTxnProduce(b, ctx, req, t.Name, sp.Partition, p, &h); err != nil {
			return err
		}
	}
	res, err := p.Append(records, req.Acks)
	if err != nil {
		return err
	}
	sp.BaseOffset = res.BaseOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = res.LogStartOffset
	return nil
}

// verifyTxnProduce checks a transactional batch with the transaction
// coordinator before the partition accepts it: the first batch of a
// transaction in a partition must belong to an ongoing transaction that
// includes the partition (KIP-890 part 1), which Produce v12+ may add
// implicitly (part 2).
func verifyTxnProduce(b *Broker, ctx context.Context, req *kmsg.ProduceRequest, topic string, part int32, p *partition.Partition, h *batch.Header) error {
	if req.TransactionID == nil || *req.TransactionID == "" {
		return fmt.Errorf("%w: a transactional batch needs a transactional id", partition.ErrInvalidRecord)
	}
	if b.txnVerify == nil {
		return kerr.TransactionalIDAuthorizationFailed
	}
	if _, open := p.OngoingTxn(h.ProducerID); open {
		return nil
	}
	return b.txnVerify.VerifyPartition(ctx, *req.TransactionID, h.ProducerID, h.ProducerEpoch, topic, part, req.Version >= 12)
}
