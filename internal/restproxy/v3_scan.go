package restproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// A single-pass decoder of the common shape of a v3 record to produce
// (partition_id, headers, key, value, timestamp; key and value with type,
// data and the schema fields), for streaming produce: it neither builds
// maps nor scans a record twice. It takes only what it is sure to decode
// exactly as encoding/json decodes a v3Record; anything else (an unknown
// or repeated field, an escaped field name or header, a number that is
// not a plain integer, a syntax error) is errScanFallback, and the caller
// decodes the record with encoding/json instead, so answers (errors
// included) are the same either way.

var (
	// errScanMore: the record does not end within the bytes given.
	errScanMore = errors.New("record incomplete")
	// errScanFallback: the record is not of the shape the scanner takes.
	errScanFallback = errors.New("record needs encoding/json")
)

// maxScanDepth is the nesting the scanner follows in data before it falls
// back.
const maxScanDepth = 256

// recScanner decodes one record from b.
type recScanner struct {
	b     []byte
	i     int
	pool  *valuePool
	sawWS bool // ws skipped some
}

// scanRecord decodes the record that starts at b[0] (a '{') into rec,
// whose key and value it points at kd and vd. It returns the record's
// length. Of rec, only the Data (and text) of kd and vd alias b; the
// bytes of BINARY data (decoded) and of compact JSON data (copied) go in
// a buffer of pool.
func scanRecord(b []byte, rec *v3Record, kd, vd *v3Data, pool *valuePool) (int, error) {
	s := recScanner{b: b, pool: pool}
	*rec = v3Record{}
	var seen uint8
	err := s.object(func(name []byte) error {
		var bit uint8
		var err error
		switch string(name) {
		case "partition_id":
			bit = 1
			rec.PartitionID, err = s.int32Ptr()
		case "headers":
			bit = 2
			rec.Headers, err = s.headers()
		case "key":
			bit = 4
			rec.Key, err = s.data(kd)
		case "value":
			bit = 8
			rec.Value, err = s.data(vd)
		case "timestamp":
			bit = 16
			rec.Timestamp, err = s.timestamp()
		default:
			return errScanFallback
		}
		if seen&bit != 0 {
			return errScanFallback
		}
		seen |= bit
		return err
	})
	return s.i, err
}

// ws skips whitespace; more data is needed if nothing follows it.
func (s *recScanner) ws() error {
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.sawWS = true
		default:
			return nil
		}
	}
	return errScanMore
}

// object reads {"name": value, ...}, calling field for each name with the
// scanner at its value.
func (s *recScanner) object(field func(name []byte) error) error {
	if err := s.ws(); err != nil {
		return err
	}
	if s.b[s.i] != '{' {
		return errScanFallback
	}
	s.i++
	if err := s.ws(); err != nil {
		return err
	}
	if s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		name, err := s.plainString()
		if err != nil {
			return err
		}
		if err := s.colon(); err != nil {
			return err
		}
		if err := field(name); err != nil {
			return err
		}
		if err := s.ws(); err != nil {
			return err
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			if err := s.ws(); err != nil {
				return err
			}
		case '}':
			s.i++
			return nil
		default:
			return errScanFallback
		}
	}
}

func (s *recScanner) colon() error {
	if err := s.ws(); err != nil {
		return err
	}
	if s.b[s.i] != ':' {
		return errScanFallback
	}
	s.i++
	return s.ws()
}

// null consumes a null if one is next.
func (s *recScanner) null() (bool, error) {
	if s.b[s.i] != 'n' {
		return false, nil
	}
	if len(s.b)-s.i < 4 {
		return false, errScanMore
	}
	if string(s.b[s.i:s.i+4]) != "null" {
		return false, errScanFallback
	}
	s.i += 4
	return true, nil
}

// str reads a string at s.i and returns the bytes between its quotes,
// and whether they have escapes or bytes beyond ASCII.
func (s *recScanner) str() (raw []byte, esc, nonASCII bool, err error) {
	if s.b[s.i] != '"' {
		return nil, false, false, errScanFallback
	}
	start := s.i + 1
	i := start
	for {
		i = strSpecial(s.b, i)
		if i >= len(s.b) {
			return nil, false, false, errScanMore
		}
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], esc, nonASCII, nil
		case c == '\\':
			esc = true
			n, err := escapeLen(s.b[i:])
			if err != nil {
				return nil, false, false, err
			}
			i += n
		case c < 0x20:
			return nil, false, false, errScanFallback
		default: // >= 0x80: encoding/json takes any byte there
			nonASCII = true
			i++
		}
	}
}

// escapeLen is the length of the escape sequence at b[0] ('\\').
func escapeLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, errScanMore
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if len(b) < 6 {
			return 0, errScanMore
		}
		for _, c := range b[2:6] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return 0, errScanFallback
			}
		}
		return 6, nil
	}
	return 0, errScanFallback
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// strSpecial is the index of the first byte from i on that a string
// cannot hold as is ('"', '\\', a control byte or one beyond ASCII), or
// len(b); eight bytes at a time.
func strSpecial(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		ctl := (x - lows*0x20) &^ x
		q := x ^ (lows * '"')
		bs := x ^ (lows * '\\')
		m := (ctl | (q-lows)&^q | (bs-lows)&^bs | x) & highs
		if m != 0 {
			// A borrow only carries into the bytes above one that
			// matched, so the lowest flagged byte is a special one.
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return i
}

// skipString passes over a string, whose bytes beyond ASCII need no
// checks here: it finds quotes and backslashes with bytes.IndexByte and
// checks for control bytes eight at a time.
func (s *recScanner) skipString() error {
	i := s.i + 1
	for {
		q := bytes.IndexByte(s.b[i:], '"')
		if q < 0 {
			return errScanMore
		}
		seg := s.b[i : i+q]
		bs := bytes.IndexByte(seg, '\\')
		if bs < 0 {
			if hasControl(seg) {
				return errScanFallback
			}
			s.i = i + q + 1
			return nil
		}
		if hasControl(seg[:bs]) {
			return errScanFallback
		}
		n, err := escapeLen(s.b[i+bs:])
		if err != nil {
			return err
		}
		i += bs + n
	}
}

// hasControl says whether b has a byte below 0x20.
func hasControl(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if (x-lows*0x20)&^x&highs != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true
		}
	}
	return false
}

// plainString reads a string without escapes (a field name or a type).
func (s *recScanner) plainString() ([]byte, error) {
	raw, esc, _, err := s.str()
	if err == nil && esc {
		err = errScanFallback
	}
	return raw, err
}

// goString reads a string as encoding/json would unmarshal it into a Go
// string, if it is plain (no escapes, valid UTF-8).
func (s *recScanner) goString() (string, error) {
	raw, esc, nonASCII, err := s.str()
	if err != nil {
		return "", err
	}
	if esc || nonASCII && !utf8.Valid(raw) {
		return "", errScanFallback
	}
	return string(raw), nil
}

// int32Ptr reads null or a plain integer that fits 32 bits.
func (s *recScanner) int32Ptr() (*jInt32, error) {
	if null, err := s.null(); null || err != nil {
		return nil, err
	}
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	for ; s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9'; s.i++ {
	}
	if s.i == len(s.b) {
		return nil, errScanMore
	}
	switch s.b[s.i] {
	case '.', 'e', 'E':
		return nil, errScanFallback
	}
	digits := s.b[start:s.i]
	if len(digits) > 1 && (digits[0] == '0' || digits[0] == '-' && digits[1] == '0') {
		return nil, errScanFallback
	}
	v, err := strconv.ParseInt(string(digits), 10, 32)
	if err != nil {
		return nil, errScanFallback
	}
	n := jInt32(v)
	return &n, nil
}

// timestamp reads null or a timestamp as time.Time unmarshals it.
func (s *recScanner) timestamp() (*time.Time, error) {
	if null, err := s.null(); null || err != nil {
		return nil, err
	}
	start := s.i
	if _, esc, nonASCII, err := s.str(); err != nil {
		return nil, err
	} else if esc || nonASCII {
		return nil, errScanFallback
	}
	t := new(time.Time)
	if t.UnmarshalJSON(s.b[start:s.i]) != nil {
		return nil, errScanFallback
	}
	return t, nil
}

// headers reads null or [{"name":…,"value":…},…].
func (s *recScanner) headers() ([]v3Header, error) {
	if null, err := s.null(); null || err != nil {
		return nil, err
	}
	if s.b[s.i] != '[' {
		return nil, errScanFallback
	}
	s.i++
	hs := []v3Header{}
	if err := s.ws(); err != nil {
		return nil, err
	}
	if s.b[s.i] == ']' {
		s.i++
		return hs, nil
	}
	for {
		h, err := s.header()
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
		if err := s.ws(); err != nil {
			return nil, err
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			if err := s.ws(); err != nil {
				return nil, err
			}
		case ']':
			s.i++
			return hs, nil
		default:
			return nil, errScanFallback
		}
	}
}

func (s *recScanner) header() (v3Header, error) {
	var h v3Header
	var seen uint8
	err := s.object(func(name []byte) error {
		var bit uint8
		switch string(name) {
		case "name":
			bit = 1
			v, err := s.goString()
			if err != nil {
				return err
			}
			h.Name = v
		case "value":
			bit = 2
			if null, err := s.null(); err != nil || null {
				h.Value = nil
				return err
			}
			v, err := s.goString()
			if err != nil {
				return err
			}
			h.Value = &v
		default:
			return errScanFallback
		}
		if seen&bit != 0 {
			return errScanFallback
		}
		seen |= bit
		return nil
	})
	return h, err
}

// data reads null or a key or value object into d.
func (s *recScanner) data(d *v3Data) (*v3Data, error) {
	if null, err := s.null(); null || err != nil {
		return nil, err
	}
	*d = v3Data{aliased: true}
	var seen uint8
	err := s.object(func(name []byte) error {
		var bit uint8
		var err error
		switch string(name) {
		case "type":
			bit = 1
			d.Type, err = s.typeName()
		case "data":
			bit = 2
			err = s.dataValue(d)
		case "subject":
			bit = 4
			d.Subject, err = s.optString()
		case "subject_name_strategy":
			bit = 8
			d.SubjectNameStrategy, err = s.optString()
		case "schema_id":
			bit = 16
			d.SchemaID, err = s.int32Ptr()
		case "schema_version":
			bit = 32
			d.SchemaVersion, err = s.int32Ptr()
		case "schema":
			bit = 64
			d.Schema, err = s.optString()
		default:
			return errScanFallback
		}
		if seen&bit != 0 {
			return errScanFallback
		}
		seen |= bit
		return err
	})
	if err == nil && d.unchecked {
		err = s.checkText(d)
	}
	if err == nil && d.Type == "JSON" && d.compact && len(d.Data) > 0 {
		d.decoded = append(s.pool.get(len(d.Data))[:0], d.Data...)
	}
	return d, err
}

// checkText finishes a string data that dataValue only found the end of:
// BINARY data that is base64 (which has no byte a JSON string would
// escape) is decoded at once; other data is checked as str does.
func (s *recScanner) checkText(d *v3Data) error {
	d.unchecked = false
	seg := d.text
	if d.Type == "BINARY" {
		buf := s.pool.get(base64.StdEncoding.DecodedLen(len(seg)))
		// encoding/base64 skips CR and LF, which a JSON string may not
		// hold: data that decodes to fewer bytes than its length says
		// had some, and is checked below.
		if n, err := decodeBase64(buf, seg); err == nil && n == base64Len(seg) {
			d.decoded = buf[:n]
			return nil
		}
		s.pool.put(buf)
	}
	nonASCII := false
	for i := strSpecial(seg, 0); i < len(seg); i = strSpecial(seg, i+1) {
		if seg[i] < 0x20 {
			return errScanFallback
		}
		nonASCII = true
	}
	if nonASCII && !utf8.Valid(seg) {
		d.text = nil
	}
	return nil
}

// optString reads a string or null (which leaves a Go string empty).
func (s *recScanner) optString() (string, error) {
	if null, err := s.null(); null || err != nil {
		return "", err
	}
	return s.goString()
}

// typeName reads a type, without allocating for the usual ones.
func (s *recScanner) typeName() (string, error) {
	if null, err := s.null(); null || err != nil {
		return "", err
	}
	raw, esc, nonASCII, err := s.str()
	if err != nil {
		return "", err
	}
	if esc || nonASCII {
		return "", errScanFallback
	}
	for _, t := range [...]string{"BINARY", "JSON", "STRING", "AVRO", "JSONSCHEMA", "PROTOBUF"} {
		if string(raw) == t {
			return t, nil
		}
	}
	return string(raw), nil
}

// dataValue reads any JSON value as d.Data, and the text of a plain
// string: of a string without escapes it only finds the end, and leaves
// the rest to checkText. Data without whitespace between its tokens is
// marked compact.
func (s *recScanner) dataValue(d *v3Data) error {
	start := s.i
	s.sawWS = false
	defer func() { d.compact = !s.sawWS }()
	if s.b[s.i] == '"' {
		q := bytes.IndexByte(s.b[start+1:], '"')
		if q < 0 {
			return errScanMore
		}
		if seg := s.b[start+1 : start+1+q]; bytes.IndexByte(seg, '\\') < 0 {
			s.i = start + 2 + q
			d.Data, d.text, d.unchecked = s.b[start:s.i], seg, true
			return nil
		}
		raw, esc, nonASCII, err := s.str()
		if err != nil {
			return err
		}
		if !esc && (!nonASCII || utf8.Valid(raw)) {
			d.text = raw
		}
	} else if err := s.skip(0); err != nil {
		return err
	}
	d.Data = s.b[start:s.i]
	return nil
}

// skip passes over a valid JSON value.
func (s *recScanner) skip(depth int) error {
	if depth > maxScanDepth {
		return errScanFallback
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{':
		return s.object(func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		return s.array(depth)
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errScanFallback
}

func (s *recScanner) array(depth int) error {
	s.i++
	if err := s.ws(); err != nil {
		return err
	}
	if s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		if err := s.ws(); err != nil {
			return err
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			if err := s.ws(); err != nil {
				return err
			}
		case ']':
			s.i++
			return nil
		default:
			return errScanFallback
		}
	}
}

func (s *recScanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) {
		return errScanMore
	}
	if string(s.b[s.i:s.i+len(lit)]) != lit {
		return errScanFallback
	}
	s.i += len(lit)
	return nil
}

// number passes over a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
// (a number at the end of the bytes may go on: more are needed).
func (s *recScanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if n, err := s.digits(); err != nil {
		return err
	} else if n == 0 || n > 1 && s.b[s.i-n] == '0' {
		return errScanFallback
	}
	if s.b[s.i] == '.' {
		s.i++
		if n, err := s.digits(); err != nil || n == 0 {
			return orFallback(err)
		}
	}
	if c := s.b[s.i]; c == 'e' || c == 'E' {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if n, err := s.digits(); err != nil || n == 0 {
			return orFallback(err)
		}
	}
	return nil
}

// digits passes over digits, and needs more bytes if they end the input.
func (s *recScanner) digits() (int, error) {
	start := s.i
	for ; s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9'; s.i++ {
	}
	if s.i == len(s.b) {
		return 0, errScanMore
	}
	return s.i - start, nil
}

func orFallback(err error) error {
	if err != nil {
		return err
	}
	return errScanFallback
}

// valuePool recycles the buffers of values a stream produced.
type valuePool struct{ p sync.Pool }

// get is a buffer of n bytes.
func (vp *valuePool) get(n int) []byte {
	if vp != nil {
		if b, ok := vp.p.Get().(*[]byte); ok && cap(*b) >= n {
			return (*b)[:n]
		}
	}
	return make([]byte, n)
}

// put takes back a buffer nothing uses any more.
func (vp *valuePool) put(b []byte) {
	if vp != nil && cap(b) >= 256 && cap(b) <= streamBufSize {
		vp.p.Put(&b)
	}
}
