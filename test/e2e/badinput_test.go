package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// rawRequest frames a kmsg request by hand with header v1/v2.
func rawRequest(req kmsg.Request, corr int32) []byte {
	b := make([]byte, 4, 256)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// expectClosed checks that the broker closes conn (EOF or reset) soon.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after bad input")
	}
}

// expectServing checks that the broker still serves a normal client.
func expectServing(t *testing.T, n *clustertest.Node) {
	t.Helper()
	cl := n.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	if _, err := req.RequestWith(ctx, cl); err != nil {
		t.Fatalf("broker stopped serving: %v", err)
	}
}

func dial(t *testing.T, n *clustertest.Node) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBadFrames(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	cases := map[string][]byte{
		"huge size prefix":     {0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 3},
		"negative size prefix": {0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4},
		"unknown api key": func() []byte {
			b := rawRequest(kmsg.NewPtrApiVersionsRequest(), 1)
			binary.BigEndian.PutUint16(b[4:], 9999)
			return b
		}(),
		"unsupported version of metadata": func() []byte {
			r := kmsg.NewPtrMetadataRequest()
			r.Version = 4
			b := rawRequest(r, 1)
			binary.BigEndian.PutUint16(b[6:], 999)
			return b
		}(),
		"garbage body": func() []byte {
			r := kmsg.NewPtrProduceRequest()
			r.Version = 9
			b := rawRequest(r, 1)[:10]
			b = append(b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3)
			binary.BigEndian.PutUint32(b, uint32(len(b)-4))
			return b
		}(),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := dial(t, n)
			if _, err := c.Write(frame); err != nil {
				t.Fatal(err)
			}
			expectClosed(t, c)
			expectServing(t, n)
		})
	}
	t.Run("truncated frame then close", func(t *testing.T) {
		c := dial(t, n)
		b := rawRequest(kmsg.NewPtrMetadataRequest(), 1)
		c.Write(b[:len(b)/2])
		c.Close()
		expectServing(t, n)
	})
	t.Run("random bytes", func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 50; i++ {
			c := dial(t, n)
			b := make([]byte, rng.Intn(512)+1)
			rng.Read(b)
			c.Write(b)
			c.Close()
		}
		expectServing(t, n)
	})
}

func TestApiVersionsTooNew(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	c := dial(t, n)
	r := kmsg.NewPtrApiVersionsRequest()
	r.Version = 3
	r.ClientSoftwareName, r.ClientSoftwareVersion = "t", "1"
	b := rawRequest(r, 7)
	binary.BigEndian.PutUint16(b[6:], 99) // a version from the future
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("no answer to a future ApiVersions: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != 7 {
		t.Fatalf("correlation id %d, want 7", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body[4:]); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error code %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	if len(resp.ApiKeys) != 1 || resp.ApiKeys[0].ApiKey != 18 || resp.ApiKeys[0].MaxVersion < 3 {
		t.Fatalf("want only ApiVersions' own range, got %+v", resp.ApiKeys)
	}
}

// TestCorruptBatch sends a batch with a wrong CRC and expects CORRUPT_MESSAGE,
// with the partition still writable afterwards.
func TestCorruptBatch(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{})
	cl := n.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ct := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "crc", 1, 1
	ct.Topics = append(ct.Topics, rt)
	ctr, err := ct.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	topicID := ctr.Topics[0].TopicID
	rec := kmsg.NewRecord()
	rec.Value = []byte("hello")
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the body after a 1-byte zero length
	rb := kmsg.NewRecordBatch()
	rb.Magic, rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = 2, -1, -1, -1
	rb.NumRecords = 1
	rb.FirstTimestamp, rb.MaxTimestamp = time.Now().UnixMilli(), time.Now().UnixMilli()
	rb.Records = rec.AppendTo(nil)
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	good := append([]byte(nil), raw...)
	binary.BigEndian.PutUint32(good[17:], crc32.Checksum(good[21:], crc32.MakeTable(crc32.Castagnoli)))
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff

	produce := func(records []byte) int16 {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic, tp.TopicID = "crc", topicID // name up to v12, id from v13
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Records = records
		tp.Partitions = append(tp.Partitions, pp)
		req.Topics = append(req.Topics, tp)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	if code := produce(bad); code != kerr.CorruptMessage.Code {
		t.Fatalf("bad CRC: error %d, want CORRUPT_MESSAGE", code)
	}
	if code := produce(good); code != 0 {
		t.Fatalf("good batch after a bad one: error %v", kerr.ErrorForCode(code))
	}
}
