package restproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// v2 GET …/records.

const (
	// maxPollRecords bounds how many records one poll buffers per
	// instance (Java's max.poll.records).
	maxPollRecords = 500
	// defaultMaxBytes is consumer.request.max.bytes.
	defaultMaxBytes = 64 << 20
	// maxReadTimeout caps the timeout parameter.
	maxReadTimeout = 5 * time.Minute
)

// v2Record is one record of a records answer; timestamp and headers are
// beyond Confluent (kafka-rest#935).
type v2Record struct {
	Topic     string          `json:"topic"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	Timestamp int64           `json:"timestamp"`
	Headers   []v2Header      `json:"headers"`
}

// v2Header is a record header, its value in base64.
type v2Header struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// GET …/records?timeout=&max_bytes=: the records after the instance's
// positions, up to max_bytes of keys and values (none if the first alone
// is larger). It waits up to timeout for records, through the group's
// first assignment.
func (s *Server) readRecords(w http.ResponseWriter, r *http.Request, req v2Request) error {
	timeout, maxBytes, err := readParams(r)
	if err != nil {
		return err
	}
	c, err := s.consumers.instance(r)
	if err != nil {
		return err
	}
	defer c.mu.Unlock()
	if req.acceptNamed && req.accept != c.format {
		return apiErr(http.StatusNotAcceptable, 40601,
			"The requested embedded data format does not match the deserializer for this consumer instance")
	}
	if timeout < 0 {
		timeout = c.timeout
	}
	if c.cl == nil {
		return errIllegalState("Consumer is not subscribed to any topics or assigned any partitions")
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // the instance closing ends the wait
	defer stop()
	if err := c.fill(ctx); err != nil {
		return err
	}
	out, err := c.take(r.Context(), maxBytes)
	if err != nil {
		return err
	}
	c.touch()
	writeJSON(w, c.format.contentType(), http.StatusOK, out)
	return nil
}

// readParams reads timeout (ms; -1 when absent) and max_bytes.
func readParams(r *http.Request) (time.Duration, int64, error) {
	q := r.URL.Query()
	timeout := time.Duration(-1)
	if v := q.Get("timeout"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, apiErr(http.StatusBadRequest, http.StatusBadRequest, "timeout %q: want milliseconds", v)
		}
		timeout = time.Duration(min(n, maxReadTimeout.Milliseconds())) * time.Millisecond
	}
	maxBytes := int64(defaultMaxBytes)
	if v := q.Get("max_bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, apiErr(http.StatusBadRequest, http.StatusBadRequest, "max_bytes %q: want bytes", v)
		}
		maxBytes = n
	}
	return timeout, maxBytes, nil
}

// fill polls until the buffer holds records of assigned partitions or ctx
// ends (c.mu held).
func (c *consumerInstance) fill(ctx context.Context) error {
	c.dropUnassigned()
	for len(c.buf) == 0 {
		fs := c.cl.PollRecords(ctx, maxPollRecords)
		if fs.IsClientClosed() {
			return errInstanceNotFound()
		}
		// Retriable errors (a topic not there yet, a leader moving) and
		// group-session errors (franz-go rejoins by itself, e.g. after
		// UNKNOWN_MEMBER_ID) are the client's to retry; the others answer
		// the request.
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			var ke *kerr.Error
			var ge *kgo.ErrGroupSession
			if ferr == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
				!(errors.As(err, &ke) && ke.Retriable) && !errors.As(err, &ge) {
				ferr = err
			}
		})
		c.buf = append(c.buf, fs.Records()...)
		c.dropUnassigned()
		if len(c.buf) > 0 {
			return nil
		}
		if ferr != nil {
			return kafkaError(ferr)
		}
		if len(fs.Errors()) > 0 { // only retriable ones: pause before polling again
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// dropUnassigned forgets buffered records of partitions revoked since.
func (c *consumerInstance) dropUnassigned() {
	kept := c.buf[:0]
	for _, rec := range c.buf {
		if c.isAssigned(rec.Topic, rec.Partition) {
			kept = append(kept, rec)
		}
	}
	clear(c.buf[len(kept):])
	c.buf = kept
}

// take converts buffered records, up to maxBytes of keys and values,
// and advances the consumed positions. A record that does not
// deserialize ends the answer; if it is the first, the answer is 422 and
// the record stays (seek past it to go on).
func (c *consumerInstance) take(ctx context.Context, maxBytes int64) ([]v2Record, error) {
	out := []v2Record{}
	var size int64
	n := 0
	for _, rec := range c.buf {
		sz := int64(len(rec.Key) + len(rec.Value))
		if size+sz > maxBytes {
			break
		}
		vr, err := c.convert(ctx, rec)
		if err != nil {
			if n == 0 {
				return nil, err
			}
			break
		}
		size += sz
		out = append(out, vr)
		n++
	}
	done := c.buf[:n]
	for _, rec := range done {
		if c.consumed[rec.Topic] == nil {
			c.consumed[rec.Topic] = map[int32]int64{}
		}
		c.consumed[rec.Topic][rec.Partition] = rec.Offset + 1
	}
	if c.autoComm && c.mode == modeSubscribed && n > 0 {
		c.cl.MarkCommitRecords(done...)
	}
	rest := copy(c.buf, c.buf[n:])
	clear(c.buf[rest:])
	c.buf = c.buf[:rest]
	return out, nil
}

// convert renders one record in the instance's format.
func (c *consumerInstance) convert(ctx context.Context, rec *kgo.Record) (v2Record, error) {
	vr := v2Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset,
		Timestamp: rec.Timestamp.UnixMilli(), Headers: make([]v2Header, 0, len(rec.Headers))}
	var hs []wire.RecordHeader
	for _, h := range rec.Headers {
		vr.Headers = append(vr.Headers, v2Header{Key: h.Key, Value: h.Value})
		hs = append(hs, wire.RecordHeader{Key: h.Key, Value: h.Value})
	}
	var err error
	if vr.Key, err = c.render(ctx, rec.Key, hs, true); err != nil {
		return vr, err
	}
	if vr.Value, err = c.render(ctx, rec.Value, hs, false); err != nil {
		return vr, err
	}
	return vr, nil
}

// render converts one key (key true) or value; null stays null.
func (c *consumerInstance) render(ctx context.Context, data []byte, hs []wire.RecordHeader, key bool) (json.RawMessage, error) {
	if data == nil {
		return json.RawMessage("null"), nil
	}
	switch c.format {
	case fmtBinary:
		b, _ := json.Marshal(base64.StdEncoding.EncodeToString(data))
		return b, nil
	case fmtJSON:
		if !json.Valid(data) {
			return nil, errDecode("record is not JSON, which the json format needs")
		}
		return data, nil
	case fmtText:
		if !utf8.Valid(data) {
			return nil, errDecode("record is not UTF-8 text, which the text format needs")
		}
		b, _ := json.Marshal(string(data))
		return b, nil
	}
	return c.set.s.schemas.decode(ctx, c.format.schemaType(), data, hs, key)
}
