package restproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// recordStream reads the records of a streaming produce body: through the
// single-pass scanner (v3_scan.go) when a record is of its shape, else
// through encoding/json (decodeRecord), which answers exactly as it
// always did.
type recordStream struct {
	body io.Reader
	rc   *http.ResponseController
	max  int64 // bytes of one record

	buf      []byte // buf[off:] is read and not yet decoded
	off      int
	readErr  error     // of body, once it failed or ended
	filled   bool      // the last read filled the buffer
	deadline time.Time // the read deadline last set

	kd, vd v3Data    // the key and value of the last record scanned
	pool   valuePool // of the values produced
	now    time.Time // when the last record was asked for
}

// A stream's read buffer starts at streamBufStart bytes and grows, while
// a record or a read fills it, to streamBufSize. A record that does not
// fit that is decoded by encoding/json (which reads it in one pass, where
// the scanner would start over after every read).
const (
	streamBufStart = 4 << 10
	streamBufSize  = 64 << 10
)

func newRecordStream(body io.Reader, rc *http.ResponseController, max int64) *recordStream {
	return &recordStream{body: body, rc: rc, max: max, buf: make([]byte, 0, streamBufStart)}
}

// next is the next record, as decodeRecord answers it: io.EOF ends the
// stream, an error with fatal set cannot be recovered from. The record's
// key and value data may be in the stream's buffer, valid until the next
// call.
func (st *recordStream) next(rec *v3Record) (fatal bool, err error) {
	start := time.Now()
	st.now = start
	for {
		n, err := scanRecord(st.buf[st.off:], rec, &st.kd, &st.vd, &st.pool)
		if err == nil {
			st.off += n
			return false, nil
		}
		if err != errScanMore || st.readErr != nil || !st.fill(start) {
			return st.slow(rec)
		}
	}
}

// fill reads more of the body, making room in the buffer first; false if
// the record fills the buffer or has reached its limit, or the body ended
// or failed.
func (st *recordStream) fill(start time.Time) bool {
	// What is left is at most a record; moved to the front, the read
	// gets the whole rest of the buffer (reads into a little room at its
	// end would be many small reads).
	if st.off > 0 {
		st.buf = st.buf[:copy(st.buf, st.buf[st.off:])]
		st.off = 0
	}
	if (len(st.buf) == cap(st.buf) || st.filled) && cap(st.buf) < streamBufSize {
		grown := make([]byte, len(st.buf), min(2*cap(st.buf), streamBufSize))
		st.buf = grown[:copy(grown, st.buf)]
	}
	limit := len(st.buf) + int(min(int64(cap(st.buf)-len(st.buf)), st.max-int64(len(st.buf)-st.off)))
	if limit <= len(st.buf) {
		return false
	}
	// The deadline is a minute from the start of the record (within a
	// second, to spare the connection's timer).
	if d := start.Add(recordTimeout); d.Sub(st.deadline) > time.Second {
		_ = st.rc.SetReadDeadline(d)
		st.deadline = d
	}
	n, err := st.body.Read(st.buf[len(st.buf):limit])
	st.filled = len(st.buf)+n == cap(st.buf)
	st.buf = st.buf[:len(st.buf)+n]
	if err != nil {
		st.readErr = err
	}
	return n > 0 || err == nil
}

// slow decodes the record at off with encoding/json, and then goes on
// with the bytes it has not used.
func (st *recordStream) slow(rec *v3Record) (bool, error) {
	rest := []io.Reader{bytes.NewReader(bytes.Clone(st.buf[st.off:]))}
	if st.readErr != nil {
		rest = append(rest, errReader{st.readErr})
	} else {
		rest = append(rest, st.body)
	}
	lim := &recordLimiter{r: io.MultiReader(rest...), max: st.max}
	dec := json.NewDecoder(lim)
	r, fatal, err := decodeRecord(dec, lim, st.rc)
	*rec = r
	st.deadline = time.Time{} // decodeRecord set its own
	buffered, _ := io.ReadAll(dec.Buffered())
	st.buf = append(st.buf[:0], buffered...)
	st.off, st.body, st.readErr = 0, lim.r, nil
	return fatal, err
}

// errReader replays the error a body read ended with.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// appendReport appends p's report and a newline, as json.Encoder writes
// an *okReport or a *failReport, without reflection for the former.
func appendReport(b []byte, pt produceTarget, p *pendingReport, tc *timeCache) []byte {
	if p.err != nil {
		out, _ := json.Marshal(errReport(p.err))
		return append(append(b, out...), '\n')
	}
	r := &p.kr
	b = tc.appendHead(b, pt)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"timestamp":`...)
	b = tc.appendTime(b, r.Timestamp)
	b = append(b, `,"key":`...)
	b = tc.key.appendInfo(b, p.kinfo)
	b = append(b, `,"value":`...)
	b = tc.value.appendInfo(b, p.vinfo)
	return append(b, "}\n"...)
}

// appendInfo appends a *dataInfo as encoding/json writes it.
func appendInfo(b []byte, d *dataInfo) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"type":`...)
	b = appendJSONString(b, d.Type)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(d.Size), 10)
	if d.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, d.Subject)
	}
	if d.SchemaID != nil {
		b = append(b, `,"schema_id":`...)
		b = strconv.AppendInt(b, int64(*d.SchemaID), 10)
	}
	if d.SchemaVersion != 0 {
		b = append(b, `,"schema_version":`...)
		b = strconv.AppendInt(b, int64(d.SchemaVersion), 10)
	}
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json quotes it (which
// escapes <, > and & too): as is when no byte needs escaping.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(s)
			return append(b, out...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// timeCache is what a stream's reports repeat, as last written: the
// timestamp, quoted (the records acknowledged together mostly share
// their millisecond), the start of a report up to its partition_id (the
// same for a whole stream), and the key and value infos.
type timeCache struct {
	ms   int64
	text []byte

	cid, topic string // of head
	head       []byte

	key, value infoCache
}

// appendHead appends the start of a successful report of pt, up to the
// partition_id's value.
func (c *timeCache) appendHead(b []byte, pt produceTarget) []byte {
	if c.head == nil || c.cid != pt.cid || c.topic != pt.topic {
		c.cid, c.topic = pt.cid, pt.topic
		h := append(c.head[:0], `{"error_code":200,"cluster_id":`...)
		h = appendJSONString(h, pt.cid)
		h = append(h, `,"topic_name":`...)
		h = appendJSONString(h, pt.topic)
		c.head = append(h, `,"partition_id":`...)
	}
	return append(b, c.head...)
}

// infoCache is the last key or value info a stream's reports wrote.
type infoCache struct {
	info dataInfo // SchemaID points at id
	id   int32
	text []byte // nil: none yet
}

// same says whether d writes as the cached info.
func (c *infoCache) same(d *dataInfo) bool {
	i := &c.info
	if d.Type != i.Type || d.Size != i.Size || d.Subject != i.Subject || d.SchemaVersion != i.SchemaVersion ||
		(d.SchemaID == nil) != (i.SchemaID == nil) {
		return false
	}
	return d.SchemaID == nil || *d.SchemaID == *i.SchemaID
}

// appendInfo appends d as appendInfo does, from the cache when d equals
// the last one.
func (c *infoCache) appendInfo(b []byte, d *dataInfo) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	if c.text == nil || !c.same(d) {
		c.info = *d
		if d.SchemaID != nil {
			c.id = *d.SchemaID
			c.info.SchemaID = &c.id
		}
		c.text = appendInfo(c.text[:0], d)
	}
	return append(b, c.text...)
}

// appendTime appends t as v3Time writes it, quoted.
func (c *timeCache) appendTime(b []byte, t time.Time) []byte {
	if ms := t.UnixMilli(); c.text == nil || ms != c.ms {
		c.ms = ms
		c.text = appendJSONString(c.text[:0], v3Time(t))
	}
	return append(b, c.text...)
}
