package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// limits are the two machine ceilings measured next to a round of runs, in
// MB/s (10^6 bytes per second).
type limits struct {
	appendMBps   float64 // buffered 1 MiB appends to a new file, no fsync
	loopbackMBps float64 // sendfile of a cached file over loopback TCP
}

// measureLimits measures both limits in dir (the filesystem of the brokers'
// data directories). The sendfile source file is kept in dir between calls so
// it stays cached; the append file is removed and the dirty data synced out
// (untimed) so it does not write back during the next broker run.
func measureLimits(ctx context.Context, dir string, size int64) (limits, error) {
	var l limits
	var err error
	if l.appendMBps, err = pageCacheAppend(dir, size); err != nil {
		return l, fmt.Errorf("page-cache append: %w", err)
	}
	src := filepath.Join(dir, "limits-sendfile.dat")
	if err := ensureFile(src, size); err != nil {
		return l, fmt.Errorf("sendfile source: %w", err)
	}
	if l.loopbackMBps, err = sendfileLoopback(ctx, src, size); err != nil {
		return l, fmt.Errorf("file to loopback: %w", err)
	}
	return l, nil
}

// pageCacheAppend writes size bytes in 1 MiB appends to a new file in dir
// without fsync and returns MB/s.
func pageCacheAppend(dir string, size int64) (float64, error) {
	path := filepath.Join(dir, "limits-append.dat")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	// Start from no dirty data, so earlier writes do not throttle this one.
	syscall.Sync()
	start := time.Now()
	var n int64
	for n < size {
		chunk := buf
		if rem := size - n; rem < int64(len(chunk)) {
			chunk = chunk[:rem]
		}
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			f.Close()
			os.Remove(path)
			return 0, err
		}
	}
	el := time.Since(start)
	err = errors.Join(f.Close(), os.Remove(path))
	syscall.Sync()
	if err != nil {
		return 0, err
	}
	return float64(n) / el.Seconds() / 1e6, nil
}

// ensureFile makes path a file of exactly size bytes and reads it once so it
// is in the page cache.
func ensureFile(path string, size int64) error {
	if st, err := os.Stat(path); err != nil || st.Size() != size {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(i * 13)
		}
		for n := int64(0); n < size; {
			chunk := buf
			if rem := size - n; rem < int64(len(chunk)) {
				chunk = chunk[:rem]
			}
			w, err := f.Write(chunk)
			n += int64(w)
			if err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		syscall.Sync()
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	return err
}

// sendfileLoopback sends size bytes of the cached file path over one
// loopback TCP connection with sendfile ((*net.TCPConn).ReadFrom of an
// io.LimitedReader over an *os.File) to a reader that discards them in 1 MiB
// reads. It returns MB/s from the first write to the last byte read.
func sendfileLoopback(ctx context.Context, path string, size int64) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	type result struct {
		n   int64
		end time.Time
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		var n int64
		for n < size {
			r, err := c.Read(buf)
			n += int64(r)
			if err != nil {
				done <- result{n: n, err: err}
				return
			}
		}
		done <- result{n: n, end: time.Now()}
	}()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	if _, err := conn.(*net.TCPConn).ReadFrom(&io.LimitedReader{R: f, N: size}); err != nil {
		return 0, err
	}
	r := <-done
	if r.err != nil {
		return 0, fmt.Errorf("reader got %d of %d bytes: %w", r.n, size, r.err)
	}
	return float64(size) / r.end.Sub(start).Seconds() / 1e6, nil
}
