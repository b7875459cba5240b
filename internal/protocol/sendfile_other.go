//go:build !linux

package protocol

import (
	"errors"
	"net"
)

const sendfileSupported = false

func sendfile(*net.TCPConn, uintptr, int64, int64) (int64, error) {
	return 0, errors.New("protocol: sendfile is implemented only on Linux")
}
