package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/log"
)

// writeFetch writes a Fetch response whose record bytes are the given file
// chunks, one list per partition in response order.
func (c *conn) writeFetch(corr int32, resp *kmsg.FetchResponse, chunks [][]log.Chunk) error {
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			var recs []byte
			if i < len(chunks) {
				for _, ch := range chunks[i] {
					buf := make([]byte, ch.Len)
					if n, err := ch.File.ReadAt(buf, ch.Pos); n != len(buf) {
						return fmt.Errorf("read segment: %w", err)
					}
					recs = append(recs, buf...)
				}
			}
			if recs == nil {
				recs = []byte{}
			}
			resp.Topics[ti].Partitions[pi].RecordBatches = recs
			i++
		}
	}
	return c.writeResponse(corr, resp)
}
