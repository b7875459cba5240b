package broker

import (
	"errors"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/protocol"
)

// writeFetch writes a Fetch response whose record bytes are the given file
// chunks, one list per partition in response order. The response header and
// fixed fields go out with writev; the record bytes go from the segment
// files to the socket with sendfile at explicit offsets, so concurrent
// fetches of one segment never share a file position.
func (c *conn) writeFetch(corr int32, resp *kmsg.FetchResponse, chunks [][]log.Chunk) error {
	c.recordFetch(resp, chunks)
	return c.writeFetchFrame(corr, resp, chunks)
}

// writeFetchFrame is writeFetch without the consumer_byte_rate quota:
// followers' fetches are exempt.
func (c *conn) writeFetchFrame(corr int32, resp *kmsg.FetchResponse, chunks [][]log.Chunk) error {
	sources := make([][]protocol.RecordsSource, len(chunks))
	for i, cs := range chunks {
		src := make([]protocol.RecordsSource, 0, len(cs))
		for _, ch := range cs {
			src = append(src, protocol.RecordsSource{FD: ch.File.Fd(), Pos: ch.Pos, Len: ch.Len})
		}
		sources[i] = src // non-nil even when empty: librdkafka wants [] not null
	}
	f, err := protocol.EncodeFetchResponse(c.out[:0], corr, resp.Version, resp, sources)
	if err != nil {
		return err
	}
	// A client that stops reading blocks sendfile and writev in the
	// poller, which honours this deadline; shutdown closes the socket.
	c.nc.SetWriteDeadline(c.deadline())
	began := time.Now()
	_, err = f.WriteTo(c.nc.(io.Writer))
	err = errors.Join(err, c.flushTLS())
	c.wrote += time.Since(began)
	return err
}
