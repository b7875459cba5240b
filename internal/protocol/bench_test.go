package protocol

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkParseProduceRequest decodes a Produce v11 frame with 6
// partitions of 16 KiB batches: the per-request cost of the produce path
// before any partition work.
func BenchmarkParseProduceRequest(b *testing.B) {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 11, -1, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "bench"
	for p := int32(0); p < 6; p++ {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = p, make([]byte, 16<<10)
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	frame := requestFrame(req, 1, kmsg.StringPtr("bench"))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseRequest(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeFetchResponse encodes a Fetch v13 response for 6
// partitions whose records are file ranges (not copied): the fixed cost the
// zero-copy path pays per response.
func BenchmarkEncodeFetchResponse(b *testing.B) {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 13
	t := kmsg.NewFetchResponseTopic()
	t.Topic = "bench"
	var sources [][]RecordsSource
	for p := int32(0); p < 6; p++ {
		fp := kmsg.NewFetchResponseTopicPartition()
		fp.Partition, fp.HighWatermark, fp.LastStableOffset, fp.LogStartOffset = p, 1000, 1000, 0
		t.Partitions = append(t.Partitions, fp)
		sources = append(sources, []RecordsSource{{FD: 3, Pos: int64(p) << 20, Len: 1 << 20}})
	}
	resp.Topics = append(resp.Topics, t)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		f, err := EncodeFetchResponse(buf[:0], 1, 13, resp, sources)
		if err != nil {
			b.Fatal(err)
		}
		if f.Size() == 0 {
			b.Fatal("empty frame")
		}
	}
}
