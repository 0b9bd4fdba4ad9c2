package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"syscall"
	"testing"
)

// TestCrashFileData: which data changes survive a crash. Each case starts
// from d/f = "abcdef", durable in contents and name, opened with OpenRW.
func TestCrashFileData(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, m *MemFS, f File)
		want string
	}{
		{"synced append survives", func(t *testing.T, _ *MemFS, f File) {
			mustWrite(t, f, "gh")
			mustOK(t, "Sync", f.Sync())
		}, "abcdefgh"},
		{"unsynced append is lost", func(t *testing.T, _ *MemFS, f File) {
			mustWrite(t, f, "gh")
			mustOK(t, "Sync", f.Sync())
			mustWrite(t, f, "ij")
		}, "abcdefgh"},
		{"unsynced WriteAt is lost", func(t *testing.T, _ *MemFS, f File) {
			_, err := f.WriteAt([]byte("XY"), 1)
			mustOK(t, "WriteAt", err)
		}, "abcdef"},
		{"synced WriteAt survives", func(t *testing.T, _ *MemFS, f File) {
			_, err := f.WriteAt([]byte("XY"), 1)
			mustOK(t, "WriteAt", err)
			mustOK(t, "Sync", f.Sync())
		}, "aXYdef"},
		{"unsynced Truncate is lost", func(t *testing.T, _ *MemFS, f File) {
			mustOK(t, "Truncate", f.Truncate(2))
		}, "abcdef"},
		{"synced Truncate survives", func(t *testing.T, _ *MemFS, f File) {
			mustOK(t, "Truncate", f.Truncate(2))
			mustOK(t, "Sync", f.Sync())
		}, "ab"},
		{"shrink then regrow, synced", func(t *testing.T, _ *MemFS, f File) {
			mustOK(t, "Truncate", f.Truncate(2))
			_, err := f.WriteAt([]byte("Z"), 3)
			mustOK(t, "WriteAt", err)
			mustOK(t, "Sync", f.Sync())
		}, "ab\x00Z"},
		{"WriteAt past the end, synced", func(t *testing.T, _ *MemFS, f File) {
			_, err := f.WriteAt([]byte("Z"), 8)
			mustOK(t, "WriteAt", err)
			mustOK(t, "Sync", f.Sync())
		}, "abcdef\x00\x00Z"},
		{"Create over the file without Sync is lost", func(t *testing.T, m *MemFS, _ File) {
			g := mustCreate(t, m, "d/f")
			mustWrite(t, g, "new")
		}, "abcdef"},
		{"Sync through another handle covers all writes", func(t *testing.T, m *MemFS, f File) {
			mustWrite(t, f, "gh")
			r, err := m.Open("d/f")
			mustOK(t, "Open", err)
			mustOK(t, "Sync", r.Sync())
		}, "abcdefgh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMem()
			mustOK(t, "MkdirAll", m.MkdirAll("d"))
			mustOK(t, "WriteFile", m.WriteFile("d/f", []byte("abcdef")))
			f, err := m.OpenRW("d/f")
			mustOK(t, "OpenRW", err)
			tc.run(t, m, f)
			m.Crash()
			wantContents(t, m, "d/f", tc.want)
		})
	}
}

// TestCrashNamespace: which namespace changes survive a crash. Each case
// starts from directory d holding f = "old", durable in contents and name,
// and lists what d holds after the crash ("name=contents").
func TestCrashNamespace(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, m *MemFS)
		want []string
	}{
		{"created and synced without SyncDir vanishes", func(t *testing.T, m *MemFS) {
			putFile(t, m, "d/g", "new")
		}, []string{"f=old"}},
		{"created with SyncDir but unsynced data is empty", func(t *testing.T, m *MemFS) {
			g := mustCreate(t, m, "d/g")
			mustWrite(t, g, "new")
			mustOK(t, "SyncDir", m.SyncDir("d"))
		}, []string{"f=old", "g="}},
		{"rename with SyncDir survives", func(t *testing.T, m *MemFS) {
			mustOK(t, "Rename", m.Rename("d/f", "d/g"))
			mustOK(t, "SyncDir", m.SyncDir("d"))
		}, []string{"g=old"}},
		{"rename without SyncDir reverts", func(t *testing.T, m *MemFS) {
			mustOK(t, "Rename", m.Rename("d/f", "d/g"))
		}, []string{"f=old"}},
		{"remove without SyncDir comes back", func(t *testing.T, m *MemFS) {
			mustOK(t, "Remove", m.Remove("d/f"))
		}, []string{"f=old"}},
		{"remove with SyncDir is gone", func(t *testing.T, m *MemFS) {
			mustOK(t, "Remove", m.Remove("d/f"))
			mustOK(t, "SyncDir", m.SyncDir("d/"))
		}, nil},
		{"checkpoint tmp+sync+rename+SyncDir survives", func(t *testing.T, m *MemFS) {
			putFile(t, m, "d/f.tmp", "new")
			mustOK(t, "Rename", m.Rename("d/f.tmp", "d/f"))
			mustOK(t, "SyncDir", m.SyncDir("d"))
		}, []string{"f=new"}},
		{"checkpoint without the final SyncDir keeps the old", func(t *testing.T, m *MemFS) {
			putFile(t, m, "d/f.tmp", "new")
			mustOK(t, "Rename", m.Rename("d/f.tmp", "d/f"))
		}, []string{"f=old"}},
		{"data synced after rename follows the inode", func(t *testing.T, m *MemFS) {
			f, err := m.OpenRW("d/f")
			mustOK(t, "OpenRW", err)
			mustOK(t, "Rename", m.Rename("d/f", "d/g"))
			mustOK(t, "SyncDir", m.SyncDir("d"))
			mustWrite(t, f, "+more")
			mustOK(t, "Sync", f.Sync())
		}, []string{"g=old+more"}},
		{"synced data of an unlinked file is not resurrected", func(t *testing.T, m *MemFS) {
			f, err := m.OpenRW("d/f")
			mustOK(t, "OpenRW", err)
			mustOK(t, "Remove", m.Remove("d/f"))
			mustOK(t, "SyncDir", m.SyncDir("d"))
			mustWrite(t, f, "+more")
			mustOK(t, "Sync", f.Sync())
		}, nil},
		{"cross-directory rename needs both SyncDirs", func(t *testing.T, m *MemFS) {
			mustOK(t, "MkdirAll", m.MkdirAll("d/sub"))
			mustOK(t, "Rename", m.Rename("d/f", "d/sub/f"))
			mustOK(t, "SyncDir", m.SyncDir("d/sub"))
		}, []string{"f=old", "sub/"}},
		{"directories are durable at once", func(t *testing.T, m *MemFS) {
			mustOK(t, "MkdirAll", m.MkdirAll("d/a/b"))
			mustOK(t, "Rename", m.Rename("d/a", "d/c"))
		}, []string{"c/", "f=old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMem()
			mustOK(t, "MkdirAll", m.MkdirAll("d"))
			mustOK(t, "WriteFile", m.WriteFile("d/f", []byte("old")))
			tc.run(t, m)
			m.Crash()
			if got := describeDir(t, m, "d"); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("after crash d = %q, want %q", got, tc.want)
			}
		})
	}
}

// describeDir lists dir as "name=contents" for files and "name/" for
// directories.
func describeDir(t *testing.T, m *MemFS, dir string) []string {
	t.Helper()
	names, err := m.List(dir)
	mustOK(t, "List", err)
	var out []string
	for _, n := range names {
		st, err := m.Stat(dir + "/" + n)
		mustOK(t, "Stat", err)
		if st.IsDir() {
			out = append(out, n+"/")
			continue
		}
		data, err := m.ReadFile(dir + "/" + n)
		mustOK(t, "ReadFile", err)
		out = append(out, n+"="+string(data))
	}
	return out
}

func TestCrashKillsHandles(t *testing.T) {
	m := NewMem()
	putFile(t, m, "f", "data")
	mustOK(t, "SyncDir", m.SyncDir("."))
	w, err := m.OpenRW("f")
	mustOK(t, "OpenRW", err)
	r, err := m.Open("f")
	mustOK(t, "Open", err)
	m.Crash()
	ops := map[string]func(f File) error{
		"ReadAt":   func(f File) error { _, err := f.ReadAt(make([]byte, 1), 0); return err },
		"Write":    func(f File) error { _, err := f.Write([]byte("x")); return err },
		"WriteAt":  func(f File) error { _, err := f.WriteAt([]byte("x"), 0); return err },
		"Sync":     func(f File) error { return f.Sync() },
		"Truncate": func(f File) error { return f.Truncate(0) },
		"Size":     func(f File) error { _, err := f.Size(); return err },
		"Close":    func(f File) error { return f.Close() },
	}
	for name, op := range ops {
		for _, f := range []File{w, r} {
			if err := op(f); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("%s on a pre-crash handle = %v, want fs.ErrClosed", name, err)
			}
		}
	}
	wantContents(t, m, "f", "data") // new handles work
}

func TestRepeatedCrashes(t *testing.T) {
	m := NewMem()
	f := mustCreate(t, m, "log")
	mustOK(t, "SyncDir", m.SyncDir("."))
	var want []byte
	for i := range 20 {
		rec := fmt.Appendf(nil, "rec%02d;", i)
		mustWrite(t, f, string(rec))
		if i%3 != 2 { // every third record is never synced
			mustOK(t, "Sync", f.Sync())
			want = append(want, rec...)
		}
		if i%3 == 2 {
			m.Crash()
			var err error
			f, err = m.OpenRW("log")
			mustOK(t, "OpenRW", err)
		}
	}
	mustOK(t, "Sync", f.Sync())
	m.Crash()
	wantContents(t, m, "log", string(want))
}

func TestSyncFailureIsNotDurable(t *testing.T) {
	m := NewMem()
	putFile(t, m, "f", "synced")
	mustOK(t, "SyncDir", m.SyncDir("."))
	f, err := m.OpenRW("f")
	mustOK(t, "OpenRW", err)
	mustWrite(t, f, "+pending")
	m.SetInjector(FailNth(OpSync, 1, ErrEIO()))
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync = %v, want EIO", err)
	}
	m.Crash()
	wantContents(t, m, "f", "synced")

	f, err = m.OpenRW("f")
	mustOK(t, "OpenRW", err)
	mustWrite(t, f, "+retried")
	mustOK(t, "second Sync", f.Sync()) // FailNth fails only the first
	m.Crash()
	wantContents(t, m, "f", "synced+retried")
}

// TestCrashTornAppend: over many seeds, a torn crash keeps the durable bytes
// plus a prefix of the unsynced tail: never less, never more than current.
func TestCrashTornAppend(t *testing.T) {
	durable := bytes.Repeat([]byte("D"), 100)
	tail := make([]byte, 1000)
	for i := range tail {
		tail[i] = byte(i % 251)
	}
	current := append(bytes.Clone(durable), tail...)
	var sawNone, sawAll, sawPart bool
	for seed := range uint64(300) {
		m := NewMem()
		mustOK(t, "WriteFile", m.WriteFile("f", durable))
		f, err := m.OpenRW("f")
		mustOK(t, "OpenRW", err)
		mustWrite(t, f, string(tail[:400]))
		mustWrite(t, f, string(tail[400:]))
		putFile(t, m, "unnamed", "x") // no SyncDir: must vanish
		m.CrashTorn(rand.New(rand.NewPCG(seed, 1)))
		got, err := m.ReadFile("f")
		mustOK(t, "ReadFile", err)
		if !bytes.HasPrefix(got, durable) || !bytes.HasPrefix(current, got) {
			t.Fatalf("seed %d: %d bytes, not durable + a prefix of the tail", seed, len(got))
		}
		sawNone = sawNone || len(got) == len(durable)
		sawAll = sawAll || len(got) == len(current)
		sawPart = sawPart || (len(got) > len(durable) && len(got) < len(current))
		wantList(t, m, ".", "f")
	}
	if !sawNone || !sawAll || !sawPart {
		t.Errorf("outcomes seen: none=%v all=%v part=%v; want all three", sawNone, sawAll, sawPart)
	}
}

// TestCrashTornOverwrite: for a change that is not a pure append, a torn
// crash leaves the durable version, the current one, or the durable version
// plus a prefix of the current bytes past its end.
func TestCrashTornOverwrite(t *testing.T) {
	const durable, current = "abcdef", "aXYdefghij"
	seen := map[string]bool{}
	for seed := range uint64(200) {
		m := NewMem()
		mustOK(t, "WriteFile", m.WriteFile("f", []byte(durable)))
		f, err := m.OpenRW("f")
		mustOK(t, "OpenRW", err)
		_, err = f.WriteAt([]byte("XY"), 1)
		mustOK(t, "WriteAt", err)
		mustWrite(t, f, "ghij")
		m.CrashTorn(rand.New(rand.NewPCG(seed, 2)))
		got, err := m.ReadFile("f")
		mustOK(t, "ReadFile", err)
		kind := "torn"
		switch {
		case string(got) == durable:
			kind = "durable"
		case string(got) == current:
			kind = "current"
		case len(got) < len(durable) || len(got) > len(current) ||
			string(got[:6]) != durable || string(got[6:]) != current[6:len(got)]:
			t.Fatalf("seed %d: %q is not an allowed outcome", seed, got)
		}
		seen[kind] = true
	}
	if len(seen) != 3 {
		t.Errorf("outcomes seen: %v; want durable, current and torn", seen)
	}
}

func TestCrashTornIsReproducible(t *testing.T) {
	build := func() *MemFS {
		m := NewMem()
		for i := range 8 {
			name := fmt.Sprintf("f%d", i)
			mustOK(t, "WriteFile", m.WriteFile(name, []byte("durable")))
			f, err := m.OpenRW(name)
			mustOK(t, "OpenRW", err)
			mustWrite(t, f, "-unsynced-tail-of-some-length")
		}
		return m
	}
	a, b := build(), build()
	a.CrashTorn(rand.New(rand.NewPCG(7, 7)))
	b.CrashTorn(rand.New(rand.NewPCG(7, 7)))
	for i := range 8 {
		name := fmt.Sprintf("f%d", i)
		ga, _ := a.ReadFile(name)
		gb, _ := b.ReadFile(name)
		if !bytes.Equal(ga, gb) {
			t.Errorf("%s: %q vs %q with the same seed", name, ga, gb)
		}
	}
}

// TestSyncIsIncremental checks that Sync copies only what changed: appends
// of 1 KiB with a Sync after each copy 1 KiB each, however large the file
// grows, and so do small WriteAts into a large preallocated index file.
func TestSyncIsIncremental(t *testing.T) {
	m := NewMem()
	f := mustCreate(t, m, "log")
	chunk := bytes.Repeat([]byte("x"), 1024)
	const n = 10000
	for range n {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		mustOK(t, "Sync", f.Sync())
	}
	if got := m.syncBytes.Load(); got != n*1024 {
		t.Fatalf("appends: Sync copied %d bytes, want %d", got, n*1024)
	}

	idx := mustCreate(t, m, "idx")
	mustOK(t, "Truncate", idx.Truncate(1<<20))
	mustOK(t, "Sync", idx.Sync())
	before := m.syncBytes.Load()
	for i := range 1000 {
		_, err := idx.WriteAt([]byte("entry..."), int64(i*8))
		mustOK(t, "WriteAt", err)
		mustOK(t, "Sync", idx.Sync())
	}
	if got := m.syncBytes.Load() - before; got != 1000*8 {
		t.Fatalf("index writes: Sync copied %d bytes, want %d", got, 1000*8)
	}
	mustOK(t, "SyncDir", m.SyncDir("."))
	m.Crash()
	if st, err := m.Stat("log"); err != nil || st.Size() != n*1024 {
		t.Fatalf("log after crash: %v, %v", st, err)
	}
	got, err := m.ReadFile("idx")
	mustOK(t, "ReadFile", err)
	if len(got) != 1<<20 || string(got[7992:8008]) != "entry...\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("idx after crash: %d bytes, %q", len(got), got[7992:8008])
	}
}

// BenchmarkAppendSync appends 1 KiB and syncs, with the file growing to
// 64 MiB before it is truncated and refilled (so memory stays bounded). With
// incremental Sync the cost per op does not depend on the file's size; a
// whole-file copy per Sync would cost ~32 MiB of copying per op on average.
func BenchmarkAppendSync(b *testing.B) {
	const limit = 64 << 20
	m := NewMem()
	f, err := m.Create("log")
	if err != nil {
		b.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 1024)
	b.SetBytes(int64(len(chunk)))
	size := 0
	for b.Loop() {
		if size+len(chunk) > limit {
			b.StopTimer()
			if err := f.Truncate(0); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			size = 0
			b.StartTimer()
		}
		if _, err := f.WriteAt(chunk, int64(size)); err != nil {
			b.Fatal(err)
		}
		size += len(chunk)
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}
