// Package vfs is Samsa's file-system seam. Everything that touches disk goes
// through FS so that tests can substitute MemFS, an in-memory file system that
// can lose everything not yet synced (a simulated power cut) and inject errors.
//
// The interface is deliberately small: it is what an append-only log with
// index files and checkpoint files needs, and nothing more.
package vfs

import (
	"errors"
	"io"
	"io/fs"
)

// File is an open file. Writes go to the end of the file (Write) or to an
// explicit position (WriteAt); ReadAt may be called concurrently with writes
// and with other reads.
type File interface {
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	// Sync makes every byte written so far durable.
	Sync() error
	// Truncate changes the file's size; the change is durable after Sync.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
	// Allocate reserves disk space for [off, off+n) without changing the
	// file's size, so later writes there need no block allocation. It is a
	// hint: where the file system cannot, it does nothing. Truncate to the
	// current size gives back what lies past the end.
	Allocate(off, n int64) error
}

// FS is a file system. Paths use forward slashes, as with path/filepath on
// Unix. Creating, removing and renaming entries is durable only after SyncDir
// on the parent directory.
type FS interface {
	// Create creates or truncates the named file and opens it read-write.
	Create(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// OpenRW opens an existing file read-write without truncating it;
	// appends (Write) go to its end.
	OpenRW(name string) (File, error)
	Remove(name string) error
	// RemoveAll removes a directory and everything in it.
	RemoveAll(name string) error
	Rename(oldname, newname string) error
	MkdirAll(dir string) error
	// List returns the names (not paths) of a directory's entries, sorted.
	List(dir string) ([]string, error)
	// Stat reports whether name exists, and its size if it is a file.
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the directory's entries (creations, removals, renames)
	// durable.
	SyncDir(dir string) error
}

// ErrInjected marks an error that MemFS injected on purpose.
var ErrInjected = errors.New("vfs: injected error")

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
