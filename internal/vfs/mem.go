package vfs

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MemFS is an in-memory FS for crash tests: it can lose everything not yet
// made durable (Crash, CrashTorn) and fail any operation on demand
// (SetInjector). It is safe for concurrent use; reads of one file are never
// held up by writes to another.
//
// Durability model:
//
//   - File contents. Each file (inode) has current contents, which reads
//     see, and durable contents, which a crash keeps. Write, WriteAt and
//     Truncate change only the current contents; File.Sync makes them
//     durable. Sync tracks the range changed since the previous Sync and
//     copies only that range plus the bytes past the old durable end, so its
//     cost is proportional to the bytes changed, not to the file's size. A
//     failed Sync makes nothing durable.
//   - Namespace. Each directory has current entries and durable entries.
//     Creating, removing and renaming files change only the current entries;
//     SyncDir(dir) makes them durable. So a file created (even written and
//     synced) in a directory never synced vanishes at a crash; a file removed
//     or renamed away without SyncDir comes back under its old name with its
//     durable contents; a rename across directories needs SyncDir of both.
//   - Data durability belongs to the inode, not the name: syncing a file
//     after renaming it makes the data durable under every name that
//     survives the crash.
//   - Simplification: directories themselves are durable at once. MkdirAll,
//     Remove of an empty directory, RemoveAll of a directory and Rename of a
//     directory survive a crash without any SyncDir, and removing a directory
//     drops the durable entries in it too.
//
// POSIX semantics: Remove (or Rename over) a file that is open leaves its
// handles usable on the unlinked inode; Rename over an existing file replaces
// it atomically; Create of an existing file truncates it (a change that, like
// Truncate, needs Sync to be durable).
//
// Paths are cleaned with path.Clean; "." and "/" always exist, so relative and
// absolute paths both work, as separate trees.
type MemFS struct {
	mu   sync.Mutex         // guards dirs and every memDir in it
	dirs map[string]*memDir // by cleaned path

	gen       atomic.Uint64 // bumped by each crash; older handles are dead
	inj       atomic.Pointer[func(Op, string) error]
	syncBytes atomic.Int64 // bytes Sync copied into durable contents, for tests
}

// memDir is one directory's entries. Files are keyed by base name; the
// inodes in durable are the ones a crash keeps.
type memDir struct {
	files   map[string]*inode
	durable map[string]*inode
	subdirs map[string]struct{}
}

func newMemDir() *memDir {
	return &memDir{
		files:   map[string]*inode{},
		durable: map[string]*inode{},
		subdirs: map[string]struct{}{},
	}
}

// NewMem returns an empty MemFS.
func NewMem() *MemFS {
	return &MemFS{dirs: map[string]*memDir{".": newMemDir(), "/": newMemDir()}}
}

var _ FS = (*MemFS)(nil)

func clean(name string) string {
	if name == "" {
		return ""
	}
	return path.Clean(name)
}

func isRoot(p string) bool { return p == "." || p == "/" }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// parentOf returns the directory holding p and p's base name; the directory
// is nil if it does not exist. Callers hold m.mu.
func (m *MemFS) parentOf(p string) (*memDir, string) {
	if p == "" || isRoot(p) {
		return nil, ""
	}
	return m.dirs[path.Dir(p)], path.Base(p)
}

// file returns the file at p. Callers hold m.mu.
func (m *MemFS) file(op, name, p string) (*inode, error) {
	if m.dirs[p] != nil {
		return nil, pathErr(op, name, syscall.EISDIR)
	}
	if d, base := m.parentOf(p); d != nil && d.files[base] != nil {
		return d.files[base], nil
	}
	return nil, pathErr(op, name, syscall.ENOENT)
}

// dir returns the directory at p. Callers hold m.mu.
func (m *MemFS) dir(op, name, p string) (*memDir, error) {
	if d := m.dirs[p]; d != nil {
		return d, nil
	}
	if d, base := m.parentOf(p); d != nil && d.files[base] != nil {
		return nil, pathErr(op, name, syscall.ENOTDIR)
	}
	return nil, pathErr(op, name, syscall.ENOENT)
}

// Create creates or truncates the named file; its parent must exist.
func (m *MemFS) Create(name string) (File, error) {
	p := clean(name)
	if err := m.injected(OpCreate, p); err != nil {
		return nil, pathErr("open", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[p] != nil {
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	d, base := m.parentOf(p)
	if d == nil {
		return nil, pathErr("open", name, syscall.ENOENT)
	}
	ino := d.files[base]
	if ino == nil {
		ino = &inode{}
		d.files[base] = ino
	} else {
		ino.mu.Lock()
		ino.truncate(0)
		ino.mu.Unlock()
	}
	return m.newHandle(p, ino, true, 0), nil
}

// Open opens an existing file read-only.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

// OpenRW opens an existing file read-write, positioned at its end.
func (m *MemFS) OpenRW(name string) (File, error) { return m.open(name, true) }

func (m *MemFS) open(name string, rw bool) (File, error) {
	p := clean(name)
	if err := m.injected(OpOpen, p); err != nil {
		return nil, pathErr("open", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, err := m.file("open", name, p)
	if err != nil {
		return nil, err
	}
	var pos int64
	if rw {
		ino.mu.RLock()
		pos = int64(len(ino.data))
		ino.mu.RUnlock()
	}
	return m.newHandle(p, ino, rw, pos), nil
}

// newHandle opens ino. Callers hold m.mu, which orders gen against Crash.
func (m *MemFS) newHandle(p string, ino *inode, writable bool, pos int64) *memFile {
	return &memFile{fs: m, name: p, ino: ino, gen: m.gen.Load(), writable: writable, pos: pos}
}

// Remove removes a file, or an empty directory.
func (m *MemFS) Remove(name string) error {
	p := clean(name)
	if err := m.injected(OpRemove, p); err != nil {
		return pathErr("remove", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.dirs[p]; d != nil {
		if isRoot(p) {
			return pathErr("remove", name, syscall.EINVAL)
		}
		if len(d.files)+len(d.subdirs) > 0 {
			return pathErr("remove", name, syscall.ENOTEMPTY)
		}
		m.dropDir(p)
		return nil
	}
	d, base := m.parentOf(p)
	if d == nil || d.files[base] == nil {
		return pathErr("remove", name, syscall.ENOENT)
	}
	delete(d.files, base)
	return nil
}

// RemoveAll removes a file, or a directory and everything in it. A missing
// name is not an error.
func (m *MemFS) RemoveAll(name string) error {
	p := clean(name)
	if err := m.injected(OpRemove, p); err != nil {
		return pathErr("removeall", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if isRoot(p) {
		return pathErr("removeall", name, syscall.EINVAL)
	}
	if m.dirs[p] != nil {
		m.removeTree(p)
	} else if d, base := m.parentOf(p); d != nil {
		delete(d.files, base)
	}
	return nil
}

func (m *MemFS) removeTree(p string) {
	for sub := range m.dirs[p].subdirs {
		m.removeTree(path.Join(p, sub))
	}
	m.dropDir(p)
}

// dropDir unlinks the directory p, which is not a root. Callers hold m.mu.
func (m *MemFS) dropDir(p string) {
	delete(m.dirs, p)
	delete(m.dirs[path.Dir(p)].subdirs, path.Base(p))
}

// Rename renames a file, atomically replacing any file at newname, or a
// directory (onto a missing or empty directory).
func (m *MemFS) Rename(oldname, newname string) error {
	op, np := clean(oldname), clean(newname)
	if err := m.injected(OpRename, op); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	if m.dirs[op] != nil {
		err = m.renameDir(op, np)
	} else {
		err = m.renameFile(op, np)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (m *MemFS) renameFile(op, np string) error {
	od, obase := m.parentOf(op)
	if od == nil || od.files[obase] == nil {
		return syscall.ENOENT
	}
	nd, nbase := m.parentOf(np)
	if nd == nil {
		return syscall.ENOENT
	}
	if m.dirs[np] != nil {
		return syscall.EISDIR
	}
	ino := od.files[obase]
	delete(od.files, obase)
	nd.files[nbase] = ino
	return nil
}

func (m *MemFS) renameDir(op, np string) error {
	if op == np {
		return nil
	}
	nd, nbase := m.parentOf(np)
	switch {
	case isRoot(op) || np == "" || isRoot(np) || strings.HasPrefix(np, op+"/"):
		return syscall.EINVAL
	case nd == nil:
		return syscall.ENOENT
	case nd.files[nbase] != nil:
		return syscall.ENOTDIR
	}
	if t := m.dirs[np]; t != nil {
		if len(t.files)+len(t.subdirs) > 0 {
			return syscall.ENOTEMPTY
		}
		m.dropDir(np)
	}
	moved := map[string]*memDir{}
	m.collectTree(op, moved)
	for k := range moved {
		delete(m.dirs, k)
	}
	for k, d := range moved {
		m.dirs[np+k[len(op):]] = d
	}
	delete(m.dirs[path.Dir(op)].subdirs, path.Base(op))
	nd.subdirs[nbase] = struct{}{}
	return nil
}

func (m *MemFS) collectTree(p string, into map[string]*memDir) {
	d := m.dirs[p]
	into[p] = d
	for sub := range d.subdirs {
		m.collectTree(path.Join(p, sub), into)
	}
}

// MkdirAll creates a directory and any missing parents; they are durable at
// once.
func (m *MemFS) MkdirAll(dir string) error {
	p := clean(dir)
	if err := m.injected(OpMkdir, p); err != nil {
		return pathErr("mkdir", dir, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mkdirAll(dir, p)
}

func (m *MemFS) mkdirAll(name, p string) error {
	if p == "" {
		return pathErr("mkdir", name, syscall.ENOENT)
	}
	if m.dirs[p] != nil {
		return nil
	}
	parent, base := path.Dir(p), path.Base(p)
	if err := m.mkdirAll(name, parent); err != nil {
		return err
	}
	pd := m.dirs[parent]
	if pd.files[base] != nil {
		return pathErr("mkdir", name, syscall.ENOTDIR)
	}
	m.dirs[p] = newMemDir()
	pd.subdirs[base] = struct{}{}
	return nil
}

// List returns the sorted names of the files and directories in dir.
func (m *MemFS) List(dir string) ([]string, error) {
	p := clean(dir)
	if err := m.injected(OpList, p); err != nil {
		return nil, pathErr("open", dir, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.dir("open", dir, p)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(d.files)+len(d.subdirs))
	for n := range d.files {
		names = append(names, n)
	}
	for n := range d.subdirs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// Stat describes a file or directory. ModTime is always the zero time.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	p := clean(name)
	if err := m.injected(OpStat, p); err != nil {
		return nil, pathErr("stat", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[p] != nil {
		return memInfo{name: path.Base(p), dir: true}, nil
	}
	ino, err := m.file("stat", name, p)
	if err != nil {
		return nil, err
	}
	ino.mu.RLock()
	defer ino.mu.RUnlock()
	return memInfo{name: path.Base(p), size: int64(len(ino.data))}, nil
}

// SyncDir makes dir's current file entries its durable ones.
func (m *MemFS) SyncDir(dir string) error {
	p := clean(dir)
	if err := m.injected(OpSyncDir, p); err != nil {
		return pathErr("sync", dir, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.dir("sync", dir, p)
	if err != nil {
		return err
	}
	d.durable = maps.Clone(d.files)
	return nil
}

// memInfo is MemFS's fs.FileInfo.
type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) Sys() any           { return nil }

func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
