package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Produce, versions 3-13.
//
// Version notes:
//   - v3: TransactionID; record batch v2 (magic 2) only, one batch per
//     partition (v0-v2 went with Kafka 4.0)
//   - v4: KAFKA_STORAGE_ERROR; v5: LogStartOffset in the response
//   - v7: zstd (KIP-110); Kafka refuses zstd below v7, Samsa does not check
//   - v8: RecordErrors and ErrorMessage (KIP-467): ErrorMessage set from v8,
//     RecordErrors for records refused one by one (key, offset delta,
//     timestamp)
//   - v9: flexible versions
//   - v10: CurrentLeader and NodeEndpoints for NOT_LEADER_OR_FOLLOWER (KIP-951)
//   - v11: TRANSACTION_ABORTABLE (KIP-890); never sent here, a verification
//     answering it becomes INVALID_TXN_STATE at every version
//   - v12: KIP-890 part 2: a transactional batch adds its partition to the
//     transaction implicitly (VerifyPartition's add flag)
//   - v13: topic ids instead of names (KIP-516): UNKNOWN_TOPIC_ID
//
// ACLs: a request holding a transactional batch needs Write on its
// transactional id, else every partition answers
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (a null id too, as Kafka); then
// each partition needs Write on its topic (TOPIC_AUTHORIZATION_FAILED,
// checked before the topic's existence; an unknown v13 topic id is
// UNKNOWN_TOPIC_ID first). Since KIP-679 no IdempotentWrite is needed.
func init() { register(int16(kmsg.Produce), 3, 13, (*Broker).handleProduce) }

var errOneBatch = fmt.Errorf("%w: produce requests may hold exactly one record batch per partition", partition.ErrInvalidRecord)

func (b *Broker) handleProduce(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	img := b.image()
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	failed := false
	// pending and hints name response entries by index: resp.Topics[ti]
	// .Partitions[pi].
	type pending struct {
		ti, pi int
		p      *partition.Partition
		res    partition.AppendResult
	}
	type hint struct {
		ti, pi int
		mp     *metadata.Partition
	}
	var waits []pending
	var hints []hint
	az := c.authz()
	txnDenied := hasTransactionalBatch(req) && (req.TransactionID == nil || !az.txnID(acl.OpWrite, *req.TransactionID))

	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *metadata.Topic
		var topicErr int16
		switch {
		case txnDenied:
			topicErr = kerr.TransactionalIDAuthorizationFailed.Code
		case req.Version >= 13:
			t = img.TopicsByID[metadata.Uuid(rt.TopicID)]
			switch {
			case t == nil:
				topicErr = kerr.UnknownTopicID.Code
			case !az.topic(acl.OpWrite, t.Name):
				t, topicErr = nil, kerr.TopicAuthorizationFailed.Code
			}
		case !az.topic(acl.OpWrite, rt.Topic):
			topicErr = kerr.TopicAuthorizationFailed.Code
		default:
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
			var part *partition.Partition
			var res partition.AppendResult
			switch {
			case topicErr != 0:
				// Authorization and existence come first, as in
				// KafkaApis; acks are the replica manager's check.
				sp.ErrorCode = topicErr
			case badAcks:
				sp.ErrorCode = kerr.InvalidRequiredAcks.Code
			case isInternalTopic(t.Name):
				err = errInternalTopicAppend(t.Name)
			default:
				n := len(rp.Records)
				part, res, err = b.produceTo(ctx, req, t, &sp, rp.Records)
				b.countProduce(t.Name, n, res.LastOffset-res.BaseOffset+1, err)
			}
			if err != nil {
				sp.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					sp.ErrorMessage = errMessage(err)
					setRecordErrors(&sp, err)
				}
			}
			if sp.ErrorCode != 0 {
				failed = true
			}
			st.Partitions = append(st.Partitions, sp)
			ti, pi := len(resp.Topics), len(st.Partitions)-1
			if sp.ErrorCode == kerr.NotLeaderForPartition.Code && t != nil {
				if mp, ok := partitionOf(t, rp.Partition); ok {
					hints = append(hints, hint{ti, pi, mp})
				}
			}
			if err == nil && part != nil && req.Acks == -1 {
				waits = append(waits, pending{ti, pi, part, res})
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(waits) > 0 {
		// acks=all: answer once every ISR member has the batches, or the
		// request's timeout passes.
		wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		defer cancel()
		began := time.Now()
		defer func() { c.waited += time.Since(began) }()
		for _, w := range waits {
			sp := &resp.Topics[w.ti].Partitions[w.pi]
			if err := w.p.WaitCommitted(wctx, w.res.LastOffset, w.res.LeaderEpoch); err != nil {
				sp.ErrorCode = errorCode(err)
				sp.BaseOffset = -1
				if req.Version >= 8 {
					sp.ErrorMessage = errMessage(err)
				}
				failed = true
			}
		}
	}
	if req.Version >= 10 {
		img := b.image()
		for _, h := range hints {
			sp, mp := &resp.Topics[h.ti].Partitions[h.pi], h.mp
			sp.CurrentLeader.LeaderID, sp.CurrentLeader.LeaderEpoch = mp.Leader, mp.LeaderEpoch
			addProduceEndpoint(img, resp, mp.Leader, c.l.Name)
		}
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

// hasTransactionalBatch is Kafka's RequestUtils.hasTransactionalRecords:
// whether any partition's first batch is transactional.
func hasTransactionalBatch(req *kmsg.ProduceRequest) bool {
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			if h, err := batch.ParseHeader(rp.Records); err == nil && h.IsTransactional() {
				return true
			}
		}
	}
	return false
}

// setRecordErrors reports a batch's invalid records one by one (KIP-467)
// with Kafka's summary as the partition's message.
func setRecordErrors(sp *kmsg.ProduceResponseTopicPartition, err error) {
	if ce := (*batch.RecordCheckError)(nil); errors.As(err, &ce) {
		setCheckError(sp, ce)
		return
	}
	var re *batch.RecordErrors
	if !errors.As(err, &re) {
		return
	}
	sp.ErrorMessage = kmsg.StringPtr(re.Error())
	for _, e := range re.Errs {
		er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		er.RelativeOffset, er.ErrorMessage = int32(e.Index), kmsg.StringPtr(e.Msg)
		sp.ErrorRecords = append(sp.ErrorRecords, er)
	}
}

// addProduceEndpoint adds a broker to KIP-951's NodeEndpoints once.
func addProduceEndpoint(img *metadata.Image, resp *kmsg.ProduceResponse, id int32, listener string) {
	host, port, ok := brokerEndpoint(img, id, listener)
	if !ok || slices.ContainsFunc(resp.Brokers, func(e kmsg.ProduceResponseBroker) bool { return e.NodeID == id }) {
		return
	}
	e := kmsg.NewProduceResponseBroker()
	e.NodeID, e.Host, e.Port, e.Rack = id, host, port, brokerRack(img, id)
	resp.Brokers = append(resp.Brokers, e)
}

// errInternalTopicAppend refuses a client's write to an internal topic,
// as Kafka's ReplicaManager.appendToLocalLog does (InvalidTopicException,
// "Cannot append to internal topic ..."): only the coordinators write them,
// through coordinator.Writer, which appends to the partition directly.
// Kafka lets a client whose client.id is "__admin_client" through; Samsa
// lets no client through, since one bad batch there is every group's or
// transactional id's problem.
func errInternalTopicAppend(topic string) error {
	return newTopicError(kerr.InvalidTopicException, "Cannot append to internal topic %s", topic)
}

func (b *Broker) produceTo(ctx context.Context, req *kmsg.ProduceRequest, t *metadata.Topic, sp *kmsg.ProduceResponseTopicPartition, records []byte) (*partition.Partition, partition.AppendResult, error) {
	var none partition.AppendResult
	mp, ok := partitionOf(t, sp.Partition)
	if !ok {
		return nil, none, kerr.UnknownTopicOrPartition
	}
	if err := b.offline(t.Name, sp.Partition); err != nil {
		return nil, none, err
	}
	if mp.Leader != b.cfg.NodeID {
		return nil, none, kerr.NotLeaderForPartition
	}
	p, ok := b.parts.Get(t.Name, sp.Partition)
	if !ok {
		return nil, none, kerr.NotLeaderForPartition
	}
	if len(records) == 0 {
		return nil, none, fmt.Errorf("%w: no records", partition.ErrInvalidRecord)
	}
	h, err := batch.ParseHeader(records)
	if err == nil && h.Length >= 0 && int64(h.Length)+batch.LogOverhead < int64(len(records)) {
		return nil, none, errOneBatch
	}
	if err == nil && h.IsTransactional() {
		if err := b.verifyTxnProduce(ctx, req, t.Name, sp.Partition, p, &h); err != nil {
			return nil, none, err
		}
	}
	var check partition.RecordCheck
	if mode := p.Config().SchemaValidation; mode != config.SchemaValidationNone {
		if check, err = b.schemaCheck(ctx, t.Name, mode); err != nil {
			return nil, none, err
		}
	}
	res, err := p.AppendChecked(records, req.Acks, check)
	if err != nil {
		return nil, none, err
	}
	sp.BaseOffset = res.BaseOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = res.LogStartOffset
	return p, res, nil
}

// verifyTxnProduce checks a transactional batch with the transaction
// coordinator before the partition accepts it: the first batch of a
// transaction in a partition must belong to an ongoing transaction that
// includes the partition (KIP-890 part 1), which Produce v12+ may add
// implicitly (part 2).
func (b *Broker) verifyTxnProduce(ctx context.Context, req *kmsg.ProduceRequest, topic string, part int32, p *partition.Partition, h *batch.Header) error {
	if req.TransactionID == nil || *req.TransactionID == "" {
		return fmt.Errorf("%w: a transactional batch needs a transactional id", partition.ErrInvalidRecord)
	}
	if b.txnVerify == nil {
		return kerr.TransactionalIDAuthorizationFailed
	}
	if _, open := p.OngoingTxn(h.ProducerID); open {
		return nil
	}
	// The coordinator may be another broker (txnRouter); failures to
	// verify that a retry may cure answer NOT_ENOUGH_REPLICAS, as Kafka.
	return produceVerifyErr(b.txnVerify.VerifyPartition(ctx, *req.TransactionID, h.ProducerID, h.ProducerEpoch, topic, part, req.Version >= 12))
}
