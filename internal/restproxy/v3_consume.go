package restproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Consume over v3 (beyond Confluent): GET .../topics/{t}/records streams
// records as server-sent events (Accept: text/event-stream) or JSON lines
// (application/x-ndjson). Each event's id is the position it reached,
// "<partition>:<offset>" for each partition read so far, comma-separated;
// sending it back as Last-Event-ID (or the last_event_id parameter)
// resumes after it. Each request reads with its own direct-partition
// consumer, closed when the request ends.
//
// Parameters: partition_id (default every partition); offset (a number,
// "earliest" (default) or "latest") or else timestamp (RFC 3339 or Unix
// milliseconds) where to start; max_records (stop after that many);
// timeout_ms (stop after that long without a record, 1 to 5000; default
// 5 s for events, consumer.request.timeout.ms (1 s) for JSON lines; a
// client goes on by resuming);
// follow (go on past the end of the log until timeout_ms passes without
// a record: the default for events; JSON lines end at the end offsets the
// request found, or at timeout_ms);
// group_id (start where that group committed, on the partitions it
// committed; commits are explicit: POST .../consumer-groups/{g}/offsets);
// key_format and value_format (BINARY (default), STRING, JSON, or the
// schema'd AVRO, JSONSCHEMA, PROTOBUF; bytes not of the format asked are
// shown as BINARY).

const (
	sseType    = "text/event-stream"
	ndjsonType = "application/x-ndjson"
	// sseKeepAlive is how often an idle stream writes something, to notice
	// a client that left.
	sseKeepAlive = 15 * time.Second
	// sseIdle is how long an event stream waits for a record before it
	// ends (EventSource reconnects with Last-Event-ID).
	sseIdle = 5 * time.Second
	// maxIdle bounds timeout_ms: a stream that waits ends, and its client
	// resumes (EventSource by itself, told to retry at once).
	maxIdle = 5 * time.Second
)

// consumeReq is a parsed consume request.
type consumeReq struct {
	topic      string
	start      map[int32]kgo.Offset
	from       map[int32]startAt // start, for finding the end
	resumed    map[int32]int64   // positions of Last-Event-ID
	follow     bool              // go on past the end (until idle)
	remaining  map[int32]int64   // without follow: partition -> end offset still to reach
	maxRecords int64
	idle       time.Duration
	keyFmt     string
	valFmt     string
	sse        bool
}

// parseConsume reads the request's parameters against the topic's
// partitions.
func (a *v3) parseConsume(r *http.Request) (*consumeReq, error) {
	d, err := a.topic(r.Context(), r.PathValue("t"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "partition_id", "offset", "timestamp", "max_records", "timeout_ms", "key_format",
		"value_format", "last_event_id", "follow", "group_id"); err != nil {
		return nil, err
	}
	for k := range q { // an empty value is no value only for the event id (as EventSource sends it)
		if q.Get(k) == "" && k != "last_event_id" {
			return nil, apiErr(400, 400, "query parameter %s: empty", k)
		}
	}
	c := &consumeReq{topic: d.Topic, start: map[int32]kgo.Offset{}, from: map[int32]startAt{}, resumed: map[int32]int64{},
		sse: strings.Contains(r.Header.Get("Accept"), sseType)}
	parts, err := consumePartitions(d, q.Get("partition_id"))
	if err != nil {
		return nil, err
	}
	at, from, err := v3StartOffset(q.Get("offset"), q.Get("timestamp"))
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		c.start[p], c.from[p] = at, from
	}
	if err := c.parseLimits(q, a.s.cfg.ConsumerRequestTimeout); err != nil {
		return nil, err
	}
	if g := q.Get("group_id"); g != "" {
		if err := a.fromGroup(r.Context(), c, g); err != nil {
			return nil, err
		}
	}
	last := r.Header.Get("Last-Event-ID")
	if _, err := parseEventID(last); err != nil {
		return nil, err
	}
	if v := q.Get("last_event_id"); v != "" {
		last = v
	}
	if err := c.resume(last); err != nil {
		return nil, err
	}
	return c, nil
}

// consumePartitions is the partition partition_id names (every one of the
// topic when it is "").
func consumePartitions(d kadm.TopicDetail, partitionID string) ([]int32, error) {
	if partitionID == "" {
		parts := make([]int32, 0, len(d.Partitions))
		for p := range d.Partitions {
			parts = append(parts, p)
		}
		return parts, nil
	}
	p, err := strconv.ParseInt(partitionID, 10, 32)
	if err != nil {
		return nil, apiErr(400, 400, "partition_id %q is not a number", partitionID)
	}
	if _, found := d.Partitions[int32(p)]; !found {
		return nil, apiErr(404, 404, "Partition %d of topic %s does not exist.", p, d.Topic)
	}
	return []int32{int32(p)}, nil
}

// parseLimits reads follow, max_records, timeout_ms and the formats (def
// is the idle timeout of JSON lines).
func (c *consumeReq) parseLimits(q url.Values, def time.Duration) error {
	switch f := q.Get("follow"); f {
	case "":
		c.follow = c.sse
	case "true", "false":
		c.follow = f == "true"
	default:
		return apiErr(400, 400, "follow %q: want true or false", f)
	}
	var err error
	if c.maxRecords, err = v3IntParam(q.Get("max_records"), -1); err != nil {
		return err
	}
	if c.sse {
		def = sseIdle
	}
	ms, err := v3IntParam(q.Get("timeout_ms"), def.Milliseconds())
	if err != nil {
		return err
	}
	if ms < 1 || ms > maxIdle.Milliseconds() {
		return apiErr(400, 400, "timeout_ms %d: want 1 to %d", ms, maxIdle.Milliseconds())
	}
	c.idle = time.Duration(ms) * time.Millisecond
	if c.keyFmt, err = consumeFormat(q.Get("key_format")); err != nil {
		return err
	}
	c.valFmt, err = consumeFormat(q.Get("value_format"))
	return err
}

// startAt is where a partition starts, as v3StartOffset read it.
type startAt struct {
	kind int // startEarliest, startLatest, startAt, startAfterMilli
	n    int64
}

const (
	startEarliest = iota
	startLatest
	startOffset
	startAfterMilli
)

// v3StartOffset is where to start: an offset, or else a timestamp.
func v3StartOffset(offset, ts string) (kgo.Offset, startAt, error) {
	switch {
	case ts != "" && offset == "":
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			return kgo.NewOffset().AfterMilli(ms), startAt{startAfterMilli, ms}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return kgo.Offset{}, startAt{}, apiErr(400, 400, "timestamp %q: want RFC 3339 or Unix milliseconds", ts)
		}
		return kgo.NewOffset().AfterMilli(t.UnixMilli()), startAt{startAfterMilli, t.UnixMilli()}, nil
	case offset == "" || offset == "earliest":
		return kgo.NewOffset().AtStart(), startAt{startEarliest, 0}, nil
	case offset == "latest":
		return kgo.NewOffset().AtEnd(), startAt{startLatest, 0}, nil
	}
	o, err := strconv.ParseInt(offset, 10, 64)
	if err != nil || o < 0 {
		return kgo.Offset{}, startAt{}, apiErr(400, 400, "offset %q: want a number, earliest or latest", offset)
	}
	return kgo.NewOffset().At(o), startAt{startOffset, o}, nil
}

// findEnd sets c.remaining (without follow): each partition's end offset
// now, for the partitions that start before it.
func (a *v3) findEnd(ctx context.Context, c *consumeReq) error {
	ends, err := a.s.kadm(ctx).ListEndOffsets(ctx, c.topic)
	if err != nil {
		return fmt.Errorf("end offsets: %w", err)
	}
	starts, err := a.s.kadm(ctx).ListStartOffsets(ctx, c.topic)
	if err != nil {
		return fmt.Errorf("start offsets: %w", err)
	}
	c.remaining = map[int32]int64{}
	for p, from := range c.from {
		end, found := ends.Lookup(c.topic, p)
		if !found || end.Err != nil {
			return fmt.Errorf("end offset of %s-%d: %w", c.topic, p, end.Err)
		}
		first := end.Offset
		switch from.kind {
		case startEarliest:
			if st, found := starts.Lookup(c.topic, p); found && st.Err == nil {
				first = st.Offset
			}
		case startOffset:
			first = from.n
		case startAfterMilli:
			first, err = a.offsetAfter(ctx, c.topic, p, from.n, end.Offset)
			if err != nil {
				return err
			}
		}
		if first < end.Offset {
			c.remaining[p] = end.Offset
		}
	}
	return nil
}

// offsetAfter is the first offset of partition p at or after ms (end if
// there is none).
func (a *v3) offsetAfter(ctx context.Context, topic string, p int32, ms, end int64) (int64, error) {
	os, err := a.s.kadm(ctx).ListOffsetsAfterMilli(ctx, ms, topic)
	if err != nil {
		return 0, fmt.Errorf("offsets after %d: %w", ms, err)
	}
	o, found := os.Lookup(topic, p)
	if !found || o.Err != nil || o.Offset < 0 {
		return end, nil
	}
	return o.Offset, nil
}

// resume starts after the positions of an event id "p:o,p:o".
func (c *consumeReq) resume(id string) error {
	pos, err := parseEventID(id)
	if err != nil {
		return err
	}
	for p, o := range pos {
		if _, known := c.start[p]; known {
			c.start[p] = kgo.NewOffset().At(o + 1)
			c.from[p] = startAt{startOffset, o + 1}
			c.resumed[p] = o
		}
	}
	return nil
}

// parseEventID reads an event id "p:o[,p:o...]" ("" is none).
func parseEventID(id string) (map[int32]int64, error) {
	pos := map[int32]int64{}
	if id == "" {
		return pos, nil
	}
	for _, po := range strings.Split(id, ",") {
		ps, os, found := strings.Cut(strings.TrimSpace(po), ":")
		p, err1 := strconv.ParseInt(ps, 10, 32)
		o, err2 := strconv.ParseInt(os, 10, 64)
		if !found || err1 != nil || err2 != nil || p < 0 || o < 0 {
			return nil, apiErr(400, 400, "event id %q: want <partition>:<offset>[,...]", id)
		}
		pos[int32(p)] = o
	}
	return pos, nil
}

// intParam parses a non-negative integer parameter ("" is def).
func v3IntParam(v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, apiErr(400, 400, "%q is not a non-negative number", v)
	}
	return n, nil
}

// consumeFormat checks a key_format or value_format.
func consumeFormat(f string) (string, error) {
	switch strings.ToUpper(f) {
	case "", "BINARY":
		return "BINARY", nil
	case "STRING", "JSON", "AVRO", "JSONSCHEMA", "PROTOBUF":
		return strings.ToUpper(f), nil
	}
	return "", apiErr(400, 400, "format %q: want BINARY, STRING, JSON, AVRO, JSONSCHEMA or PROTOBUF", f)
}

// consume is GET .../records.
func (a *v3) consume(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	c, err := a.parseConsume(r)
	if err != nil {
		return err
	}
	if !c.follow {
		if err := retryTransient(r.Context(), func() error { return a.findEnd(r.Context(), c) }); err != nil {
			return err
		}
	}
	cl, err := kgo.NewClient(a.s.callerOpts(r.Context(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: c.start}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(4<<20),
		kgo.FetchMaxPartitionBytes(1<<20), kgo.MaxConcurrentFetches(1),
		// Well under the idle end of a stream: partitions whose start
		// offset is still being listed join the next fetch, which must
		// come before the stream gives up waiting.
		kgo.FetchMaxWait(500*time.Millisecond))...)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(a.s.ctx, cancel) // the proxy closing ends the stream
	defer stop()

	ct := ndjsonType
	if c.sse {
		ct = sseType
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	st := &v3Stream{a: a, ctx: ctx, w: w, rc: http.NewResponseController(w), c: c, cid: cid, pos: c.resumed}
	defer clearDeadlines(st.rc)
	if c.sse {
		io.WriteString(w, "retry: 500\n\n")
	}
	if err := st.rc.Flush(); err != nil {
		return nil
	}
	st.run(ctx, cl)
	return nil
}

// stream writes the records of one consume request.
type v3Stream struct {
	a    *v3
	ctx  context.Context // the request's (decoding asks the registry)
	w    io.Writer
	rc   *http.ResponseController
	c    *consumeReq
	cid  string
	pos  map[int32]int64 // the last offset written, per partition
	sent int64
}

// run polls and writes until the client leaves, max_records or timeout_ms.
func (st *v3Stream) run(ctx context.Context, cl *kgo.Client) {
	lastRecord := time.Now()
	for ctx.Err() == nil && (st.c.maxRecords < 0 || st.sent < st.c.maxRecords) {
		if !st.c.follow && len(st.c.remaining) == 0 {
			return
		}
		wait := sseKeepAlive
		if st.c.idle > 0 {
			wait = min(wait, time.Until(lastRecord.Add(st.c.idle)))
		}
		if wait <= 0 {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		fs := cl.PollRecords(pctx, 500)
		cancel()
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			st.writeError(fe.Err)
			return
		}
		if fs.NumRecords() == 0 {
			if err := st.keepAlive(); err != nil {
				return
			}
			continue
		}
		lastRecord = time.Now()
		if err := st.write(fs.Records()); err != nil {
			return
		}
	}
}

// write writes records (up to max_records) and flushes.
func (st *v3Stream) write(recs []*kgo.Record) error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(sseKeepAlive))
	for _, r := range recs {
		if st.c.maxRecords >= 0 && st.sent >= st.c.maxRecords {
			break
		}
		if !st.c.follow {
			end, found := st.c.remaining[r.Partition]
			if !found || r.Offset >= end { // past the end this request reads to
				continue
			}
			if r.Offset >= end-1 {
				delete(st.c.remaining, r.Partition)
			}
		}
		st.pos[r.Partition] = r.Offset
		b, err := json.Marshal(st.recordObj(r))
		if err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
		if st.c.sse {
			_, err = fmt.Fprintf(st.w, "id: %s\nevent: record\ndata: %s\n\n", st.eventID(), b)
		} else {
			_, err = st.w.Write(append(b, '\n'))
		}
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		st.sent++
	}
	return st.rc.Flush()
}

// eventID is the position reached: "p:o" per partition read, in order.
func (st *v3Stream) eventID() string {
	ps := make([]int32, 0, len(st.pos))
	for p := range st.pos {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%d", p, st.pos[p])
	}
	return b.String()
}

// sseKeepAlive writes an SSE comment (an empty line for JSON lines).
func (st *v3Stream) keepAlive() error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(sseKeepAlive))
	var err error
	if st.c.sse {
		_, err = io.WriteString(st.w, ": keep-alive\n\n")
	} else {
		_, err = io.WriteString(st.w, "\n")
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return st.rc.Flush()
}

// writeError ends the stream with an error.
func (st *v3Stream) writeError(err error) {
	e := v3Error(err)
	b, _ := json.Marshal(obj{"error_code": e.code, "message": e.message})
	if st.c.sse {
		fmt.Fprintf(st.w, "event: error\ndata: %s\n\n", b)
	} else {
		st.w.Write(append(b, '\n'))
	}
	st.rc.Flush()
}

func (st *v3Stream) recordObj(r *kgo.Record) obj {
	hs := make([]obj, 0, len(r.Headers))
	for _, h := range r.Headers {
		var v any
		if h.Value != nil {
			v = base64.StdEncoding.EncodeToString(h.Value)
		}
		hs = append(hs, obj{"name": h.Key, "value": v})
	}
	return obj{
		"cluster_id":   st.cid,
		"topic_name":   r.Topic,
		"partition_id": r.Partition,
		"offset":       r.Offset,
		"timestamp":    v3Time(r.Timestamp),
		"headers":      hs,
		"key":          st.data(r, true, st.c.keyFmt),
		"value":        st.data(r, false, st.c.valFmt),
	}
}

// data shows a key or value in format.
func (st *v3Stream) data(r *kgo.Record, isKey bool, format string) any {
	switch format {
	case "AVRO", "JSONSCHEMA", "PROTOBUF":
		return st.a.decodeSchema(st.ctx, r, isKey, format)
	}
	if isKey {
		return v3DataObj(r.Key, format)
	}
	return v3DataObj(r.Value, format)
}

// dataObj shows a key or value in the format asked, falling back to
// BINARY for bytes that are not that format (nil stays null).
func v3DataObj(b []byte, format string) any {
	if b == nil {
		return nil
	}
	switch {
	case format == "JSON" && json.Valid(b):
		return obj{"type": "JSON", "data": json.RawMessage(b)}
	case format == "STRING" && utf8Valid(b):
		return obj{"type": "STRING", "data": string(b)}
	}
	return obj{"type": "BINARY", "data": base64.StdEncoding.EncodeToString(b)}
}

// fromGroup starts c where group g committed (a simple group: the proxy
// does not join it).
func (a *v3) fromGroup(ctx context.Context, c *consumeReq, g string) error {
	os, err := a.s.kadm(ctx).FetchOffsetsForTopics(ctx, g, c.topic)
	if err != nil {
		return fmt.Errorf("committed offsets of %s: %w", g, err)
	}
	for p := range c.start {
		if o, found := os.Lookup(c.topic, p); found && o.Err == nil && o.At >= 0 {
			c.start[p], c.from[p] = kgo.NewOffset().At(o.At), startAt{startOffset, o.At}
		}
	}
	return nil
}
