package vfs

import (
	"os"
	"syscall"
)

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// fallocateKeepSize is FALLOC_FL_KEEP_SIZE.
const fallocateKeepSize = 0x1

// Allocate reserves blocks with fallocate(FALLOC_FL_KEEP_SIZE); file systems
// without fallocate are not an error.
func (f osFile) Allocate(off, n int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), fallocateKeepSize, off, n)
		switch err {
		case nil, syscall.EOPNOTSUPP, syscall.ENOSYS:
			return nil
		case syscall.EINTR:
			continue
		}
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
	}
}
