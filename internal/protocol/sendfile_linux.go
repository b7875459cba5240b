package protocol

import (
	"io"
	"net"
	"syscall"
)

const sendfileSupported = true

// maxSendfile is the most one sendfile(2) call transfers on Linux.
const maxSendfile = 0x7ffff000

// sendfile sends n bytes of fd from offset pos to c. The offset is passed
// explicitly, so the file's shared position is neither used nor moved and
// any number of connections may send from one descriptor at once. When the
// socket buffer is full the callback returns false and the runtime poller
// waits for writability, honouring c's write deadline.
func sendfile(c *net.TCPConn, fd uintptr, pos, n int64) (int64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var written int64
	var serr error
	err = rc.Write(func(sock uintptr) bool {
		for written < n {
			off := pos + written
			m, e := syscall.Sendfile(int(sock), int(fd), &off, int(min(n-written, maxSendfile)))
			if m > 0 {
				written += int64(m)
			}
			switch {
			case e == syscall.EAGAIN:
				return false
			case e == syscall.EINTR:
				continue
			case e != nil:
				serr = e
				return true
			case m == 0:
				// End of file before the range ended: the file shrank.
				serr = io.ErrUnexpectedEOF
				return true
			}
		}
		return true
	})
	if err == nil {
		err = serr
	}
	return written, err
}
