package restproxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Produce: POST .../topics/{t}/records takes one JSON record or a stream of
// them (chunked) and answers one delivery report per record, in order;
// POST .../records:batch takes {"entries":[...]}.

// v3Data is a record's key or value.
type v3Data struct {
	Type                string          `json:"type"`
	Data                json.RawMessage `json:"data"`
	Subject             string          `json:"subject"`
	SubjectNameStrategy string          `json:"subject_name_strategy"`
	SchemaID            *jInt32         `json:"schema_id"`
	SchemaVersion       *jInt32         `json:"schema_version"`
	Schema              string          `json:"schema"`

	// Set by the streaming scanner (v3_scan.go): text is Data's string
	// when Data is a plain JSON string, and aliased says Data is in a
	// buffer the stream reuses.
	text      []byte
	aliased   bool
	unchecked bool   // text is only known to end the string (v3_scan.go)
	compact   bool   // Data has no whitespace between tokens
	decoded   []byte // the bytes of BINARY or compact JSON data, from the scanner
}

// v3Header is a record header; its value is base64.
type v3Header struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// v3Record is one record to produce.
type v3Record struct {
	ID          json.RawMessage `json:"id,omitempty"` // records:batch only
	PartitionID *jInt32         `json:"partition_id"`
	Headers     []v3Header      `json:"headers"`
	Key         *v3Data         `json:"key"`
	Value       *v3Data         `json:"value"`
	Timestamp   *time.Time      `json:"timestamp"`
}

// produceTarget is what every record of a request shares.
type produceTarget struct {
	cid, topic string
	partitions int32
}

// target checks the cluster and the topic of a produce request.
func (a *v3) target(r *http.Request) (produceTarget, error) {
	cid, err := a.cluster(r)
	if err != nil {
		return produceTarget{}, err
	}
	d, err := a.topic(r.Context(), r.PathValue("t"))
	if err != nil {
		return produceTarget{}, err
	}
	return produceTarget{cid: cid, topic: d.Topic, partitions: int32(len(d.Partitions))}, nil
}

// kafkaRecord builds the Kafka record of rec, and the key and value parts
// of its report.
func (a *v3) kafkaRecord(ctx context.Context, pt produceTarget, rec *v3Record) (*kgo.Record, *dataInfo, *dataInfo, error) {
	kr := new(kgo.Record)
	kinfo, vinfo, err := a.fillRecord(ctx, pt, rec, kr)
	if err != nil {
		return nil, nil, nil, err
	}
	return kr, kinfo, vinfo, nil
}

// fillRecord makes kr the Kafka record of rec, as kafkaRecord.
func (a *v3) fillRecord(ctx context.Context, pt produceTarget, rec *v3Record, kr *kgo.Record) (*dataInfo, *dataInfo, error) {
	*kr = kgo.Record{Topic: pt.topic}
	if rec.Timestamp != nil {
		kr.Timestamp = *rec.Timestamp
	}
	for i, h := range rec.Headers {
		if h.Name == "" {
			return nil, nil, apiErr(400, 400, "header %d has no name", i)
		}
		kh := kgo.RecordHeader{Key: h.Name}
		if h.Value != nil {
			v, err := base64.StdEncoding.DecodeString(*h.Value)
			if err != nil {
				return nil, nil, apiErr(400, 400, "header %s: value is not base64: %v", h.Name, err)
			}
			kh.Value = v
		}
		kr.Headers = append(kr.Headers, kh)
	}
	var kinfo, vinfo *dataInfo
	var err error
	if kr.Key, kinfo, err = a.encodeData(ctx, pt.topic, true, rec.Key); err != nil {
		return nil, nil, err
	}
	if kr.Value, vinfo, err = a.encodeData(ctx, pt.topic, false, rec.Value); err != nil {
		return nil, nil, err
	}
	kr.Context = ctx
	if rec.PartitionID != nil {
		p := int32(*rec.PartitionID)
		if p < 0 || p >= pt.partitions {
			return nil, nil, apiErr(404, 404, "Partition %d of topic %s does not exist (it has %d).", p, pt.topic, pt.partitions)
		}
		kr.Partition = p
		withExplicitPartition(ctx, kr)
	}
	return kinfo, vinfo, nil
}

// encodeData encodes a key or value: nil for none, else the bytes and the
// {"type","size",...} of its report.
func (a *v3) encodeData(ctx context.Context, topic string, isKey bool, d *v3Data) ([]byte, *dataInfo, error) {
	what := "value"
	if isKey {
		what = "key"
	}
	if d == nil {
		return nil, nil, nil
	}
	if (d.SchemaID != nil && *d.SchemaID < 0) || (d.SchemaVersion != nil && *d.SchemaVersion < -1) {
		return nil, nil, apiErr(400, 400, "%s: schema_id must be at least 0, schema_version at least -1", what)
	}
	switch strings.ToUpper(d.SubjectNameStrategy) {
	case "", "TOPIC_NAME", "RECORD_NAME", "TOPIC_RECORD_NAME":
	default:
		return nil, nil, apiErr(400, 400, "%s: subject_name_strategy %q: want TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME", what, d.SubjectNameStrategy)
	}
	typ := strings.ToUpper(d.Type)
	if typ == "" {
		if d.SchemaID != nil || d.SchemaVersion != nil || d.Schema != "" || d.Subject != "" || d.SubjectNameStrategy != "" {
			return a.encodeSchema(ctx, topic, isKey, "", d.owned())
		}
		typ = "JSON"
	}
	switch typ {
	case "AVRO", "JSONSCHEMA", "PROTOBUF":
		return a.encodeSchema(ctx, topic, isKey, typ, d.owned())
	case "BINARY", "JSON", "STRING":
	default:
		return nil, nil, apiErr(400, 400, "%s: unknown type %q (BINARY, JSON, STRING, AVRO, JSONSCHEMA, PROTOBUF)", what, d.Type)
	}
	if len(d.Data) == 0 || string(d.Data) == "null" {
		return nil, nil, nil
	}
	b, err := plainData(typ, what, d)
	if err != nil {
		return nil, nil, err
	}
	return b, &dataInfo{Type: typ, Size: len(b)}, nil
}

// owned is d with Data in memory of its own.
func (d *v3Data) owned() *v3Data {
	if !d.aliased {
		return d
	}
	c := *d
	c.Data, c.text, c.aliased, c.decoded, c.compact = bytes.Clone(d.Data), nil, false, nil, false
	return &c
}

// plainData is the bytes of BINARY (base64), JSON or STRING data.
func plainData(typ, what string, d *v3Data) ([]byte, error) {
	if d.decoded != nil && d.Type == typ { // made by the scanner
		return d.decoded, nil
	}
	if typ == "JSON" {
		b := d.Data
		if !d.compact {
			b = v3Compact(d.Data)
		}
		if d.aliased && len(b) > 0 && &b[0] == &d.Data[0] {
			b = bytes.Clone(b)
		}
		return b, nil
	}
	text := d.text
	if text == nil {
		var s string
		if err := json.Unmarshal(d.Data, &s); err != nil {
			return nil, apiErr(400, 400, "%s: %s data must be a JSON string", what, typ)
		}
		text = []byte(s)
	} else if typ == "STRING" {
		text = bytes.Clone(text)
	}
	if typ == "STRING" {
		return text, nil
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(b, text)
	if err != nil {
		return nil, apiErr(400, 400, "%s: data is not base64: %v", what, err)
	}
	return b[:n], nil
}

// v3Time is a timestamp as Confluent's v3 writes it.
func v3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// dataInfo is the report of a key or value.
type dataInfo struct {
	Type          string `json:"type"`
	Size          int    `json:"size"`
	Subject       string `json:"subject,omitempty"`
	SchemaID      *int32 `json:"schema_id,omitempty"`
	SchemaVersion int    `json:"schema_version,omitempty"`
}

// okReport is the delivery report of a produced record (ErrorCode 200;
// records:batch leaves it out and sets ID).
type okReport struct {
	ID          json.RawMessage `json:"id,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	ClusterID   string          `json:"cluster_id"`
	TopicName   string          `json:"topic_name"`
	PartitionID int32           `json:"partition_id"`
	Offset      int64           `json:"offset"`
	Timestamp   string          `json:"timestamp"`
	Key         *dataInfo       `json:"key"`
	Value       *dataInfo       `json:"value"`
}

// failReport is the report of a record that failed.
type failReport struct {
	ID        json.RawMessage `json:"id,omitempty"`
	ErrorCode int             `json:"error_code"`
	Message   string          `json:"message"`
}

// v3Report is the delivery report of a produced record.
func v3Report(pt produceTarget, r *kgo.Record, kinfo, vinfo *dataInfo) *okReport {
	return &okReport{ErrorCode: 200, ClusterID: pt.cid, TopicName: pt.topic, PartitionID: r.Partition,
		Offset: r.Offset, Timestamp: v3Time(r.Timestamp), Key: kinfo, Value: vinfo}
}

// errReport is the report of a record that failed.
func errReport(err error) *failReport {
	e := produceError(err)
	return &failReport{ErrorCode: e.code, Message: e.message}
}

// produceError maps a produce error.
func produceError(err error) *apiError {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		st := kafkaStatus(ke)
		return &apiError{status: st, code: v3Code(st), message: ke.Message + ": " + ke.Description}
	}
	if errors.Is(err, kgo.ErrRecordTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{status: 504, code: 504, message: err.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return &apiError{status: 503, code: 503, message: "produce canceled: " + err.Error()}
	}
	return v3Error(err)
}

// inFlight bounds the records a streaming request has produced and not
// yet reported (the producer's own buffer bounds them all).
const inFlight = 4096

// pendingReport is a record of a stream and the report to write once it
// is acknowledged: of kr (with kinfo and vinfo), or of err.
type pendingReport struct {
	kr           kgo.Record
	kinfo, vinfo *dataInfo
	err          error
	done         atomic.Bool // set, then the writer notified
	explicit     bool        // the record names its partition
}

// reportSlab hands out the pending reports of a stream from slabs of
// reportSlabSize, one allocation for that many records. A slab is freed
// when none of its reports is referenced any more; reports are never
// reused (franz-go reads a record after its promise returns).
type reportSlab struct{ free []pendingReport }

const reportSlabSize = 32

func (rs *reportSlab) next() *pendingReport {
	if len(rs.free) == 0 {
		rs.free = make([]pendingReport, reportSlabSize)
	}
	p := &rs.free[0]
	rs.free = rs.free[1:]
	return p
}

// recordLimiter fails reading past max bytes since the last reset: one
// record of a stream cannot make the proxy buffer without limit.
type recordLimiter struct {
	r      io.Reader
	n, max int64
}

var errRecordTooLarge = errors.New("record too large")

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errRecordTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func (l *recordLimiter) reset() { l.n = l.max }

// produceWait bounds how long a record may wait for Kafka: after it, its
// report is an error (504) instead of a request that hangs.
const produceWait = 8 * time.Second

// withDeadline gives kr's context (the request's, with its marks) the
// deadline produceWait; the cancel frees it once kr is done.
func withDeadline(kr *kgo.Record) context.CancelFunc {
	ctx, cancel := context.WithTimeout(kr.Context, produceWait)
	kr.Context = ctx
	return cancel
}

// recordTimeout bounds how long one record of a stream may take to
// arrive, and one report to be written.
const recordTimeout = time.Minute

// decodeRecord reads the next record of a stream. io.EOF ends the
// stream; an error with fatal set cannot be recovered from.
func decodeRecord(dec *json.Decoder, lim *recordLimiter, rc *http.ResponseController) (rec v3Record, fatal bool, err error) {
	lim.reset()
	_ = rc.SetReadDeadline(time.Now().Add(recordTimeout))
	var p *v3Record // stays nil for a JSON null
	err = dec.Decode(&p)
	switch {
	case err == nil && p == nil:
		return rec, false, apiErr(400, 400, "record: want a JSON object, not null")
	case err == nil:
		return *p, false, nil
	case errors.Is(err, io.EOF):
		return rec, true, io.EOF
	case errors.Is(err, errRecordTooLarge):
		return rec, true, apiErr(413, 413, "a record is larger than %d bytes", lim.max)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return rec, true, apiErr(408, 408, "no record for %v", recordTimeout)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return rec, false, apiErr(400, 400, "record: %v", err)
	}
	return rec, true, apiErr(400, 400, "record: malformed JSON: %v", err)
}

// produce is POST .../records: one delivery report per record of the body,
// in order. Errors before the first record (cluster, topic, the first
// record itself) are the answer's status; after it, each report has its
// own error_code over a 200. Records are decoded (recordStream), produced
// and reported (writeReports) as they come, without waiting for one
// another.
func (a *v3) produce(w http.ResponseWriter, r *http.Request) error {
	pt, err := a.target(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // reports go out while records come in (HTTP/1)
	defer clearDeadlines(rc)
	st := newRecordStream(r.Body, rc, a.s.cfg.MaxRequestBytes)
	var rec v3Record
	_, err = st.next(&rec)
	if errors.Is(err, io.EOF) {
		return apiErr(400, 400, "request body: no record")
	}
	if err != nil {
		return err
	}
	first := new(pendingReport)
	if first.kinfo, first.vinfo, err = a.fillRecord(ctx, pt, &rec, &first.kr); err != nil {
		return err
	}
	w.Header().Set("Content-Type", v3JSON)
	w.WriteHeader(200)

	queue := make(chan *pendingReport, inFlight)
	notify := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned: ends when queue is closed and drained
		defer wg.Done()
		writeReports(w, rc, pt, queue, notify)
	}()
	// The records' deadline windows end with the request but carry none
	// of its values: the partitioner looks up a value of each record's
	// context, which would walk the request's whole chain.
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	snd := &sender{a: a, ctx: ctx, wctx: wctx, producer: a.s.producerFor(ctx), queue: queue, notify: notify, pool: &st.pool}
	first.explicit = rec.PartitionID != nil
	snd.send(st.now, first)
	var slab reportSlab
	for {
		fatal, err := st.next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		p := slab.next()
		if err == nil {
			p.kinfo, p.vinfo, err = a.fillRecord(ctx, pt, &rec, &p.kr)
			p.explicit = rec.PartitionID != nil
		}
		if err != nil {
			p.err = err
			p.done.Store(true)
			queue <- p
			if fatal {
				break
			}
			continue
		}
		snd.send(st.now, p)
	}
	snd.close()
	close(queue)
	wg.Wait()
	return nil
}

// windowSpan is how long the records of a stream share one deadline.
const windowSpan = 10 * time.Millisecond

// deadlineWindow is the context, with deadline produceWait, of the records
// a stream sends within windowSpan: one timer for them all, not one each.
// It is canceled once the window is over and its records are done.
type deadlineWindow struct {
	ctx    context.Context
	cancel context.CancelFunc
	until  time.Time
	refs   atomic.Int64 // records not done, +1 while the window is open
}

func (dw *deadlineWindow) release() {
	if dw.refs.Add(-1) == 0 {
		dw.cancel()
	}
}

// sender produces the records of one stream and queues their reports.
type sender struct {
	a        *v3
	ctx      context.Context // the request's
	wctx     context.Context // the deadline windows' parent
	producer *kgo.Client     // the caller's (producerFor)
	queue    chan<- *pendingReport
	notify   chan<- struct{} // a report is done
	pool     *valuePool      // takes the values back once produced
	win      *deadlineWindow
}

// window is the deadline window of a record sent now, holding a
// reference for it.
func (s *sender) window(now time.Time) *deadlineWindow {
	if s.win == nil || now.After(s.win.until) {
		if s.win != nil {
			s.win.release()
		}
		ctx, cancel := context.WithTimeout(s.wctx, produceWait)
		s.win = &deadlineWindow{ctx: ctx, cancel: cancel, until: now.Add(windowSpan)}
		s.win.refs.Store(1)
	}
	s.win.refs.Add(1)
	return s.win
}

// close closes the open window.
func (s *sender) close() {
	if s.win != nil {
		s.win.release()
		s.win = nil
	}
}

// send produces p's record, which the stream asked for at now, and
// queues p (blocking while inFlight reports wait).
func (s *sender) send(now time.Time, p *pendingReport) {
	s.queue <- p
	dw := s.window(now)
	kr := &p.kr
	if kr.Timestamp.IsZero() {
		kr.Timestamp = now // as franz-go would (time.Now), without asking the clock again
	}
	if p.explicit {
		withExplicitPartition(dw.ctx, kr)
	} else {
		kr.Context = dw.ctx
	}
	s.producer.Produce(s.ctx, kr, func(r *kgo.Record, err error) {
		dw.release()
		s.pool.put(r.Value) // the report needs the record's offset only
		r.Value = nil
		p.err = err
		p.done.Store(true)
		select {
		case s.notify <- struct{}{}:
		default: // the writer has a notice still to read
		}
	})
}

// reportFlushBytes is how many bytes of reports are written at once, at
// most, when more are ready. Each write of a chunked response costs
// three writes to the socket (net/http's 4 KiB connection buffer filled,
// the rest, and the chunk's CRLF on Flush), so fewer and larger ones.
const reportFlushBytes = 128 << 10

// writeReports writes each report when its record is done, in order,
// flushing when the next is not done yet or none is queued. After a write
// fails (the client left), it only drains.
func writeReports(w io.Writer, rc *http.ResponseController, pt produceTarget, queue <-chan *pendingReport, notify <-chan struct{}) {
	var buf []byte
	var tc timeCache
	broken := false
	flush := func() {
		if !broken && len(buf) > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(recordTimeout))
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				broken = true
			}
		}
		buf = buf[:0]
	}
	for p := range queue {
		if !p.done.Load() {
			flush()
			for !p.done.Load() {
				<-notify
			}
		}
		if broken {
			continue
		}
		buf = appendReport(buf, pt, p, &tc)
		if len(buf) >= reportFlushBytes || len(queue) == 0 {
			flush()
		}
	}
	flush()
}

// produceBatch is POST .../records:batch: {"entries":[{"id",...}]} answers
// 207 with {"successes":[...],"failures":[...]}. A malformed entry (400)
// fails the whole request; an entry naming a partition or schema that does
// not exist, or that Kafka refuses, is a failure of its own.
func (a *v3) produceBatch(w http.ResponseWriter, r *http.Request) error {
	pt, err := a.target(r)
	if err != nil {
		return err
	}
	var body struct {
		Entries []v3Record `json:"entries"`
	}
	if err := a.decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Entries) == 0 {
		return apiErr(400, 400, "entries: none")
	}
	for i, e := range body.Entries {
		var id string
		if json.Unmarshal(e.ID, &id) != nil || id == "" {
			return apiErr(400, 400, "entry %d: id must be a non-empty string", i)
		}
	}
	successes, failures, err := a.produceEntries(r.Context(), pt, body.Entries)
	if err != nil {
		return err
	}
	return v3OK(w, 207, obj{"successes": successes, "failures": failures})
}

// produceEntries produces the entries of a batch and waits for them. A
// malformed entry (400) fails them all before any is produced.
func (a *v3) produceEntries(ctx context.Context, pt produceTarget, entries []v3Record) ([]*okReport, []*failReport, error) {
	oks := make([]*okReport, len(entries))
	fails := make([]*failReport, len(entries))
	recs := make([]*kgo.Record, len(entries))
	infos := make([][2]*dataInfo, len(entries))
	for i := range entries {
		kr, kinfo, vinfo, err := a.kafkaRecord(ctx, pt, &entries[i])
		if err != nil {
			if e := v3Error(err); e.status == 400 {
				return nil, nil, apiErr(400, 400, "entry %d: %s", i, e.message)
			}
			fails[i] = errReport(err)
			continue
		}
		recs[i], infos[i] = kr, [2]*dataInfo{kinfo, vinfo}
	}
	var wg sync.WaitGroup
	for i, kr := range recs {
		if kr == nil {
			continue
		}
		wg.Add(1)
		cancel := withDeadline(kr)
		a.s.producerFor(ctx).Produce(ctx, kr, func(r *kgo.Record, err error) {
			defer wg.Done()
			cancel()
			if err != nil {
				fails[i] = errReport(err)
			} else {
				oks[i] = v3Report(pt, r, infos[i][0], infos[i][1])
			}
		})
	}
	wg.Wait()
	successes, failures := []*okReport{}, []*failReport{}
	for i, e := range entries {
		if oks[i] != nil {
			oks[i].ID, oks[i].ErrorCode = e.ID, 0
			successes = append(successes, oks[i])
		} else {
			fails[i].ID = e.ID
			failures = append(failures, fails[i])
		}
	}
	return successes, failures, nil
}

// utf8Valid says b is text (the STRING type on consume).
func utf8Valid(b []byte) bool { return utf8.Valid(b) }

// clearDeadlines lifts the deadlines a streaming handler set, for the
// connection's next request.
func clearDeadlines(rc *http.ResponseController) {
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// v3Compact is valid JSON data without insignificant whitespace (as
// Confluent's serializer writes it); data without any whitespace byte is
// already so.
func v3Compact(data []byte) []byte {
	if bytes.IndexAny(data, " \t\r\n") < 0 {
		return data
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return data // cannot happen: the decoder checked it
	}
	return buf.Bytes()
}
