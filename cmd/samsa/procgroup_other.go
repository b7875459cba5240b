//go:build !unix

package main

import "syscall"

// ownProcessGroup: no process groups here; children share the console.
func ownProcessGroup() *syscall.SysProcAttr { return nil }
