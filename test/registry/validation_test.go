package registry

import (
	"bytes"
	"context"
	"errors"
	"github.com/IBM/sarama"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// TestBrokerSideValidation: a topic with samsa.schema.validation=value
// takes only records framed with an id registered under <topic>-value that
// decode with it; anything else is INVALID_RECORD naming the record, and
// nothing of the batch is stored. Good batches are stored byte for byte.
func TestBrokerSideValidation(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const orderSchema = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`
	rc, err := sr.NewClient(sr.URLs(n.URL))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := rc.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderSchema})
	if err != nil {
		t.Fatal(err)
	}
	other, err := rc.CreateSchema(ctx, "other-value", sr.Schema{Schema: `"string"`})
	if err != nil {
		t.Fatal(err)
	}

	cl := n.Client(t, kgo.DefaultProduceTopic("orders"), kgo.RecordRetries(1), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	adm := kadm.NewClient(cl)
	v := "value"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"samsa.schema.validation": &v}, "orders"); err != nil {
		t.Fatal(err)
	}

	avroSchema := avro.MustParse(orderSchema)
	var serde sr.Serde
	serde.Register(reg.ID, map[string]any{},
		sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(avroSchema, v) }),
		sr.DecodeFn(func(b []byte, v any) error { return avro.Unmarshal(avroSchema, b, v) }))
	good, err := serde.Encode(map[string]any{"id": int64(7), "item": "tea"})
	if err != nil {
		t.Fatal(err)
	}

	// A good record goes in and comes back byte for byte.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: good}).FirstErr(); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}

	bad := []struct {
		name  string
		value []byte
		want  string
	}{
		{"unregistered id", append([]byte{0, 0, 0, 0x7f, 0x11}, good[5:]...), "not registered in the schema registry"},
		{"id of another subject", mustHeader(t, other.ID), "not registered under subject orders-value"},
		{"does not decode", append(append([]byte{}, good[:5]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "does not decode"},
		{"no framing", []byte("plain text"), "wire format"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			// A batch of a good record then the bad one: all refused.
			res := cl.ProduceSync(ctx, &kgo.Record{Value: good}, &kgo.Record{Value: tc.value})
			err := res.FirstErr()
			if !errors.Is(err, kerr.InvalidRecord) {
				t.Fatalf("err %v, want INVALID_RECORD", err)
			}
			// franz-go keeps only the code; sarama's low-level Produce v8
			// shows the broker's error_message and record_errors.
			msg, recErrs := saramaProduceMessage(t, n.Addr, "orders", good, tc.value)
			if !strings.Contains(msg, "record 1 of the batch: value: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error_message %q does not name record 1 and say %q", msg, tc.want)
			}
			if len(recErrs) != 1 || recErrs[0] != 1 {
				t.Fatalf("record_errors batch indexes %v, want [1]", recErrs)
			}
		})
	}

	// Only the first good record was stored.
	cons := n.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"orders": {0: kgo.NewOffset().AtStart()}}))
	var got [][]byte
	for len(got) < 1 && ctx.Err() == nil {
		fs := cons.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r.Value) })
	}
	ends, err := adm.ListEndOffsets(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := ends.Lookup("orders", 0); end.Offset != 1 {
		t.Fatalf("end offset %d, want 1: a refused batch was stored", end.Offset)
	}
	if !bytes.Equal(got[0], good) {
		t.Fatalf("stored %x, produced %x", got[0], good)
	}
	var decoded map[string]any
	if err := serde.Decode(got[0], &decoded); err != nil || decoded["item"] != "tea" || decoded["id"] != int64(7) {
		t.Fatalf("decoded %v, %v", decoded, err)
	}
}

func mustHeader(t *testing.T, id int) []byte {
	b, err := (&sr.ConfluentHeader{}).AppendEncode(nil, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// saramaProduceMessage produces one uncompressed batch of values with
// sarama's low-level Produce v8 and returns the partition's error_message
// and the batch indexes of its record_errors.
func saramaProduceMessage(t *testing.T, addr, topic string, values ...[]byte) (string, []int32) {
	t.Helper()
	conf := sarama.NewConfig()
	conf.Version = sarama.V2_8_0_0
	b := sarama.NewBroker(addr)
	if err := b.Open(conf); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req := &sarama.ProduceRequest{Version: 8, RequiredAcks: sarama.WaitForAll, Timeout: 10000}
	batch := &sarama.RecordBatch{Version: 2, FirstTimestamp: time.Now(), MaxTimestamp: time.Now(), ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1}
	for i, v := range values {
		batch.Records = append(batch.Records, &sarama.Record{OffsetDelta: int64(i), Value: v})
	}
	batch.LastOffsetDelta = int32(len(values) - 1)
	req.AddBatch(topic, 0, batch)
	resp, err := b.Produce(req)
	if err != nil {
		t.Fatal(err)
	}
	blk := resp.GetBlock(topic, 0)
	if blk == nil {
		t.Fatal("no partition in the produce response")
	}
	if blk.Err != sarama.ErrInvalidRecord {
		t.Fatalf("sarama produce: %v, want INVALID_RECORD", blk.Err)
	}
	var idx []int32
	for _, re := range blk.RecordErrors {
		idx = append(idx, re.BatchIndex)
	}
	msg := ""
	if blk.ErrorMessage != nil {
		msg = *blk.ErrorMessage
	}
	return msg, idx
}
