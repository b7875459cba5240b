//go:build !unix

package protocol

import "errors"

func preadFull(uintptr, []byte, int64) error {
	return errors.New("protocol: file-backed fetch responses need a Unix system")
}
