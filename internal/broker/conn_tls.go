package broker

import (
	"net"
	"sync"
)

// A response written through crypto/tls becomes one socket write per TLS
// record (16 KiB): a 1 MiB fetch answer is 64 writes. coalescingConn sits
// under tls.Server and gathers the records of one response into writes of
// up to coalesceMax, flushed when the response is complete. During the
// handshake it passes writes straight through (the handshake waits for
// the peer's answer). The buffer is borrowed from a pool for one response
// and returned by flush, so an idle TLS connection holds none.

// coalesceMax bounds one gathered write.
const coalesceMax = 256 << 10

// coalesceBufs are the buffers responses borrow (capacity coalesceMax).
var coalesceBufs = sync.Pool{New: func() any { b := make([]byte, 0, coalesceMax); return &b }}

type coalescingConn struct {
	net.Conn
	on  bool // after the handshake; used by the connection's goroutine only
	buf *[]byte
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	if !c.on {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = coalesceBufs.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) > coalesceMax {
		if err := c.drain(); err != nil {
			return 0, err
		}
		if len(p) >= coalesceMax {
			return c.Conn.Write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// drain writes what is gathered, keeping the buffer.
func (c *coalescingConn) drain() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// flush writes what is gathered and returns the buffer to the pool.
func (c *coalescingConn) flush() error {
	err := c.drain()
	if c.buf != nil {
		coalesceBufs.Put(c.buf)
		c.buf = nil
	}
	return err
}

// Close sends what is gathered (tls.Conn.Close's close_notify alert)
// and closes the socket.
func (c *coalescingConn) Close() error {
	c.flush()
	return c.Conn.Close()
}

// flushTLS completes a response on a TLS connection: the gathered records
// go out. A no-op without TLS.
func (c *conn) flushTLS() error {
	if c.gather == nil {
		return nil
	}
	return c.gather.flush()
}
