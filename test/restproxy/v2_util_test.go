package restproxy

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Helpers of the v2 tests.

const (
	ctV2       = "application/vnd.kafka.v2+json"
	ctBinary   = "application/vnd.kafka.binary.v2+json"
	ctJSON     = "application/vnd.kafka.json.v2+json"
	ctAvro     = "application/vnd.kafka.avro.v2+json"
	ctJSONSch  = "application/vnd.kafka.jsonschema.v2+json"
	ctProtobuf = "application/vnd.kafka.protobuf.v2+json"
)

// createTopic creates topic with n partitions and configs through franz-go.
func createTopic(t testing.TB, bootstrap, topic string, n int32, configs map[string]*string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, n, 1, configs, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
	// Wait until the proxy's metadata sees it.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		md, err := kadm.NewClient(cl).ListTopics(ctx, topic)
		if err == nil && md[topic].Err == nil && len(md[topic].Partitions) == int(n) {
			return
		}
	}
	t.Fatalf("topic %s never appeared", topic)
}

// readAll reads want records of topic from the start with franz-go.
func readAll(t testing.TB, bootstrap, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), want, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// produceFranz writes records with franz-go to their Partition.
func produceFranz(t testing.TB, bootstrap string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// expect checks an answer's status, content type, error code (0: none)
// and that the body has keys.
func expect(t testing.TB, what string, a answer, status int, ct string, code int, keys ...string) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.Status, status, a)
	}
	if ct != "" && a.ContentType != ct {
		t.Fatalf("%s: content type %q, want %q: %s", what, a.ContentType, ct, a)
	}
	if code != 0 {
		if a.ErrorCode() != code {
			t.Fatalf("%s: error_code %d, want %d: %s", what, a.ErrorCode(), code, a)
		}
		if _, ok := a.Map()["message"].(string); !ok {
			t.Fatalf("%s: error body without message: %s", what, a)
		}
	}
	for _, k := range keys {
		if _, ok := a.Map()[k]; !ok {
			t.Fatalf("%s: body lacks %q: %s", what, k, a)
		}
	}
}
