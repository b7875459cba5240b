package protocol

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

func frameBytes(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// totalAlloc is the bytes allocated so far by the whole test binary.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestFrameReaderGrowsAsBytesArrive announces a 64 MiB frame, sends 1 MiB
// of it and checks what was allocated: the live buffer is at most twice
// the bytes received, so with the buffers it outgrew at most four times
// (plus the first chunk). Then the rest arrives and the frame is whole.
func TestFrameReaderGrowsAsBytesArrive(t *testing.T) {
	const announced, sent = 64 << 20, 1 << 20
	pr, pw := io.Pipe()
	fr := &FrameReader{R: pr, MaxSize: 100 << 20}
	type result struct {
		frame []byte
		err   error
	}
	done := make(chan result, 1)
	body := bytes.Repeat([]byte{0xab}, announced)
	before := totalAlloc()
	go func() {
		f, err := fr.Next(context.Background())
		done <- result{f, err}
	}()
	pw.Write(binary.BigEndian.AppendUint32(nil, announced))
	pw.Write(body[:sent]) // returns once the reader has taken every byte
	if got := totalAlloc() - before; got > 4*sent+firstChunk+64<<10 {
		t.Fatalf("%d bytes allocated for %d received of a %d-byte frame", got, sent, announced)
	}
	pw.Write(body[sent:])
	r := <-done
	if r.err != nil || !bytes.Equal(r.frame, body) {
		t.Fatalf("frame: %d bytes, err %v", len(r.frame), r.err)
	}

	// A frame cut short fails, and frees what it took.
	go func() {
		_, err := fr.Next(context.Background())
		done <- result{nil, err}
	}()
	pw.Write(binary.BigEndian.AppendUint32(nil, announced))
	pw.Write(body[:10])
	pw.Close()
	if r := <-done; r.err != io.ErrUnexpectedEOF {
		t.Fatalf("cut frame: %v", r.err)
	}
}

// TestFrameReaderRefusesOversizeBeforeAllocating checks sizes past MaxSize
// and negative sizes fail without allocating (or taking budget) for them.
func TestFrameReaderRefusesOversizeBeforeAllocating(t *testing.T) {
	budget, _ := NewBudget(1 << 20)
	for _, c := range []struct {
		size int32
		want error
	}{{1 << 30, ErrFrameTooLarge}, {-5, ErrNegativeSize}} {
		fr := &FrameReader{R: bytes.NewReader(binary.BigEndian.AppendUint32(nil, uint32(c.size))), MaxSize: 100 << 20, Budget: budget}
		fr.kept = make([]byte, 0, KeptFrameBytes)
		before := totalAlloc()
		if _, err := fr.Next(context.Background()); !errors.Is(err, c.want) {
			t.Fatalf("size %d: %v", c.size, err)
		}
		if n := totalAlloc() - before; n > 4096 {
			t.Fatalf("size %d: allocated %d bytes", c.size, n)
		}
		if budget.Used() != 0 {
			t.Fatalf("size %d: budget %d taken", c.size, budget.Used())
		}
	}
}

// TestFrameReaderBudget checks that a large frame waits while the budget
// is taken, proceeds once it is released, that giving up (ctx) leaks
// nothing, and that small frames do not use the budget.
func TestFrameReaderBudget(t *testing.T) {
	budget, _ := NewBudget(1 << 20)
	body := bytes.Repeat([]byte{1}, 768<<10)
	stream := func() io.Reader { return bytes.NewReader(append(frameBytes(body), frameBytes([]byte("small"))...)) }
	a := &FrameReader{R: stream(), MaxSize: 2 << 20, Budget: budget}
	b := &FrameReader{R: stream(), MaxSize: 2 << 20, Budget: budget}
	if _, err := a.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if budget.Used() != int64(len(body)) {
		t.Fatalf("budget used %d, want %d", budget.Used(), len(body))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second large frame while the budget is taken: %v", err)
	}
	if budget.Used() != int64(len(body)) {
		t.Fatalf("budget used %d after a cancelled wait", budget.Used())
	}
	got := make(chan error, 1)
	c := &FrameReader{R: stream(), MaxSize: 2 << 20, Budget: budget}
	go func() {
		f, err := c.Next(context.Background())
		if err == nil && !bytes.Equal(f, body) {
			err = errors.New("wrong frame")
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("frame read while the budget was taken: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if f, err := a.Next(context.Background()); err != nil || string(f) != "small" { // releases a's large frame
		t.Fatalf("small frame: %q, %v", f, err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	c.Release()
	a.Release()
	if budget.Used() != 0 {
		t.Fatalf("budget used %d after every release", budget.Used())
	}
}

// TestFrameReaderPoolsLargeBuffers checks that a large frame's buffer goes
// back to the pool on Release and serves the next large frame of any
// connection, and that the pool keeps no more than its limit.
func TestFrameReaderPoolsLargeBuffers(t *testing.T) {
	pool := NewBufferPool(4 << 20)
	body := bytes.Repeat([]byte{2}, 3<<20)
	a := &FrameReader{R: bytes.NewReader(frameBytes(body)), MaxSize: 8 << 20, Pool: pool}
	f1, err := a.Next(context.Background())
	if err != nil || !bytes.Equal(f1, body) {
		t.Fatalf("first frame: %v", err)
	}
	a.Release()
	if pool.Pooled() != 4<<20 {
		t.Fatalf("pooled %d bytes, want one 4 MiB buffer", pool.Pooled())
	}
	b := &FrameReader{R: bytes.NewReader(frameBytes(body)), MaxSize: 8 << 20, Pool: pool}
	f2, err := b.Next(context.Background())
	if err != nil || !bytes.Equal(f2, body) || &f2[0] != &f1[0] {
		t.Fatalf("second frame: err %v, reused %v", err, err == nil && &f2[0] == &f1[0])
	}
	if pool.Pooled() != 0 {
		t.Fatalf("pooled %d bytes while the buffer is in use", pool.Pooled())
	}
	pool.put(make([]byte, 4<<20))
	b.Release() // over the limit: dropped
	if pool.Pooled() != 4<<20 {
		t.Fatalf("pooled %d bytes, limit 4 MiB", pool.Pooled())
	}
	// A smaller frame (2 MiB bucket) takes the pooled 4 MiB buffer.
	small := bytes.Repeat([]byte{4}, 1536<<10)
	c := &FrameReader{R: bytes.NewReader(frameBytes(small)), MaxSize: 8 << 20, Pool: pool}
	if f, err := c.Next(context.Background()); err != nil || !bytes.Equal(f, small) || cap(f) != 4<<20 {
		t.Fatalf("1.5 MiB frame: err %v, buffer of %d bytes, want the pooled 4 MiB one", err, cap(f))
	}
}

// TestBudgetOrderAndClamp checks that a request larger than the budget
// takes all of it and that waiters are served in arrival order: a small
// one that would fit waits behind a large one that does not.
func TestBudgetOrderAndClamp(t *testing.T) {
	b, _ := NewBudget(100)
	ctx := context.Background()
	if err := b.Acquire(ctx, 1000); err != nil || b.Used() != 100 {
		t.Fatalf("oversize acquire: %v, used %d", err, b.Used())
	}
	done := make(chan struct{}, 2)
	go func() { b.Acquire(ctx, 80); done <- struct{}{} }()
	for b.waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	go func() { b.Acquire(ctx, 10); done <- struct{}{} }()
	for b.waiting() != 2 {
		time.Sleep(time.Millisecond)
	}
	b.Release(15) // 85 used: the 10 would fit, but the 80 is first
	time.Sleep(20 * time.Millisecond)
	if n := b.waiting(); n != 2 || b.Used() != 85 {
		t.Fatalf("after a partial release: %d waiting, %d used", n, b.Used())
	}
	b.Release(85)
	<-done
	<-done
	if b.Used() != 90 {
		t.Fatalf("used %d, want 90", b.Used())
	}
}

func (b *Budget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

// BenchmarkFrameRead reads 3 MiB frames (a producer's multi-partition
// request) one after another: "kept" is the old per-connection reuse of
// one buffer (ReadFrame with the previous frame's buffer), "pooled" the
// FrameReader with the budget and the shared pool, as the broker runs it.
func BenchmarkFrameRead(b *testing.B) {
	body := bytes.Repeat([]byte{3}, 3<<20)
	frame := frameBytes(body)
	r := bytes.NewReader(frame)
	b.Run("kept", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		var buf []byte
		for range b.N {
			r.Reset(frame)
			f, err := ReadFrame(r, 100<<20, buf)
			if err != nil {
				b.Fatal(err)
			}
			buf = f[:0]
		}
	})
	b.Run("pooled", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		budget, _ := NewBudget(512 << 20)
		fr := &FrameReader{R: r, MaxSize: 100 << 20, Pool: NewBufferPool(64 << 20), Budget: budget}
		for range b.N {
			r.Reset(frame)
			if _, err := fr.Next(context.Background()); err != nil {
				b.Fatal(err)
			}
			fr.Release()
		}
	})
}

// A connection keeps a buffer only as large as its frames need (from 1 KiB
// up to KeptFrameBytes), so idle connections that sent small requests hold
// little.
func TestFrameReaderKeptBufferFitsFrames(t *testing.T) {
	var in bytes.Buffer
	in.Write(frameBytes(make([]byte, 100)))
	in.Write(frameBytes(make([]byte, 3000)))
	in.Write(frameBytes(make([]byte, 200)))
	fr := FrameReader{R: &in, MaxSize: 1 << 20}
	if cap(fr.kept) != 0 {
		t.Fatalf("a new reader keeps %d bytes", cap(fr.kept))
	}
	for i, want := range []int{1 << 10, 4 << 10, 4 << 10} {
		if _, err := fr.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		if cap(fr.kept) != want {
			t.Errorf("after frame %d: kept %d bytes, want %d", i, cap(fr.kept), want)
		}
	}
	if got := keptCap(KeptFrameBytes); got != KeptFrameBytes {
		t.Errorf("keptCap(%d) = %d", KeptFrameBytes, got)
	}
}
