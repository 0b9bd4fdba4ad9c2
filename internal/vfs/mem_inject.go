package vfs

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
)

// Op names a MemFS operation, for error injection.
type Op int

// The operations an injector sees. File.Size reports OpStat; File.Close and
// the test helpers (ReadFile, WriteFile, FlipBit) are never injected.
const (
	OpCreate   Op = iota + 1 // FS.Create
	OpOpen                   // FS.Open, FS.OpenRW
	OpRead                   // File.ReadAt
	OpWrite                  // File.Write, File.WriteAt
	OpSync                   // File.Sync
	OpTruncate               // File.Truncate
	OpRemove                 // FS.Remove, FS.RemoveAll
	OpRename                 // FS.Rename (the injector gets the old name)
	OpMkdir                  // FS.MkdirAll
	OpList                   // FS.List
	OpStat                   // FS.Stat, File.Size
	OpSyncDir                // FS.SyncDir
)

var opNames = [...]string{
	OpCreate:   "create",
	OpOpen:     "open",
	OpRead:     "read",
	OpWrite:    "write",
	OpSync:     "sync",
	OpTruncate: "truncate",
	OpRemove:   "remove",
	OpRename:   "rename",
	OpMkdir:    "mkdir",
	OpList:     "list",
	OpStat:     "stat",
	OpSyncDir:  "syncdir",
}

func (op Op) String() string {
	if op > 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// SetInjector installs f, which MemFS calls before each operation with the
// operation and its cleaned path; nil removes the injector. When f returns an
// error the operation fails with it (wrapped in *fs.PathError or
// *os.LinkError) and changes nothing. f runs without MemFS locks held, so it
// may call MemFS itself, e.g. Crash to cut the power just before an operation.
func (m *MemFS) SetInjector(f func(op Op, path string) error) {
	if f == nil {
		m.inj.Store(nil)
		return
	}
	m.inj.Store(&f)
}

// injected asks the injector, if any, whether op on p should fail.
func (m *MemFS) injected(op Op, p string) error {
	f := m.inj.Load()
	if f == nil {
		return nil
	}
	return (*f)(op, p)
}

// ErrEIO returns an injectable I/O error: errors.Is reports true for both
// ErrInjected and syscall.EIO.
func ErrEIO() error { return fmt.Errorf("%w: %w", ErrInjected, syscall.EIO) }

// ErrENOSPC returns an injectable disk-full error: errors.Is reports true for
// both ErrInjected and syscall.ENOSPC.
func ErrENOSPC() error { return fmt.Errorf("%w: %w", ErrInjected, syscall.ENOSPC) }

// FailNth returns an injector that fails the n-th call (counting from 1) of op
// with err and lets every other call succeed. It is safe for concurrent use.
func FailNth(op Op, n int, err error) func(Op, string) error {
	var calls atomic.Int64
	return func(o Op, _ string) error {
		if o == op && calls.Add(1) == int64(n) {
			return err
		}
		return nil
	}
}
