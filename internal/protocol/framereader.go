package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
	"sync/atomic"
)

// Frame buffer sizes. A connection keeps one buffer of up to KeptFrameBytes
// between requests; a larger frame gets a buffer from the broker's
// BufferPool (or a new one), grown as its bytes arrive starting from
// firstChunk, and gives it back after the request.
const (
	KeptFrameBytes = 64 << 10
	firstChunk     = 256 << 10
)

// FrameReader reads request frames from one connection, bounding the
// memory they take: the size is checked against MaxSize before anything is
// allocated, a frame larger than KeptFrameBytes first takes its size from
// the broker-wide Budget (waiting while the budget is exhausted, as Kafka
// mutes a channel when its memory pool is empty), and its buffer grows as
// bytes arrive, so a client that announces a large frame and sends little
// holds little memory. A FrameReader is used by one goroutine.
type FrameReader struct {
	R       io.Reader
	MaxSize int32
	Pool    *BufferPool // nil: large buffers are allocated and dropped
	Budget  *Budget     // nil: unbounded
	// BeforeBody, if set, runs once a frame's size is read and its budget
	// acquired, before its body is read (the connection sets its read
	// deadline for the body there).
	BeforeBody func(size int32)

	hdr   [4]byte
	kept  []byte // the small buffer kept between frames, grown on demand
	large []byte // the current frame's pooled buffer, if any
	held  int64  // budget held by the current frame
}

// Next reads the next frame, releasing the previous one first. The frame
// is valid until Release or the next call. ctx bounds the wait for budget.
// A connection closed cleanly between frames returns io.EOF, one closed
// within a frame io.ErrUnexpectedEOF.
func (fr *FrameReader) Next(ctx context.Context) ([]byte, error) {
	fr.Release()
	n, err := readSize(fr.R, fr.hdr[:], fr.MaxSize)
	if err != nil {
		return nil, err
	}
	if n > KeptFrameBytes && fr.Budget != nil {
		if err := fr.Budget.Acquire(ctx, int64(n)); err != nil {
			return nil, err
		}
		fr.held = int64(n)
	}
	if fr.BeforeBody != nil {
		fr.BeforeBody(n)
	}
	if n <= KeptFrameBytes {
		if cap(fr.kept) < int(n) {
			fr.kept = make([]byte, 0, keptCap(int(n)))
		}
		return readFull(fr.R, fr.kept[:n])
	}
	buf, err := readGrowing(fr.R, int(n), fr.Pool.get(int(n)), fr.Pool)
	fr.large = buf
	return buf, err
}

// keptCap is the capacity of a connection's kept buffer for an n-byte
// frame: the next power of two from 1 KiB up to KeptFrameBytes, so an idle
// connection that sent only small requests keeps little (1,000 idle
// connections would otherwise hold 64 MiB).
func keptCap(n int) int {
	c := 1 << 10
	for c < n {
		c <<= 1
	}
	return min(c, KeptFrameBytes)
}

// Release gives the current frame's large buffer back to the pool and its
// bytes back to the budget. The frame must not be used afterwards.
func (fr *FrameReader) Release() {
	if fr.large != nil {
		fr.Pool.put(fr.large)
		fr.large = nil
	}
	if fr.held > 0 {
		fr.Budget.Release(fr.held)
		fr.held = 0
	}
}

// readSize reads a 4-byte frame size into hdr and checks it.
func readSize(r io.Reader, hdr []byte, maxSize int32) (int32, error) {
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, err
	}
	n := int32(binary.BigEndian.Uint32(hdr))
	if n < 0 {
		return 0, ErrNegativeSize
	}
	if n > maxSize {
		return 0, fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, n, maxSize)
	}
	return n, nil
}

func readFull(r io.Reader, buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// readGrowing reads an n-byte body into buf (any capacity, may be nil),
// growing it as bytes arrive: at most twice the bytes received (and at
// least firstChunk) are ever allocated. Outgrown buffers are left to the
// GC: the pool keeps whole-frame buffers, which serve the next frame of a
// similar size without growing.
func readGrowing(r io.Reader, n int, buf []byte, pool *BufferPool) ([]byte, error) {
	if cap(buf) < min(n, firstChunk) {
		pool.put(buf)
		buf = pool.alloc(min(n, firstChunk))
	}
	got := 0
	for got < n {
		if got == cap(buf) {
			bigger := pool.alloc(min(2*cap(buf), n))
			copy(bigger, buf[:got])
			pool.drop(buf)
			buf = bigger
		}
		m, err := r.Read(buf[got:min(cap(buf), n)])
		got += m
		if err != nil && got < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			pool.put(buf)
			return nil, err
		}
	}
	return buf[:n], nil
}

// BufferPool keeps large frame buffers (capacities that are powers of two
// above KeptFrameBytes) for reuse across connections, at most Limit bytes
// in all, so a busy producer does not allocate and zero a multi-megabyte
// buffer per request while idle connections hold none. A nil *BufferPool
// keeps nothing. Safe for concurrent use.
type BufferPool struct {
	limit   int64
	dropped atomic.Int64

	mu      sync.Mutex
	total   int64
	buckets [33][][]byte // by log2 of capacity
}

// NewBufferPool returns a pool keeping at most limit bytes.
func NewBufferPool(limit int64) *BufferPool { return &BufferPool{limit: limit} }

// bucket is the log2 of the power of two ≥ n.
func bucket(n int) int { return bits.Len(uint(n - 1)) }

// get returns a pooled buffer with capacity at least n (and less than
// four times n), or nil.
func (p *BufferPool) get(n int) []byte {
	if p == nil || n <= KeptFrameBytes {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := bucket(n); k <= bucket(n)+1 && k < len(p.buckets); k++ {
		s := p.buckets[k]
		if len(s) == 0 {
			continue
		}
		buf := s[len(s)-1]
		s[len(s)-1] = nil
		p.buckets[k] = s[:len(s)-1]
		p.total -= int64(cap(buf))
		return buf[:cap(buf)]
	}
	return nil
}

// alloc returns a buffer of length and capacity at least n: pooled, or new
// with a power-of-two capacity so that it can be pooled later.
func (p *BufferPool) alloc(n int) []byte {
	if buf := p.get(n); buf != nil {
		return buf
	}
	c := n
	if n > KeptFrameBytes && bucket(n) < 31 {
		c = 1 << bucket(n)
	}
	return make([]byte, c)
}

// put keeps buf for reuse if it is a pooled size and the pool has room.
func (p *BufferPool) put(buf []byte) {
	c := cap(buf)
	if p == nil || c <= KeptFrameBytes || c&(c-1) != 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total+int64(c) > p.limit {
		p.dropped.Add(int64(c))
		return
	}
	k := bucket(c)
	p.buckets[k] = append(p.buckets[k], buf[:0])
	p.total += int64(c)
}

// drop counts buf, outgrown or not kept, as left to the GC.
func (p *BufferPool) drop(buf []byte) {
	if p != nil {
		p.dropped.Add(int64(cap(buf)))
	}
}

// Dropped is the number of bytes of large buffers left to the GC so far
// (outgrown while a frame arrived, or not kept because the pool was full).
func (p *BufferPool) Dropped() int64 {
	if p == nil {
		return 0
	}
	return p.dropped.Load()
}

// Pooled is the number of bytes the pool holds.
func (p *BufferPool) Pooled() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Budget is a broker-wide byte semaphore for request bodies (Kafka's
// queued.max.request.bytes memory pool). Waiters are served in arrival
// order, so a large request is not starved by small ones. A request larger
// than the whole budget takes all of it. Safe for concurrent use.
type Budget struct {
	size int64

	mu      sync.Mutex
	used    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

var errBudgetSize = errors.New("protocol: budget size must be positive")

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) (*Budget, error) {
	if size <= 0 {
		return nil, errBudgetSize
	}
	return &Budget{size: size}, nil
}

// Acquire takes n bytes (at most the budget's size), waiting until they
// are free or ctx ends.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	n = min(n, b.size)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.used -= n
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
		}
		b.grantLocked()
		b.mu.Unlock()
		return ctx.Err()
	}
}

// Release returns n bytes taken by Acquire (the same n).
func (b *Budget) Release(n int64) {
	n = min(n, b.size)
	b.mu.Lock()
	b.used -= n
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked wakes waiters in order while their bytes fit.
func (b *Budget) grantLocked() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

// Used is the number of bytes currently acquired.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
