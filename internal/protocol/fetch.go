package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch versions EncodeFetchResponse writes. Fetch is flexible from v12 and
// names topics by ID from v13; v14 through v18 change only the request.
const (
	MinFetchVersion = 4
	MaxFetchVersion = 18
)

// RecordsSource is one piece of a partition's records in a Fetch response:
// Bytes when non-nil, otherwise Len bytes of the open file FD starting at
// offset Pos. The caller keeps FD open until the response is written.
type RecordsSource struct {
	Bytes []byte
	FD    uintptr
	Pos   int64
	Len   int64
}

func (s *RecordsSource) size() int64 {
	if s.Bytes != nil {
		return int64(len(s.Bytes))
	}
	return s.Len
}

// fetchSeg is one piece of an encoded frame: a range of the frame's own
// buffer, caller memory, or a file range.
type fetchSeg struct {
	kind     uint8 // segBuf, segMem, segFile
	off, end int   // segBuf: range of FetchFrame.buf
	mem      []byte
	fd       uintptr
	pos, n   int64
}

const (
	segBuf = iota
	segMem
	segFile
)

// FetchFrame is an encoded Fetch response frame, size prefix included, as
// in-memory pieces interleaved with file ranges. It is an io.WriterTo.
type FetchFrame struct {
	buf  []byte
	segs []fetchSeg
	size int64
}

// Size is the number of bytes the frame writes, size prefix included.
func (f *FetchFrame) Size() int64 { return f.size }

var errFetchSources = errors.New("protocol: fetch sources do not match the partitions")

// EncodeFetchResponse encodes resp at version (MinFetchVersion through
// MaxFetchVersion; resp.Version is ignored and resp is not modified) as a
// response frame for correlationID, appending its in-memory part to dst.
//
// sources is either empty or holds one entry per partition, in response
// order (topic by topic, partition by partition). A nil entry encodes the
// partition's RecordBatches as kmsg would (nil is a null records field); a
// non-nil entry, even empty, replaces RecordBatches with the concatenation
// of its pieces, which are not copied. Every other field is encoded exactly
// as kmsg's FetchResponse.AppendTo encodes it.
func EncodeFetchResponse(dst []byte, correlationID int32, version int16, resp *kmsg.FetchResponse, sources [][]RecordsSource) (FetchFrame, error) {
	if version < MinFetchVersion || version > MaxFetchVersion {
		return FetchFrame{}, fmt.Errorf("%w: fetch version %d", ErrUnsupportedVersion, version)
	}
	if len(sources) != 0 {
		n := 0
		for i := range resp.Topics {
			n += len(resp.Topics[i].Partitions)
		}
		if n != len(sources) {
			return FetchFrame{}, fmt.Errorf("%w: %d sources, %d partitions", errFetchSources, len(sources), n)
		}
	}
	e := fetchEncoder{v: version, flex: version >= 12}
	e.f.buf = dst
	start := len(dst)
	e.f.buf = binary.BigEndian.AppendUint32(e.f.buf, 0) // size, set below
	e.f.buf = binary.BigEndian.AppendUint32(e.f.buf, uint32(correlationID))
	if e.flex {
		e.f.buf = append(e.f.buf, 0) // response header v1: no tags
	}
	e.cut = start
	e.body(resp, sources)
	e.closeBuf()
	if e.ext+int64(len(e.f.buf)-start) > math.MaxInt32+4 {
		return FetchFrame{}, fmt.Errorf("protocol: fetch response of %d bytes", e.ext+int64(len(e.f.buf)-start))
	}
	e.f.size = e.ext + int64(len(e.f.buf)-start)
	binary.BigEndian.PutUint32(e.f.buf[start:], uint32(e.f.size-4))
	for i := range e.f.segs {
		if s := &e.f.segs[i]; s.kind == segBuf {
			s.mem = e.f.buf[s.off:s.end:s.end]
		}
	}
	return e.f, nil
}

type fetchEncoder struct {
	f    FetchFrame
	v    int16
	flex bool
	cut  int   // start of the buffer bytes not yet in a segment
	ext  int64 // bytes in memory and file segments
}

// closeBuf ends the current run of buffer bytes as a segment.
func (e *fetchEncoder) closeBuf() {
	if len(e.f.buf) > e.cut {
		e.f.segs = append(e.f.segs, fetchSeg{kind: segBuf, off: e.cut, end: len(e.f.buf)})
	}
	e.cut = len(e.f.buf)
}

func (e *fetchEncoder) i16(v int16) { e.f.buf = binary.BigEndian.AppendUint16(e.f.buf, uint16(v)) }
func (e *fetchEncoder) i32(v int32) { e.f.buf = binary.BigEndian.AppendUint32(e.f.buf, uint32(v)) }
func (e *fetchEncoder) i64(v int64) { e.f.buf = binary.BigEndian.AppendUint64(e.f.buf, uint64(v)) }
func (e *fetchEncoder) uv(v uint32) { e.f.buf = binary.AppendUvarint(e.f.buf, uint64(v)) }

func (e *fetchEncoder) str(s string) {
	if e.flex {
		e.uv(uint32(len(s)) + 1)
	} else {
		e.i16(int16(len(s)))
	}
	e.f.buf = append(e.f.buf, s...)
}

func (e *fetchEncoder) nullableStr(s *string) {
	if s == nil {
		if e.flex {
			e.uv(0)
		} else {
			e.i16(-1)
		}
		return
	}
	e.str(*s)
}

func (e *fetchEncoder) arrayLen(n int) {
	if e.flex {
		e.uv(uint32(n) + 1)
	} else {
		e.i32(int32(n))
	}
}

// tags appends a struct's unknown tags with their count, for structs with
// no tagged fields of their own.
func (e *fetchEncoder) tags(t *kmsg.Tags) {
	e.uv(uint32(t.Len()))
	e.f.buf = t.AppendEach(e.f.buf)
}

// tagged appends one known tagged field: its key, its size, then what fn
// appends.
func (e *fetchEncoder) tagged(key uint32, fn func()) {
	e.uv(key)
	at := len(e.f.buf)
	fn()
	size := len(e.f.buf) - at
	var tmp [binary.MaxVarintLen32]byte
	n := binary.PutUvarint(tmp[:], uint64(size))
	e.f.buf = append(e.f.buf, tmp[:n]...)
	copy(e.f.buf[at+n:], e.f.buf[at:at+size])
	copy(e.f.buf[at:], tmp[:n])
}

func (e *fetchEncoder) body(resp *kmsg.FetchResponse, sources [][]RecordsSource) {
	v := e.v
	e.i32(resp.ThrottleMillis)
	if v >= 7 {
		e.i16(resp.ErrorCode)
		e.i32(resp.SessionID)
	}
	e.arrayLen(len(resp.Topics))
	k := 0
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		if v <= 12 {
			e.str(t.Topic)
		} else {
			e.f.buf = append(e.f.buf, t.TopicID[:]...)
		}
		e.arrayLen(len(t.Partitions))
		for pi := range t.Partitions {
			var src []RecordsSource
			if len(sources) != 0 {
				src = sources[k]
			}
			k++
			e.partition(&t.Partitions[pi], src)
		}
		if e.flex {
			e.tags(&t.UnknownTags)
		}
	}
	if e.flex {
		n := uint32(resp.UnknownTags.Len())
		if len(resp.Brokers) > 0 {
			n++
		}
		e.uv(n)
		if len(resp.Brokers) > 0 {
			e.tagged(0, func() {
				e.arrayLen(len(resp.Brokers))
				for i := range resp.Brokers {
					b := &resp.Brokers[i]
					e.i32(b.NodeID)
					e.str(b.Host)
					e.i32(b.Port)
					e.nullableStr(b.Rack)
					e.tags(&b.UnknownTags)
				}
			})
		}
		e.f.buf = resp.UnknownTags.AppendEach(e.f.buf)
	}
}

func (e *fetchEncoder) partition(p *kmsg.FetchResponseTopicPartition, src []RecordsSource) {
	v := e.v
	e.i32(p.Partition)
	e.i16(p.ErrorCode)
	e.i64(p.HighWatermark)
	e.i64(p.LastStableOffset)
	if v >= 5 {
		e.i64(p.LogStartOffset)
	}
	if p.AbortedTransactions == nil {
		if e.flex {
			e.uv(0)
		} else {
			e.i32(-1)
		}
	} else {
		e.arrayLen(len(p.AbortedTransactions))
		for i := range p.AbortedTransactions {
			a := &p.AbortedTransactions[i]
			e.i64(a.ProducerID)
			e.i64(a.FirstOffset)
			if e.flex {
				e.tags(&a.UnknownTags)
			}
		}
	}
	if v >= 11 {
		e.i32(p.PreferredReadReplica)
	}
	e.records(p.RecordBatches, src)
	if !e.flex {
		return
	}
	de, cl, sn := p.DivergingEpoch, p.CurrentLeader, p.SnapshotID
	hasDE := de.Epoch != -1 || de.EndOffset != -1 || de.UnknownTags.Len() > 0
	hasCL := cl.LeaderID != -1 || cl.LeaderEpoch != -1 || cl.UnknownTags.Len() > 0
	hasSN := sn.EndOffset != -1 || sn.Epoch != -1 || sn.UnknownTags.Len() > 0
	n := uint32(p.UnknownTags.Len())
	for _, has := range [...]bool{hasDE, hasCL, hasSN} {
		if has {
			n++
		}
	}
	e.uv(n)
	if hasDE {
		e.tagged(0, func() { e.i32(de.Epoch); e.i64(de.EndOffset); e.tags(&de.UnknownTags) })
	}
	if hasCL {
		e.tagged(1, func() { e.i32(cl.LeaderID); e.i32(cl.LeaderEpoch); e.tags(&cl.UnknownTags) })
	}
	if hasSN {
		e.tagged(2, func() { e.i64(sn.EndOffset); e.i32(sn.Epoch); e.tags(&sn.UnknownTags) })
	}
	e.f.buf = p.UnknownTags.AppendEach(e.f.buf)
}

// records appends the records field: inline when src is nil, else the
// length followed by segments for each piece.
func (e *fetchEncoder) records(inline []byte, src []RecordsSource) {
	if src == nil {
		switch {
		case inline == nil && e.flex:
			e.uv(0)
		case inline == nil:
			e.i32(-1)
		case e.flex:
			e.uv(uint32(len(inline)) + 1)
		default:
			e.i32(int32(len(inline)))
		}
		e.f.buf = append(e.f.buf, inline...)
		return
	}
	var total int64
	for i := range src {
		total += src[i].size()
	}
	if e.flex {
		e.uv(uint32(total + 1))
	} else {
		e.i32(int32(total))
	}
	e.closeBuf()
	for i := range src {
		s := &src[i]
		switch {
		case s.Bytes != nil:
			if len(s.Bytes) > 0 {
				e.f.segs = append(e.f.segs, fetchSeg{kind: segMem, mem: s.Bytes})
			}
		case s.Len > 0:
			if last := len(e.f.segs) - 1; last >= 0 && e.f.segs[last].kind == segFile &&
				e.f.segs[last].fd == s.FD && e.f.segs[last].pos+e.f.segs[last].n == s.Pos {
				e.f.segs[last].n += s.Len // contiguous: one sendfile
			} else {
				e.f.segs = append(e.f.segs, fetchSeg{kind: segFile, fd: s.FD, pos: s.Pos, n: s.Len})
			}
		}
	}
	e.ext += total
}

// WriteTo writes the frame to w. On a *net.TCPConn it writes memory
// segments with writev and file ranges with sendfile(2) at explicit
// offsets (Linux); elsewhere, such as on a TLS connection, it reads file
// ranges with pread into a buffer and writes them. Either way the files'
// shared positions are never used or moved.
func (f *FetchFrame) WriteTo(w io.Writer) (int64, error) {
	if c, ok := w.(*net.TCPConn); ok && sendfileSupported {
		return f.writeTCP(c)
	}
	return f.writeCopy(w)
}

func (f *FetchFrame) writeTCP(c *net.TCPConn) (int64, error) {
	var total int64
	for i := 0; i < len(f.segs); {
		if f.segs[i].kind == segFile {
			s := &f.segs[i]
			n, err := sendfile(c, s.fd, s.pos, s.n)
			total += n
			if err != nil {
				return total, err
			}
			i++
			continue
		}
		j := i
		for j < len(f.segs) && f.segs[j].kind != segFile {
			j++
		}
		vec := make(net.Buffers, 0, j-i)
		for _, s := range f.segs[i:j] {
			vec = append(vec, s.mem)
		}
		n, err := vec.WriteTo(c)
		total += n
		if err != nil {
			return total, err
		}
		i = j
	}
	return total, nil
}

// copyChunk is the read size for file ranges written without sendfile.
const copyChunk = 64 << 10

func (f *FetchFrame) writeCopy(w io.Writer) (int64, error) {
	var total int64
	var chunk []byte
	for i := range f.segs {
		s := &f.segs[i]
		if s.kind != segFile {
			n, err := w.Write(s.mem)
			total += int64(n)
			if err != nil {
				return total, err
			}
			continue
		}
		if chunk == nil {
			chunk = make([]byte, min(copyChunk, s.n))
		}
		for done := int64(0); done < s.n; {
			p := chunk[:min(int64(len(chunk)), s.n-done)]
			if err := preadFull(s.fd, p, s.pos+done); err != nil {
				return total, err
			}
			n, err := w.Write(p)
			total += int64(n)
			done += int64(n)
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// AppendTo appends the whole frame to dst, reading file ranges with pread.
// It is for tests and for callers that need the bytes in memory.
func (f *FetchFrame) AppendTo(dst []byte) ([]byte, error) {
	for i := range f.segs {
		s := &f.segs[i]
		if s.kind != segFile {
			dst = append(dst, s.mem...)
			continue
		}
		at := len(dst)
		dst = append(dst, make([]byte, s.n)...)
		if err := preadFull(s.fd, dst[at:], s.pos); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// WriteFetchResponse encodes resp (see EncodeFetchResponse) and writes it
// to conn with writev and sendfile. An error after part of the frame went
// out leaves the connection unusable; the caller closes it.
func WriteFetchResponse(conn *net.TCPConn, correlationID int32, version int16, resp *kmsg.FetchResponse, sources [][]RecordsSource) error {
	f, err := EncodeFetchResponse(nil, correlationID, version, resp, sources)
	if err != nil {
		return err
	}
	_, err = f.WriteTo(conn)
	return err
}
