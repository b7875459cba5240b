package batch

// Compression of a batch's records section.
//
// Each codec writes what Kafka's Java client writes and reads everything the
// common clients send:
//
//   - gzip: RFC 1952, concatenated members accepted (as GZIPInputStream does).
//   - snappy: the Java client frames with snappy-java's SnappyOutputStream
//     ("xerial" framing: a 16-byte header, then blocks of at most 32 KiB each
//     behind a big-endian int32 length); librdkafka sends one raw snappy block.
//     Decompress accepts both, as the Java consumer and librdkafka do; Compress
//     writes xerial framing, which every client reads.
//   - lz4: the LZ4 frame format (magic v2 batches never use Kafka's old broken
//     header checksum). Compress writes 64 KiB independent blocks, as Kafka's
//     KafkaLZ4BlockOutputStream does, so the Java consumer can read them.
//   - zstd: one or more zstd frames.
//
// Encoders and decoders are pooled per codec and level; a call allocates only
// its output.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Errors returned by Decompress and Compress.
var (
	// ErrTooLarge reports records that decompress to more than the limit.
	ErrTooLarge = errors.New("batch: decompressed records exceed the size limit")
	// ErrDecompress reports compressed records that do not decode.
	ErrDecompress = errors.New("batch: records do not decompress")
	// ErrLevel reports a compression level the codec does not have.
	ErrLevel = errors.New("batch: invalid compression level")
)

// xerial framing, as snappy-java's SnappyOutputStream writes it.
const (
	xerialHeaderSize = 16
	xerialBlockSize  = 32 << 10
)

// xerialMagic is the first 8 bytes of the xerial header; version 1 and
// minimum compatible version 1 follow as big-endian int32s.
func isXerial(src []byte) bool {
	return len(src) >= xerialHeaderSize &&
		src[0] == 0x82 && string(src[1:8]) == "SNAPPY\x00"
}

func appendXerialHeader(dst []byte) []byte {
	dst = append(dst, 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	return binary.BigEndian.AppendUint32(dst, 1)
}

// Pools. They hold only reusable codec state, never configuration, so they
// are process-wide like the stdlib's own buffer pools.
var (
	gzipReaders sync.Pool // *gzipReader
	lz4Readers  sync.Pool // *lz4Reader
	zstdReaders sync.Pool // *zstdReader

	gzipWriters [gzipLevels]sync.Pool // *gzip.Writer, by level-gzipMinLevel
	lz4Writers  [lz4Levels]sync.Pool  // *lz4.Writer, by lz4Level index
	zstdWriters [zstdLevels]sync.Pool // *zstdWriter, by zstd.EncoderLevel
)

const (
	gzipMinLevel = gzip.DefaultCompression // -1
	gzipLevels   = gzip.BestCompression - gzipMinLevel + 1
	lz4Levels    = 10 // Fast, Level1..Level9
	zstdLevels   = int(zstd.SpeedBestCompression) + 1

	// zstdMaxWindow bounds the window a frame may declare: 128 MiB is
	// zstd's own default limit (windowLogMax 27), which covers every level
	// the Java client can be configured with.
	zstdMaxWindow = 1 << 27
)

type gzipReader struct {
	src bytes.Reader
	r   gzip.Reader
}

type lz4Reader struct {
	src bytes.Reader
	r   *lz4.Reader
}

type zstdReader struct {
	src bytes.Reader
	d   *zstd.Decoder
}

type zstdWriter struct{ e *zstd.Encoder }

// Decompress decodes src, the records section of a batch compressed with
// codec, refusing to produce more than maxSize bytes (ErrTooLarge). The
// output is newly allocated, except for CodecNone, which returns src itself
// when it fits.
func Decompress(codec Codec, src []byte, maxSize int) ([]byte, error) {
	if maxSize < 0 {
		maxSize = 0
	}
	switch codec {
	case CodecNone:
		if len(src) > maxSize {
			return nil, ErrTooLarge
		}
		return src, nil
	case CodecGzip:
		return decompressGzip(src, maxSize)
	case CodecSnappy:
		return decompressSnappy(src, maxSize)
	case CodecLZ4:
		return decompressLZ4(src, maxSize)
	case CodecZstd:
		return decompressZstd(src, maxSize)
	}
	return nil, ErrCodec
}

func decompressErr(codec Codec, err error) error {
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrDecompress, codec, err)
}

func decompressGzip(src []byte, maxSize int) ([]byte, error) {
	gr, _ := gzipReaders.Get().(*gzipReader)
	if gr == nil {
		gr = new(gzipReader)
	}
	defer gzipReaders.Put(gr)
	gr.src.Reset(src)
	if err := gr.r.Reset(&gr.src); err != nil {
		return nil, decompressErr(CodecGzip, err)
	}
	out, err := readBounded(&gr.r, len(src), maxSize)
	if err != nil {
		return nil, decompressErr(CodecGzip, err)
	}
	return out, nil
}

func decompressLZ4(src []byte, maxSize int) ([]byte, error) {
	lr, _ := lz4Readers.Get().(*lz4Reader)
	if lr == nil {
		lr = &lz4Reader{r: lz4.NewReader(nil)}
	}
	defer lz4Readers.Put(lr)
	lr.src.Reset(src)
	lr.r.Reset(&lr.src)
	out, err := readBounded(lr.r, len(src), maxSize)
	if err != nil {
		return nil, decompressErr(CodecLZ4, err)
	}
	return out, nil
}

func decompressZstd(src []byte, maxSize int) ([]byte, error) {
	zr, _ := zstdReaders.Get().(*zstdReader)
	if zr == nil {
		// Concurrency 1 decodes streams synchronously: no goroutines.
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, decompressErr(CodecZstd, err)
		}
		zr = &zstdReader{d: d}
		runtime.AddCleanup(zr, func(d *zstd.Decoder) { d.Close() }, d)
	}
	defer zstdReaders.Put(zr)
	zr.src.Reset(src)
	// Streaming, rather than DecodeAll, bounds the output as it is
	// produced whatever the frames claim. bytes.Reader has no Bytes method,
	// so the decoder does not take its in-memory shortcut.
	if err := zr.d.Reset(&zr.src); err != nil {
		return nil, decompressErr(CodecZstd, err)
	}
	out, err := readBounded(zr.d, len(src), maxSize)
	zr.d.Reset(nil) // drop the reference to src before pooling
	if err != nil {
		return nil, decompressErr(CodecZstd, err)
	}
	return out, nil
}

// readBounded reads r to EOF into a new slice, failing with ErrTooLarge
// once more than maxSize bytes come out. The slice grows geometrically from
// a guess based on the compressed size, so a small limit never costs a large
// allocation and a large limit is not allocated up front.
func readBounded(r io.Reader, srcLen, maxSize int) ([]byte, error) {
	guess := min(max(4*srcLen, 512), maxSize+1)
	buf := make([]byte, 0, guess)
	for {
		if len(buf) == cap(buf) {
			if len(buf) > maxSize {
				return nil, ErrTooLarge
			}
			next := min(max(2*cap(buf), 512), maxSize+1)
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if len(buf) > maxSize {
				return nil, ErrTooLarge
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if n == 0 && len(buf) < cap(buf) {
			// A reader that returns (0, nil) repeatedly would spin; the
			// codecs here never do, but be safe.
			continue
		}
	}
}

func decompressSnappy(src []byte, maxSize int) ([]byte, error) {
	if isXerial(src) {
		return decompressXerial(src[xerialHeaderSize:], maxSize)
	}
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, decompressErr(CodecSnappy, err)
	}
	if n > maxSize {
		return nil, ErrTooLarge
	}
	out, err := s2.Decode(make([]byte, n), src)
	if err != nil {
		return nil, decompressErr(CodecSnappy, err)
	}
	return out, nil
}

var errXerial = errors.New("malformed xerial framing")

// decompressXerial decodes the blocks following a xerial header. It first
// walks the block lengths, summing the decoded sizes the blocks claim, so the
// output is allocated once and checked against maxSize before any decoding.
func decompressXerial(src []byte, maxSize int) ([]byte, error) {
	total := 0
	for rem := src; len(rem) > 0; {
		if len(rem) < 4 {
			return nil, decompressErr(CodecSnappy, errXerial)
		}
		size := binary.BigEndian.Uint32(rem)
		rem = rem[4:]
		if uint64(size) > uint64(len(rem)) {
			return nil, decompressErr(CodecSnappy, errXerial)
		}
		n, err := s2.DecodedLen(rem[:size])
		if err != nil {
			return nil, decompressErr(CodecSnappy, err)
		}
		if n > maxSize-total {
			return nil, ErrTooLarge
		}
		total += n
		rem = rem[size:]
	}
	out := make([]byte, total)
	at := 0
	for rem := src; len(rem) > 0; {
		size := binary.BigEndian.Uint32(rem)
		block := rem[4 : 4+size]
		rem = rem[4+size:]
		n, _ := s2.DecodedLen(block)
		got, err := s2.Decode(out[at:at+n], block)
		if err != nil {
			return nil, decompressErr(CodecSnappy, err)
		}
		if len(got) != n {
			return nil, decompressErr(CodecSnappy, errXerial)
		}
		at += n
	}
	return out, nil
}

// Compress appends src compressed with codec to dst. An optional level
// selects the codec's level using Kafka's compression.<codec>.level values:
//
//   - gzip: -1 (default, 6) or 1..9.
//   - lz4: 1..17; 9, the default, means LZ4's fast compressor as it does in
//     Kafka, 1..8 the high-compression levels, and 10..17 the highest one
//     this implementation has.
//   - zstd: any zstd level; below 3 is fastest, 3..5 default (3 when
//     unset), 6..9 better, 10 and up best.
//   - snappy and none: no levels; a level is ignored.
func Compress(codec Codec, dst, src []byte, level ...int) ([]byte, error) {
	lvl, hasLevel := 0, len(level) > 0
	if hasLevel {
		lvl = level[0]
	}
	switch codec {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		if !hasLevel {
			lvl = gzip.DefaultCompression
		}
		return compressGzip(dst, src, lvl)
	case CodecSnappy:
		return compressXerial(dst, src), nil
	case CodecLZ4:
		if !hasLevel {
			lvl = 9
		}
		return compressLZ4(dst, src, lvl)
	case CodecZstd:
		if !hasLevel {
			lvl = 3
		}
		return compressZstd(dst, src, zstd.EncoderLevelFromZstd(lvl))
	}
	return nil, ErrCodec
}

// appendWriter is an io.Writer appending to a slice, so that stream
// encoders write straight into the caller's dst.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func compressGzip(dst, src []byte, level int) ([]byte, error) {
	if level < gzipMinLevel || level > gzip.BestCompression || level == 0 {
		return nil, fmt.Errorf("%w: gzip %d", ErrLevel, level)
	}
	pool := &gzipWriters[level-gzipMinLevel]
	w, _ := pool.Get().(*gzip.Writer)
	if w == nil {
		var err error
		if w, err = gzip.NewWriterLevel(nil, level); err != nil {
			return nil, fmt.Errorf("%w: gzip %d", ErrLevel, level)
		}
	}
	aw := appendWriter{b: dst}
	w.Reset(&aw)
	_, err := w.Write(src)
	if err == nil {
		err = w.Close()
	}
	w.Reset(nil)
	pool.Put(w)
	if err != nil {
		return nil, err
	}
	return aw.b, nil
}

// lz4Level maps a Kafka lz4 level to a pool index and pierrec's level.
func lz4Level(level int) (int, lz4.CompressionLevel, error) {
	switch {
	case level == 9:
		return 0, lz4.Fast, nil
	case level >= 1 && level <= 8:
		return level, lz4.Level1 << (level - 1), nil
	case level >= 10 && level <= 17:
		return 9, lz4.Level9, nil
	}
	return 0, 0, fmt.Errorf("%w: lz4 %d", ErrLevel, level)
}

func compressLZ4(dst, src []byte, level int) ([]byte, error) {
	idx, lvl, err := lz4Level(level)
	if err != nil {
		return nil, err
	}
	pool := &lz4Writers[idx]
	w, _ := pool.Get().(*lz4.Writer)
	if w == nil {
		w = lz4.NewWriter(nil)
		if err := w.Apply(
			lz4.BlockSizeOption(lz4.Block64Kb),
			lz4.CompressionLevelOption(lvl),
		); err != nil {
			return nil, err
		}
	}
	aw := appendWriter{b: dst}
	w.Reset(&aw)
	_, err = w.Write(src)
	if err == nil {
		err = w.Close()
	}
	w.Reset(nil)
	pool.Put(w)
	if err != nil {
		return nil, err
	}
	return aw.b, nil
}

func compressZstd(dst, src []byte, level zstd.EncoderLevel) ([]byte, error) {
	pool := &zstdWriters[level]
	zw, _ := pool.Get().(*zstdWriter)
	if zw == nil {
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(level),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20),
			zstd.WithZeroFrames(true))
		if err != nil {
			return nil, err
		}
		zw = &zstdWriter{e: e}
		runtime.AddCleanup(zw, func(e *zstd.Encoder) { e.Close() }, e)
	}
	out := zw.e.EncodeAll(src, dst)
	pool.Put(zw)
	return out, nil
}

// compressXerial frames src as snappy-java's SnappyOutputStream does. Empty
// input becomes an empty raw snappy block instead: a bare xerial header is
// read as raw snappy, and rejected, by readers that want at least one block
// after the header (franz-go). Kafka never compresses an empty batch.
func compressXerial(dst, src []byte) []byte {
	if len(src) == 0 {
		return append(dst, 0)
	}
	dst = appendXerialHeader(dst)
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		need := 4 + s2.MaxEncodedLen(n)
		if cap(dst)-len(dst) < need {
			grown := make([]byte, len(dst), 2*cap(dst)+need)
			copy(grown, dst)
			dst = grown
		}
		at := len(dst)
		block := s2.EncodeSnappy(dst[at+4:at+need], src[:n])
		binary.BigEndian.PutUint32(dst[at:at+4], uint32(len(block)))
		dst = dst[:at+4+len(block)]
		src = src[n:]
	}
	return dst
}
