package restproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{p}.

// produceTimeout bounds how long one produce request waits for Kafka to
// acknowledge its records; what is not acknowledged by then is reported
// per record as a retriable error (50003).
const produceTimeout = 30 * time.Second

// v2ProduceRequest is a v2 produce body.
type v2ProduceRequest struct {
	Records       []*v2ProduceRecord `json:"records"`
	KeySchema     *string            `json:"key_schema"`
	KeySchemaID   *jInt32            `json:"key_schema_id"`
	ValueSchema   *string            `json:"value_schema"`
	ValueSchemaID *jInt32            `json:"value_schema_id"`
}

// check refuses what the document does not allow (422): no records, a
// null record, a negative schema id.
func (b *v2ProduceRequest) check() error {
	if b.Records == nil {
		return apiErr(http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, "records may not be empty")
	}
	for i, r := range b.Records {
		if r == nil {
			return apiErr(http.StatusUnprocessableEntity, 42203, "records[%d]: want a JSON object, not null", i)
		}
	}
	for i, r := range b.Records {
		if r.Partition != nil && *r.Partition < 0 {
			return apiErr(http.StatusUnprocessableEntity, 42203, "records[%d]: partition %d: want 0 or more", i, *r.Partition)
		}
	}
	for _, id := range []*jInt32{b.KeySchemaID, b.ValueSchemaID} {
		if id != nil && *id < 0 {
			return apiErr(http.StatusUnprocessableEntity, 42203, "schema id %d: want 0 or more", *id)
		}
	}
	return nil
}

// v2ProduceRecord is one record of a produce body; key and value stay raw
// until the format reads them.
type v2ProduceRecord struct {
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Partition *jInt32         `json:"partition"`
}

// v2Offset is one record's outcome in a produce answer.
type v2Offset struct {
	Partition *int32  `json:"partition"`
	Offset    *int64  `json:"offset"`
	ErrorCode *int    `json:"error_code"`
	Error     *string `json:"error"`
}

// explicitPartitionKey marks, in a kgo.Record's Context, a record whose
// Partition was chosen by the client.
type explicitPartitionKey struct{}

// withExplicitPartition marks rec as going to rec.Partition; ctx (the
// record's context, which kgo cancels it by) carries the mark.
func withExplicitPartition(ctx context.Context, rec *kgo.Record) {
	rec.Context = context.WithValue(ctx, explicitPartitionKey{}, true)
}

// restPartitioner is the shared producer's partitioner: a record marked
// with withExplicitPartition goes to its Partition; the others are
// partitioned as the Java client does (murmur2 of the key, sticky without
// one), by kgo's StickyKeyPartitioner.
type restPartitioner struct{ sticky kgo.Partitioner }

func newRESTPartitioner() kgo.Partitioner {
	return restPartitioner{sticky: kgo.StickyKeyPartitioner(nil)}
}

func (p restPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &restTopicPartitioner{sticky: p.sticky.ForTopic(t)}
}

type restTopicPartitioner struct{ sticky kgo.TopicPartitioner }

func explicit(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(explicitPartitionKey{}) != nil
}

func (p *restTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return explicit(r) || p.sticky.RequiresConsistency(r)
}

func (p *restTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if explicit(r) {
		return int(r.Partition)
	}
	return p.sticky.Partition(r, n)
}

func (p *restTopicPartitioner) OnNewBatch() {
	if nb, ok := p.sticky.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// POST /topics/{topic}.
func (s *Server) produceTopic(w http.ResponseWriter, r *http.Request, req v2Request) error {
	return s.produce(w, r, req, -1)
}

// POST /topics/{topic}/partitions/{partition}.
func (s *Server) producePartition(w http.ResponseWriter, r *http.Request, req v2Request) error {
	p, err := pathPartition(r)
	if err != nil {
		return err
	}
	return s.produce(w, r, req, p)
}

// produce writes the body's records to topic (to partition unless it is
// -1) and answers their offsets.
func (s *Server) produce(w http.ResponseWriter, r *http.Request, req v2Request, partition int32) error {
	topic := r.PathValue("topic")
	var body v2ProduceRequest
	if err := s.readBody(w, r, &body, false); err != nil {
		return err
	}
	if err := body.check(); err != nil {
		return err
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	td, err := s.topicDetail(ctx, topic, errTopicNotFound(topic))
	if err != nil {
		return err
	}
	nparts := int32(len(td.Partitions))
	if partition >= nparts {
		return errPartitionNotFound(partition)
	}
	enc, err := s.newEncoder(ctx, req.format, topic, &body)
	if err != nil {
		return err
	}
	pctx, pcancel := context.WithTimeout(r.Context(), produceTimeout)
	defer pcancel()
	recs, err := enc.records(pctx, topic, partition, nparts, body.Records)
	if err != nil {
		return err
	}
	offsets, status, err := s.produceRecords(pctx, pcancel, recs)
	if err != nil {
		return err
	}
	writeJSON(w, v2JSON, status, map[string]any{
		"offsets": offsets, "key_schema_id": enc.keyID, "value_schema_id": enc.valueID,
	})
	return nil
}

// records converts a body's records for topic (nparts partitions); to
// partition unless it is -1, else to the one a record names, else the
// partitioner's choice. ctx is the records' context.
func (e *encoder) records(ctx context.Context, topic string, partition, nparts int32, body []*v2ProduceRecord) ([]*kgo.Record, error) {
	recs := make([]*kgo.Record, len(body))
	var err error
	for i, pr := range body {
		rec := &kgo.Record{Topic: topic, Context: ctx}
		if rec.Key, err = e.key(pr.Key); err != nil {
			return nil, err
		}
		if rec.Value, err = e.value(pr.Value); err != nil {
			return nil, err
		}
		switch {
		case partition >= 0:
			rec.Partition = partition
			withExplicitPartition(ctx, rec)
		case pr.Partition != nil:
			if *pr.Partition < 0 || int32(*pr.Partition) >= nparts {
				return nil, errPartitionNotFound(*pr.Partition)
			}
			rec.Partition = int32(*pr.Partition)
			withExplicitPartition(ctx, rec)
		}
		recs[i] = rec
	}
	return recs, nil
}

// vanishedCheck is how often a produce request still waiting for Kafka
// checks that its topic and partitions still exist.
const vanishedCheck = time.Second

// produceRecords produces recs (all to one topic) and waits for each
// outcome (bounded by ctx, which records without a context of their own
// get). The status is 200 unless a record failed authentication (401) or
// authorization (403), as Confluent answers. While it waits, it checks
// every vanishedCheck that the topic and the partitions named still
// exist: if one was deleted meanwhile, cancel (ctx's) ends the wait, and
// the answer is 404 (40401 or 40402) if no record was written, else each
// record not written carries that error code.
func (s *Server) produceRecords(ctx context.Context, cancel context.CancelFunc, recs []*kgo.Record) ([]v2Offset, int, error) {
	offsets := make([]v2Offset, len(recs))
	done := make(chan struct{}, len(recs))
	for i, rec := range recs {
		s.producerFor(ctx).Produce(ctx, rec, func(rec *kgo.Record, err error) {
			defer func() { done <- struct{}{} }()
			if err != nil {
				code, msg := kafkaErrorCode(err), err.Error()
				offsets[i] = v2Offset{ErrorCode: &code, Error: &msg}
				return
			}
			p, o := rec.Partition, rec.Offset
			offsets[i] = v2Offset{Partition: &p, Offset: &o}
		})
	}
	tick := time.NewTicker(vanishedCheck)
	defer tick.Stop()
	var vanished *apiError
	for n := 0; n < len(recs); {
		select {
		case <-done:
			n++
		case <-tick.C:
			if vanished == nil {
				if vanished = s.vanished(ctx, recs); vanished != nil {
					cancel()
				}
			}
		}
	}
	if vanished != nil && !markVanished(offsets, vanished) {
		return nil, 0, vanished
	}
	status := http.StatusOK
	for _, o := range offsets {
		if o.ErrorCode != nil && *o.ErrorCode == 40101 {
			return offsets, http.StatusUnauthorized, nil
		}
		if o.ErrorCode != nil && *o.ErrorCode == 40301 {
			status = http.StatusForbidden
		}
	}
	return offsets, status, nil
}

// markVanished gives the records not written vanished's code and message
// and says whether any record was written.
func markVanished(offsets []v2Offset, vanished *apiError) (written bool) {
	for i := range offsets {
		if offsets[i].ErrorCode == nil {
			written = true
		} else {
			offsets[i].ErrorCode, offsets[i].Error = &vanished.code, &vanished.message
		}
	}
	return written
}

// vanished says (as the error to answer) that the topic of recs, or a
// partition one of them was sent to, no longer exists; nil if they do or
// the cluster cannot tell now.
func (s *Server) vanished(ctx context.Context, recs []*kgo.Record) *apiError {
	topic := recs[0].Topic
	mctx, cancel := context.WithTimeout(ctx, vanishedCheck)
	defer cancel()
	tds, err := s.kadm(ctx).ListTopics(mctx, topic)
	if err != nil {
		return nil
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return errTopicNotFound(topic)
	}
	for _, rec := range recs {
		if _, ok := td.Partitions[rec.Partition]; explicit(rec) && !ok && td.Err == nil {
			return errPartitionNotFound(rec.Partition)
		}
	}
	return nil
}

// encoder converts the keys and values of one produce request.
type encoder struct {
	format         format
	keySchema      *regSchema
	valueSchema    *regSchema
	keyID, valueID *int32
}

// newEncoder prepares the conversion of body's records in format f: for
// the schema'd formats it registers the inline schemas under
// <topic>-key/-value, or fetches the ones named by id. A key (value)
// present without a schema is 42201 (42202).
func (s *Server) newEncoder(ctx context.Context, f format, topic string, body *v2ProduceRequest) (*encoder, error) {
	enc := &encoder{format: f}
	if !f.hasSchema() {
		return enc, nil
	}
	var hasKey, hasValue bool
	for _, r := range body.Records {
		hasKey = hasKey || !isNull(r.Key)
		hasValue = hasValue || !isNull(r.Value)
	}
	var err error
	if enc.keySchema, err = s.recordSchema(ctx, f, topic+"-key", body.KeySchema, body.KeySchemaID); err != nil {
		return nil, err
	}
	if enc.valueSchema, err = s.recordSchema(ctx, f, topic+"-value", body.ValueSchema, body.ValueSchemaID); err != nil {
		return nil, err
	}
	if hasKey && enc.keySchema == nil {
		return nil, apiErr(http.StatusUnprocessableEntity, 42201, "Request includes keys but does not include key schema")
	}
	if hasValue && enc.valueSchema == nil {
		return nil, apiErr(http.StatusUnprocessableEntity, 42202, "Request includes values but does not include value schema")
	}
	if enc.keySchema != nil {
		enc.keyID = &enc.keySchema.id
	}
	if enc.valueSchema != nil {
		enc.valueID = &enc.valueSchema.id
	}
	return enc, nil
}

// recordSchema is the schema given inline (registered under subject) or
// by id, nil if neither.
func (s *Server) recordSchema(ctx context.Context, f format, subject string, text *string, id *jInt32) (*regSchema, error) {
	var rs *regSchema
	var err error
	switch {
	case id != nil:
		rs, err = s.schemas.schemaByID(ctx, int32(*id))
	case text != nil:
		rs, err = s.schemas.register(ctx, subject, f.schemaType(), *text)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rs.typ != f.schemaType() {
		return nil, apiErr(http.StatusUnprocessableEntity, 42205, "schema %d is %s, not %s", rs.id, rs.typ, f.schemaType())
	}
	return rs, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func (e *encoder) key(raw json.RawMessage) ([]byte, error) { return e.convert(raw, e.keySchema, "key") }
func (e *encoder) value(raw json.RawMessage) ([]byte, error) {
	return e.convert(raw, e.valueSchema, "value")
}

// convert turns one key or value into record bytes; null stays null.
func (e *encoder) convert(raw json.RawMessage, rs *regSchema, what string) ([]byte, error) {
	if isNull(raw) {
		return nil, nil
	}
	switch e.format {
	case fmtBinary:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, apiErr(http.StatusUnprocessableEntity, 42203, "binary %s: want a base64 string", what)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, apiErr(http.StatusUnprocessableEntity, 42203, "binary %s: %v", what, fmt.Errorf("base64: %w", err))
		}
		return b, nil
	case fmtJSON:
		return compactJSON(raw), nil
	case fmtText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, apiErr(http.StatusUnprocessableEntity, 42203, "text %s: want a JSON string", what)
		}
		return []byte(s), nil
	}
	return rs.encode(raw)
}

// compactJSON is raw (already valid JSON) without insignificant space.
func compactJSON(raw json.RawMessage) []byte {
	out := make([]byte, 0, len(raw))
	var inStr, esc bool
	for _, c := range raw {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		out = append(out, c)
	}
	return out
}
