//go:build unix

package main

import "syscall"

// ownProcessGroup starts a child in its own process group, so a terminal's
// Ctrl-C reaches only the parent, which stops the children in order.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
