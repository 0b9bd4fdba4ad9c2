package vfs

import (
	"maps"
	"math/rand/v2"
	"slices"
	"syscall"
)

// Crash simulates a power cut followed by a reboot: every file reverts to
// its durable contents, every directory to its durable entries, and every
// handle opened before the crash is dead (its methods fail with an error
// wrapping fs.ErrClosed). The MemFS stays usable.
func (m *MemFS) Crash() { m.crash(nil) }

// CrashTorn is Crash with torn writes. A file whose unsynced changes are all
// appends keeps its durable contents plus a random-length prefix of the
// unsynced tail: none of it or all of it a quarter of the time each,
// otherwise a uniformly random length. A file with other unsynced
// changes (WriteAt before the durable end, Truncate) keeps, at random, its
// durable contents, its current contents, or its durable contents plus a
// random prefix of the current bytes past the durable end. The namespace
// reverts as in Crash. The outcome depends only on rng and the MemFS state,
// so a seed reproduces it.
func (m *MemFS) CrashTorn(rng *rand.Rand) {
	if rng == nil {
		panic("vfs: CrashTorn with nil rng")
	}
	m.crash(rng)
}

func (m *MemFS) crash(rng *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen.Add(1) // before locking any inode: see memFile.alive
	reborn := map[*inode]*inode{}
	for _, dk := range slices.Sorted(maps.Keys(m.dirs)) {
		d := m.dirs[dk]
		files := make(map[string]*inode, len(d.durable))
		for _, name := range slices.Sorted(maps.Keys(d.durable)) {
			old := d.durable[name]
			ino := reborn[old]
			if ino == nil {
				ino = old.reboot(rng)
				reborn[old] = ino
			}
			files[name] = ino
		}
		d.files, d.durable = files, maps.Clone(files)
	}
}

// ReadFile returns a copy of the named file's current contents. It is a test
// helper: the injector does not see it.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, err := m.file("open", name, clean(name))
	if err != nil {
		return nil, err
	}
	ino.mu.RLock()
	defer ino.mu.RUnlock()
	return slices.Clone(ino.data), nil
}

// WriteFile sets the named file's contents to data, creating it if needed
// (its directory must exist), as if it had been written, synced and its
// directory synced: the contents and the name survive a crash. Open handles
// of an existing file see the new contents. It is a test helper, e.g. for
// corrupting files; the injector does not see it.
func (m *MemFS) WriteFile(name string, data []byte) error {
	p := clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[p] != nil {
		return pathErr("open", name, syscall.EISDIR)
	}
	d, base := m.parentOf(p)
	if d == nil {
		return pathErr("open", name, syscall.ENOENT)
	}
	ino := d.files[base]
	if ino == nil {
		ino = &inode{}
		d.files[base] = ino
	}
	d.durable[base] = ino
	ino.mu.Lock()
	defer ino.mu.Unlock()
	ino.data, ino.durable, ino.dirty = slices.Clone(data), slices.Clone(data), false
	return nil
}

// FlipBit flips bit (0-7) of the byte at offset in the named file, in both
// its current and (where the offset is within them) durable contents: media
// corruption that syncing does not fix and a crash does not undo. The offset
// must be within the current contents.
func (m *MemFS) FlipBit(name string, offset int64, bit uint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, err := m.file("flipbit", name, clean(name))
	if err != nil {
		return err
	}
	ino.mu.Lock()
	defer ino.mu.Unlock()
	if bit > 7 || offset < 0 || offset >= int64(len(ino.data)) {
		return pathErr("flipbit", name, syscall.EINVAL)
	}
	mask := byte(1) << bit
	ino.data[offset] ^= mask
	if offset < int64(len(ino.durable)) {
		ino.durable[offset] ^= mask
	}
	return nil
}
