//go:build unix

package protocol

import (
	"io"
	"syscall"
)

// preadFull fills p from fd at offset off without moving the file position.
func preadFull(fd uintptr, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := syscall.Pread(int(fd), p, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}
