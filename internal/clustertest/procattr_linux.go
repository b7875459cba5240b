package clustertest

import "syscall"

// procAttr puts the node in its own process group (so cleanup can kill
// anything it spawned) and asks the kernel to SIGKILL it if the test process
// dies first, so a panicking or timed-out test leaks no broker.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
