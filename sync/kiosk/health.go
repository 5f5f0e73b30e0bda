package kiosk

import (
	"fmt"
	"syscall"
)

// DiskFree returns the bytes available to unprivileged users on the file
// system holding path (for wire.Health.DiskFreeBytes).
func DiskFree(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("disk free %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
