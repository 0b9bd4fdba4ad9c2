package vfs

import (
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// memMaxSize bounds a MemFS file, so that a stray huge offset fails with
// EFBIG instead of exhausting memory.
const memMaxSize = 1 << 32

// inode is a MemFS file's contents, shared by every name and handle of it.
//
// Invariant: data and durable never share memory, and outside data[lo:hi]
// (when dirty) the two agree on every offset both have. Offsets at or beyond
// len(durable) always count as changed, so appends need no marking beyond
// their range and Sync copies only data[lo:hi] plus whatever lies past the
// end of durable.
type inode struct {
	mu      sync.RWMutex
	data    []byte // current contents: what reads see
	durable []byte // contents as of the last Sync: what a crash keeps
	dirty   bool   // data[lo:hi] may differ from durable
	lo, hi  int
}

// mark records that data[lo:hi] changed since the last Sync.
func (ino *inode) mark(lo, hi int) {
	if !ino.dirty {
		ino.lo, ino.hi, ino.dirty = lo, hi, true
		return
	}
	ino.lo, ino.hi = min(ino.lo, lo), max(ino.hi, hi)
}

// grow returns b with room for n more bytes. It at least doubles the
// capacity when it must reallocate (append grows large slices by only 1.25x),
// which keeps appending to a big file at a few copies per byte.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	return slices.Grow(b, max(n, len(b)))
}

// write writes p at off, zero-filling any gap past the end, as pwrite does.
func (ino *inode) write(p []byte, off int) {
	if len(p) == 0 {
		return
	}
	old := len(ino.data)
	ino.data = grow(ino.data, off+len(p)-old)
	if off > old {
		ino.data = append(ino.data, make([]byte, off-old)...)
	}
	n := copy(ino.data[off:], p)
	ino.data = append(ino.data, p[n:]...)
	ino.mark(min(off, old), off+len(p))
}

// truncate sets the size, zero-filling when it grows. Shrinking needs no
// mark: Sync always cuts durable to the current size, and bytes that later
// reappear past the cut are marked by whatever writes them.
func (ino *inode) truncate(size int) {
	old := len(ino.data)
	if size <= old {
		ino.data = ino.data[:size]
		return
	}
	ino.data = append(grow(ino.data, size-old), make([]byte, size-old)...)
	ino.mark(old, size)
}

// sync makes the current contents durable and returns how many bytes it
// copied: the changed range plus the bytes past the old durable end, never
// the whole file.
func (ino *inode) sync() int {
	d := ino.durable
	if len(d) > len(ino.data) {
		d = d[:len(ino.data)]
	}
	copied := 0
	if ino.dirty {
		if hi := min(ino.hi, len(d)); ino.lo < hi {
			copied = copy(d[ino.lo:hi], ino.data[ino.lo:hi])
		}
	}
	copied += len(ino.data) - len(d)
	ino.durable = append(grow(d, len(ino.data)-len(d)), ino.data[len(d):]...)
	ino.dirty = false
	return copied
}

// pureAppend reports whether every unsynced change lies past the durable
// end, so that the durable contents are a prefix of the current ones.
func (ino *inode) pureAppend() bool {
	return len(ino.data) >= len(ino.durable) && (!ino.dirty || ino.lo >= len(ino.durable))
}

// crashContents returns what a power cut leaves of the file. With rng nil
// that is the durable contents. Otherwise a pure append is torn at a random
// point (see tornLen); any other change leaves, at random, the durable
// contents, the current contents, or the durable contents plus a random
// prefix of the current bytes past the durable end. The result may alias
// ino.durable.
func (ino *inode) crashContents(rng *rand.Rand) []byte {
	d, c := ino.durable, ino.data
	if rng == nil {
		return d
	}
	tail := max(len(c)-len(d), 0)
	if !ino.pureAppend() {
		switch rng.IntN(3) {
		case 0:
			return d
		case 1:
			return slices.Clone(c)
		}
	}
	k := tornLen(rng, tail)
	return append(d, c[len(d):len(d)+k]...)
}

// tornLen picks how many of n unsynced bytes a torn write keeps: none or all
// a quarter of the time each, so that both extremes come up even for long
// tails, and otherwise any number from 0 to n.
func tornLen(rng *rand.Rand, n int) int {
	switch rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return n
	}
	return rng.IntN(n + 1)
}

// reboot returns a fresh inode holding what a crash leaves of ino, and
// empties ino; handles still pointing at ino are dead by then.
func (ino *inode) reboot(rng *rand.Rand) *inode {
	ino.mu.Lock()
	defer ino.mu.Unlock()
	c := ino.crashContents(rng)
	ino.data, ino.durable, ino.dirty = nil, nil, false
	return &inode{data: slices.Clone(c), durable: c}
}

// memFile is an open MemFS file.
type memFile struct {
	fs       *MemFS
	name     string // cleaned path it was opened by
	ino      *inode
	gen      uint64 // MemFS.gen at open; a crash makes the handle dead
	writable bool
	closed   atomic.Bool

	mu  sync.Mutex // serializes Write; guards pos
	pos int64
}

func (f *memFile) err(op Op, err error) error {
	return &fs.PathError{Op: op.String(), Path: f.name, Err: err}
}

// alive fails if f was closed or a crash happened since it was opened. Under
// the inode lock it is exact: Crash bumps gen before it locks any inode.
func (f *memFile) alive(op Op) error {
	if f.closed.Load() || f.gen != f.fs.gen.Load() {
		return f.err(op, fs.ErrClosed)
	}
	return nil
}

// begin runs the checks before op: the handle is alive, writable if write,
// and the injector lets op through.
func (f *memFile) begin(op Op, write bool) error {
	if err := f.alive(op); err != nil {
		return err
	}
	if write && !f.writable {
		return f.err(op, syscall.EBADF)
	}
	if err := f.fs.injected(op, f.name); err != nil {
		return f.err(op, err)
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.begin(OpRead, false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.err(OpRead, syscall.EINVAL)
	}
	f.ino.mu.RLock()
	defer f.ino.mu.RUnlock()
	if err := f.alive(OpRead); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Write writes at the handle's position and advances it.
func (f *memFile) Write(p []byte) (int, error) {
	if err := f.begin(OpWrite, true); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.writeAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// WriteAt writes at off and leaves the handle's position alone.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.begin(OpWrite, true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.err(OpWrite, syscall.EINVAL)
	}
	return f.writeAt(p, off)
}

func (f *memFile) writeAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > memMaxSize {
		return 0, f.err(OpWrite, syscall.EFBIG)
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if err := f.alive(OpWrite); err != nil {
		return 0, err
	}
	f.ino.write(p, int(off))
	return len(p), nil
}

// Sync makes the file's current contents durable. Syncing through a
// read-only handle works, as fsync does.
func (f *memFile) Sync() error {
	if err := f.begin(OpSync, false); err != nil {
		return err
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if err := f.alive(OpSync); err != nil {
		return err
	}
	f.fs.syncBytes.Add(int64(f.ino.sync()))
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.begin(OpTruncate, true); err != nil {
		return err
	}
	if size < 0 || size > memMaxSize {
		return f.err(OpTruncate, syscall.EINVAL)
	}
	f.ino.mu.Lock()
	defer f.ino.mu.Unlock()
	if err := f.alive(OpTruncate); err != nil {
		return err
	}
	f.ino.truncate(int(size))
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.begin(OpStat, false); err != nil {
		return 0, err
	}
	f.ino.mu.RLock()
	defer f.ino.mu.RUnlock()
	if err := f.alive(OpStat); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

// Allocate only checks the handle: MemFS has no blocks to reserve.
func (f *memFile) Allocate(off, n int64) error {
	return f.alive(OpWrite)
}

// Close fails with fs.ErrClosed if f was already closed or is dead.
func (f *memFile) Close() error {
	if f.closed.Swap(true) || f.gen != f.fs.gen.Load() {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	return nil
}
