//go:build unix && !linux

package clustertest

import "syscall"

// procAttr puts the node in its own process group so cleanup can kill
// anything it spawned.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
