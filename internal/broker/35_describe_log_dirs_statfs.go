//go:build linux || darwin || freebsd || dragonfly

package broker

import "syscall"

// diskSpace returns the total and usable bytes of the file system holding
// dir, as Kafka's FileStore.getTotalSpace and getUsableSpace do.
func diskSpace(dir string) (total, usable int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, -1, err
	}
	return spaceBytes(uint64(st.Blocks), int64(st.Bsize)), spaceBytes(uint64(st.Bavail), int64(st.Bsize)), nil
}
