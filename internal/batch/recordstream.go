package batch

// Streaming over a batch's records section for validation.
//
// An uncompressed section is walked in place. A compressed one is
// decompressed through a pooled codec reader into a pooled 64 KiB window, so
// validating a batch never holds more than the window (plus the codec's own
// state) however far the records claim to expand; the decompressed bytes are
// counted against a cap. A record that does not fit the window is walked
// field by field, skipping its key, value and header bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// windowSize is the decompressed bytes a validating stream holds at once.
const windowSize = 64 << 10

// snappyMaxRatio bounds how far snappy's format can expand: its densest
// element, a 3-byte copy, yields 64 bytes. A block claiming more is not
// snappy, and is refused before its output is allocated.
const snappyMaxRatio = 22

// keepSnappyBuf is the largest raw-snappy output buffer a pooled stream
// keeps for the next batch.
const keepSnappyBuf = 1 << 20

// streams pools recordStreams with their windows; like the codec pools in
// compression.go it holds only reusable state.
var streams sync.Pool // *recordStream

var errNoProgress = errors.New("batch: reader made no progress")

// recordStream yields a records section's bytes. data is the unread part of
// the window (or of the section itself when uncompressed).
type recordStream struct {
	data   []byte
	window []byte // backing array of data when r != nil
	r      io.Reader
	eof    bool
	total  int64 // decompressed bytes read so far
	max    int64
	err    error // sticky: ErrDecompress or ErrTooLarge
	codec  Codec

	gz *gzipReader
	lz *lz4Reader
	zs *zstdReader
	sn snappyReader
}

func getStream() *recordStream {
	s, _ := streams.Get().(*recordStream)
	if s == nil {
		s = &recordStream{window: make([]byte, windowSize)}
	}
	return s
}

// open points s at the records section src compressed with codec,
// decompressing at most maxSize bytes.
func (s *recordStream) open(codec Codec, src []byte, maxSize int64) error {
	s.codec, s.max, s.total, s.err, s.eof = codec, maxSize, 0, nil, false
	s.data, s.r = nil, nil
	var err error
	switch codec {
	case CodecNone:
		if int64(len(src)) > maxSize {
			return ErrTooLarge
		}
		s.data, s.eof = src, true
		return nil
	case CodecGzip:
		if s.gz == nil {
			s.gz = new(gzipReader)
		}
		s.gz.src.Reset(src)
		err = s.gz.r.Reset(&s.gz.src)
		s.r = &s.gz.r
	case CodecSnappy:
		err = s.sn.reset(src, maxSize)
		s.r = &s.sn
	case CodecLZ4:
		if s.lz == nil {
			s.lz = &lz4Reader{r: lz4.NewReader(nil)}
		}
		s.lz.src.Reset(src)
		s.lz.r.Reset(&s.lz.src)
		s.r = s.lz.r
	case CodecZstd:
		if s.zs == nil {
			if s.zs, err = newZstdReader(); err != nil {
				return decompressErr(CodecZstd, err)
			}
		}
		s.zs.src.Reset(src)
		err = s.zs.d.Reset(&s.zs.src)
		s.r = s.zs.d
	default:
		return ErrCodec
	}
	if err != nil {
		return s.fail(err)
	}
	s.data = s.window[:0]
	return nil
}

func newZstdReader() (*zstdReader, error) {
	// Concurrency 1 decodes streams synchronously: no goroutines.
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow))
	if err != nil {
		return nil, err
	}
	zr := &zstdReader{d: d}
	runtime.AddCleanup(zr, func(d *zstd.Decoder) { d.Close() }, d)
	return zr, nil
}

// release drops every reference to the caller's bytes and pools s.
func (s *recordStream) release() {
	switch s.codec {
	case CodecGzip:
		s.gz.src.Reset(nil)
	case CodecLZ4:
		s.lz.src.Reset(nil)
		s.lz.r.Reset(nil)
	case CodecZstd:
		s.zs.src.Reset(nil)
		s.zs.d.Reset(nil)
	case CodecSnappy:
		s.sn.src = nil
		if cap(s.sn.buf) > keepSnappyBuf {
			s.sn.buf = nil
		}
	}
	s.data, s.r = nil, nil
	streams.Put(s)
}

func (s *recordStream) fail(err error) error {
	if s.err == nil {
		if errors.Is(err, ErrTooLarge) {
			s.err = ErrTooLarge
		} else {
			s.err = decompressErr(s.codec, err)
		}
	}
	s.eof = true
	return s.err
}

// fill tries to make at least need bytes (at most the window) readable; it
// stops early at the end of the section or on an error (s.err).
func (s *recordStream) fill(need int) {
	need = min(need, len(s.window))
	if s.eof || len(s.data) >= need {
		return
	}
	n := copy(s.window, s.data)
	s.data = s.window[:n]
	for idle := 0; len(s.data) < need; {
		m, err := s.r.Read(s.window[len(s.data):])
		s.data = s.data[:len(s.data)+m]
		s.total += int64(m)
		if s.total > s.max {
			s.fail(ErrTooLarge)
			return
		}
		switch {
		case err == io.EOF:
			s.eof = true
			return
		case err != nil:
			s.fail(err)
			return
		case m == 0:
			if idle++; idle > 100 {
				s.fail(errNoProgress)
				return
			}
		}
	}
}

// atEnd reports whether the section has no bytes left, reading a compressed
// one to its end so the codec verifies its checksums.
func (s *recordStream) atEnd() bool {
	s.fill(1)
	return len(s.data) == 0
}

// skip discards n bytes; false if the section ends first.
func (s *recordStream) skip(n int64) bool {
	for n > 0 {
		if len(s.data) == 0 {
			s.fill(1)
			if len(s.data) == 0 {
				return false
			}
		}
		k := int(min(n, int64(len(s.data))))
		s.data = s.data[k:]
		n -= int64(k)
	}
	return true
}

// field reads a zig-zag varint inside a record with *rem bytes left,
// counting it against *rem.
func (s *recordStream) field(rem *int64) (int64, bool) {
	s.fill(binary.MaxVarintLen64)
	b := s.data
	if int64(len(b)) > *rem {
		b = b[:*rem]
	}
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, false
	}
	s.data = s.data[n:]
	*rem -= int64(n)
	return v, true
}

// field32 is field for a varint that must fit an int32 and be at least lo.
func (s *recordStream) field32(rem *int64, lo int32) (int32, bool) {
	v, ok := s.field(rem)
	if !ok || v < int64(lo) || v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

// bytesField reads a length (-1 allowed when nullable) and skips that many
// bytes inside a record with *rem bytes left.
func (s *recordStream) bytesField(rem *int64, nullable bool) (int32, bool) {
	lo := int32(0)
	if nullable {
		lo = -1
	}
	l, ok := s.field32(rem, lo)
	if !ok || int64(l) > *rem {
		return 0, false
	}
	if l > 0 {
		if !s.skip(int64(l)) {
			return 0, false
		}
		*rem -= int64(l)
	}
	return l, true
}

// large walks a record of length bytes (its length field already read)
// that does not fit the window.
func (s *recordStream) large(m *recordMeta, length int64) error {
	rem := length
	bad := func(what string) error {
		if s.err != nil {
			return s.err
		}
		if s.eof && len(s.data) == 0 {
			what = "incorrect declared batch size, premature EOF reached in the " + what
		}
		return recordErr(what)
	}
	if rem < 1 || !s.skip(1) {
		return bad("attributes")
	}
	rem--
	var ok bool
	if m.timestampDelta, ok = s.field(&rem); !ok {
		return bad("timestamp delta")
	}
	if m.offsetDelta, ok = s.field32(&rem, math.MinInt32); !ok {
		return bad("offset delta")
	}
	if m.keyLen, ok = s.bytesField(&rem, true); !ok {
		return bad("key")
	}
	if m.valueLen, ok = s.bytesField(&rem, true); !ok {
		return bad("value")
	}
	count, ok := s.field32(&rem, 0)
	if !ok || int64(count) > rem/2 {
		return bad("header count")
	}
	for range count {
		if _, ok := s.bytesField(&rem, false); !ok {
			return bad("header key")
		}
		if _, ok := s.bytesField(&rem, true); !ok {
			return bad("header value")
		}
	}
	if rem != 0 {
		return bad("bytes left inside the record")
	}
	return nil
}

// snappyReader decodes xerial-framed or raw snappy block by block into buf.
type snappyReader struct {
	src    []byte // blocks not yet decoded
	raw    bool   // src is one raw block, not yet decoded (even if empty)
	buf    []byte
	out    []byte // decoded bytes not yet read
	budget int64
}

func (r *snappyReader) reset(src []byte, maxSize int64) error {
	r.out, r.budget, r.raw = nil, maxSize, !isXerial(src)
	r.src = src
	if !r.raw {
		r.src = src[xerialHeaderSize:]
	}
	return nil
}

func (r *snappyReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if len(r.src) == 0 && !r.raw {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// next decodes the next block.
func (r *snappyReader) next() error {
	block := r.src
	if r.raw {
		r.src, r.raw = nil, false
	} else {
		if len(block) < 4 {
			return errXerial
		}
		size := binary.BigEndian.Uint32(block)
		if uint64(size) > uint64(len(block)-4) {
			return errXerial
		}
		block, r.src = block[4:4+size], block[4+size:]
	}
	n, err := s2.DecodedLen(block)
	if err != nil {
		return err
	}
	if int64(n) > r.budget {
		return ErrTooLarge
	}
	if n > snappyMaxRatio*len(block)+64 {
		return fmt.Errorf("block claims %d bytes from %d", n, len(block))
	}
	r.budget -= int64(n)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	if r.out, err = s2.Decode(r.buf[:n], block); err != nil {
		return err
	}
	if len(r.out) != n {
		return errXerial
	}
	return nil
}

// recordMeta is what validation needs of one record.
type recordMeta struct {
	timestampDelta int64
	offsetDelta    int32
	keyLen         int32 // -1: null
	valueLen       int32 // -1: null
}

// next reads one record into m, and into full unless it is nil. A record
// that fits the window is decoded in place; a larger one is walked field by
// field, or copied out whole for full.
func (s *recordStream) next(m *recordMeta, full *Record) error {
	if !s.eof {
		s.fill(binary.MaxVarintLen32)
	}
	length, n := binary.Varint(s.data)
	if n <= 0 || n > binary.MaxVarintLen32 || length < 0 || length > math.MaxInt32 {
		if s.err != nil {
			return s.err
		}
		if len(s.data) == 0 {
			return recordErr("incorrect declared batch size, premature EOF reached")
		}
		return recordErr("invalid record length")
	}
	size := n + int(length)
	if !s.eof {
		s.fill(size)
	}
	if s.err != nil {
		return s.err
	}
	if size <= len(s.data) {
		keep := full != nil
		if !keep {
			full = new(Record) // does not escape: no allocation
		}
		rest, err := decodeRecord(s.data, full, keep)
		if err != nil {
			return err
		}
		s.data = rest
		m.set(full)
		return nil
	}
	if s.eof {
		return recordErr(fmt.Sprintf("invalid record size: expected %d bytes in record payload, but only %d remain", length, len(s.data)-n))
	}
	s.data = s.data[n:]
	if full != nil {
		return s.largeFull(m, full, length)
	}
	return s.large(m, length)
}

func (m *recordMeta) set(r *Record) {
	m.timestampDelta, m.offsetDelta = r.TimestampDelta, r.OffsetDelta
	m.keyLen, m.valueLen = nullableLen(r.Key), nullableLen(r.Value)
}

// largeFull decodes into r a record of length bytes (its length field
// already read) that does not fit the window, copying it out of the
// stream: its buffer grows with the bytes actually read, which the
// stream's decompression cap bounds.
func (s *recordStream) largeFull(m *recordMeta, r *Record, length int64) error {
	buf := make([]byte, 0, min(length, 4*windowSize))
	for int64(len(buf)) < length {
		if len(s.data) == 0 {
			s.fill(1)
			if s.err != nil {
				return s.err
			}
			if len(s.data) == 0 {
				return recordErr("incorrect declared batch size, premature EOF reached in a record")
			}
		}
		k := int(min(length-int64(len(buf)), int64(len(s.data))))
		buf = append(buf, s.data[:k]...)
		s.data = s.data[k:]
	}
	if err := decodeRecordBody(buf, r, true); err != nil {
		return err
	}
	m.set(r)
	return nil
}

func nullableLen(b []byte) int32 {
	if b == nil {
		return -1
	}
	return int32(len(b))
}
