package broker

// Broker-side schema validation: the topic setting samsa.schema.validation
// (none, key, value, both) makes the partition leader check every produced
// record's key and/or value against the schema registry before the batch
// is written, as Confluent Server's broker-side schema validation does.
//
// Subjects follow Confluent's TopicNameStrategy: <topic>-key for keys,
// <topic>-value for values. The check is the SchemaValidator's; the broker
// only walks the records, in the same pass as its own record validation
// (batch.ValidateOptions.Check: a compressed batch is decompressed once,
// under the same cap), and refuses the whole batch with INVALID_RECORD at
// the first record that fails: nothing is appended, the partition's
// error_message names the record's index in the batch and the reason, and
// record_errors (Produce v8+) holds that record. A null key or value that
// should be validated fails too. A topic with validation on and no
// validator configured refuses every batch. Topics with validation off pay
// one load of the partition's settings per produced partition.

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// SchemaValidator checks the keys or values of records produced to a
// topic whose samsa.schema.validation is on. ValidateRecord returns nil
// when data is framed with a schema registered under subject and decodes
// with that schema; its error says why not, and becomes the produce
// error's reason after "record N of the batch: key: " or "... value: "
// (so "schema id 17 is not registered under subject orders-value" reads
// well).
//
// subject is <topic>-key when key is true (data is the record's key), else
// <topic>-value. data is never nil (a null key or value is refused before
// the validator is asked). The schema is named as Confluent's
// deserializers find it (wire.Split): by the record header
// __key_schema_id or __value_schema_id (wire.SchemaIDHeaderName(key)) when
// headers hold a readable one, else by data's prefix (magic byte, schema
// id or GUID, Protobuf message indexes). data and headers, keys and
// values, point into the request or a decompression window: they are
// valid only during the call and must not be kept or modified.
//
// ValidateRecord is called on the produce path of the partition leader,
// once per validated key or value, from any number of connections at once:
// it must be safe for concurrent use and should answer from memory (a
// cache of the registry's schemas). ctx is the produce request's.
type SchemaValidator interface {
	ValidateRecord(ctx context.Context, subject string, key bool, data []byte, headers []wire.RecordHeader) error
}

// schemaValidatorBox holds a SchemaValidator for an atomic.Pointer.
type schemaValidatorBox struct{ v SchemaValidator }

// SetSchemaValidator installs (nil: removes) the validator produce
// requests to topics with samsa.schema.validation on are checked with. It
// may be called at any time, for instance once the schema registry has
// loaded after the broker started serving; Config.SchemaValidator is the
// one installed by New.
func (b *Broker) SetSchemaValidator(v SchemaValidator) {
	if v == nil {
		b.schemaValidator.Store(nil)
		return
	}
	b.schemaValidator.Store(&schemaValidatorBox{v})
}

// schemaValidatorOf is the installed validator, nil when there is none.
func schemaValidatorOf(p *atomic.Pointer[schemaValidatorBox]) SchemaValidator {
	if box := p.Load(); box != nil {
		return box.v
	}
	return nil
}

// errNoSchemaRegistry refuses a batch for a topic that asks for validation
// when the broker has no validator.
func errNoSchemaRegistry(topic string, mode config.SchemaValidation) error {
	return newTopicError(kerr.InvalidRecord, "topic %s has %s=%s but no schema registry is configured on this broker, so its records cannot be validated",
		topic, config.SchemaValidationConfig, mode)
}

// schemaCheck returns the record check for a batch produced to topic with
// validation mode (not none), or an error when the broker cannot validate.
func (b *Broker) schemaCheck(ctx context.Context, topic string, mode config.SchemaValidation) (partition.RecordCheck, error) {
	v := schemaValidatorOf(&b.schemaValidator)
	if v == nil {
		return nil, errNoSchemaRegistry(topic, mode)
	}
	sc := &schemaChecker{ctx: ctx, v: v, mode: mode, keySubject: topic + "-key", valueSubject: topic + "-value"}
	return sc.check, nil
}

// schemaChecker checks the records of one batch.
type schemaChecker struct {
	ctx                      context.Context
	v                        SchemaValidator
	mode                     config.SchemaValidation
	keySubject, valueSubject string
	headers                  []wire.RecordHeader // reused from record to record
}

func (sc *schemaChecker) check(_ int, r *batch.Record) error {
	sc.headers = sc.headers[:0]
	for _, h := range r.Headers {
		sc.headers = append(sc.headers, wire.RecordHeader(h))
	}
	if sc.mode.Key() {
		if err := sc.part(sc.keySubject, true, r.Key); err != nil {
			return err
		}
	}
	if sc.mode.Value() {
		return sc.part(sc.valueSubject, false, r.Value)
	}
	return nil
}

// part validates a record's key (key true) or value.
func (sc *schemaChecker) part(subject string, key bool, data []byte) error {
	what := "value"
	if key {
		what = "key"
	}
	if data == nil {
		return fmt.Errorf("%s: null, but the topic's %s are validated against subject %s", what, what+"s", subject)
	}
	if err := sc.v.ValidateRecord(sc.ctx, subject, key, data, sc.headers); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// setCheckError reports a record a check refused (schema validation):
// error_message "record N of the batch: reason", record_errors the
// record's index and reason.
func setCheckError(sp *kmsg.ProduceResponseTopicPartition, ce *batch.RecordCheckError) {
	sp.ErrorMessage = kmsg.StringPtr(ce.Error())
	er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
	er.RelativeOffset, er.ErrorMessage = int32(ce.Index), kmsg.StringPtr(ce.Err.Error())
	sp.ErrorRecords = append(sp.ErrorRecords, er)
}
