//go:build !linux

package vfs

import "os"

func fdatasync(f *os.File) error { return f.Sync() }

// Allocate does nothing where fallocate is not available.
func (f osFile) Allocate(off, n int64) error { return nil }
