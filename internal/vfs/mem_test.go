package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"syscall"
	"testing"
)

func TestMemConformance(t *testing.T) {
	for _, root := range []string{"data/node1", "/abs/data"} {
		t.Run(root, func(t *testing.T) {
			runConformance(t, func(t *testing.T) (FS, string) {
				m := NewMem()
				mustOK(t, "MkdirAll", m.MkdirAll(root))
				return m, root
			})
		})
	}
}

func TestMemPathsAreCleaned(t *testing.T) {
	m := NewMem()
	mustOK(t, "MkdirAll", m.MkdirAll("a/b/"))
	putFile(t, m, "a/./b/../b/f", "x")
	wantContents(t, m, "a/b/f", "x")
	wantList(t, m, "a/b/", "f")
	wantList(t, m, ".", "a")
	wantList(t, m, "/")
	if _, err := m.Stat("/a/b/f"); !IsNotExist(err) {
		t.Errorf("absolute /a/b/f should be a different file from a/b/f: %v", err)
	}
	_, err := m.Create("")
	wantNotExist(t, `Create("")`, err)
}

func TestMemOpenDirFails(t *testing.T) {
	m := NewMem()
	mustOK(t, "MkdirAll", m.MkdirAll("d"))
	if _, err := m.Open("d"); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("Open(dir) = %v, want EISDIR", err)
	}
	if _, err := m.Create("d"); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("Create(dir) = %v, want EISDIR", err)
	}
	putFile(t, m, "f", "x")
	if _, err := m.List("f"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("List(file) = %v, want ENOTDIR", err)
	}
}

func TestOpString(t *testing.T) {
	want := map[Op]string{
		OpCreate: "create", OpOpen: "open", OpRead: "read", OpWrite: "write",
		OpSync: "sync", OpTruncate: "truncate", OpRemove: "remove",
		OpRename: "rename", OpMkdir: "mkdir", OpList: "list", OpStat: "stat",
		OpSyncDir: "syncdir", 0: "Op(0)", 99: "Op(99)",
	}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), op.String(), s)
		}
	}
}

func TestInjectedErrors(t *testing.T) {
	tests := []struct {
		err   error
		errno syscall.Errno
	}{
		{ErrEIO(), syscall.EIO},
		{ErrENOSPC(), syscall.ENOSPC},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, ErrInjected) || !errors.Is(tc.err, tc.errno) {
			t.Errorf("%v: Is(ErrInjected) = %v, Is(%v) = %v", tc.err,
				errors.Is(tc.err, ErrInjected), tc.errno, errors.Is(tc.err, tc.errno))
		}
	}
}

// TestInjectorFailsEveryOp checks that each operation consults the injector
// with its Op and cleaned path, fails with the injected error, and changes
// nothing.
func TestInjectorFailsEveryOp(t *testing.T) {
	tests := []struct {
		op       Op
		wantPath string
		run      func(m *MemFS, f File) error
	}{
		{OpCreate, "d/new", func(m *MemFS, _ File) error { _, err := m.Create("d//new"); return err }},
		{OpOpen, "d/f", func(m *MemFS, _ File) error { _, err := m.Open("d/f"); return err }},
		{OpOpen, "d/f", func(m *MemFS, _ File) error { _, err := m.OpenRW("d/f"); return err }},
		{OpRead, "d/f", func(_ *MemFS, f File) error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
		{OpWrite, "d/f", func(_ *MemFS, f File) error { _, err := f.Write([]byte("zz")); return err }},
		{OpWrite, "d/f", func(_ *MemFS, f File) error { _, err := f.WriteAt([]byte("zz"), 1); return err }},
		{OpSync, "d/f", func(_ *MemFS, f File) error { return f.Sync() }},
		{OpTruncate, "d/f", func(_ *MemFS, f File) error { return f.Truncate(0) }},
		{OpStat, "d/f", func(_ *MemFS, f File) error { _, err := f.Size(); return err }},
		{OpStat, "d/f", func(m *MemFS, _ File) error { _, err := m.Stat("d/f"); return err }},
		{OpRemove, "d/f", func(m *MemFS, _ File) error { return m.Remove("d/f") }},
		{OpRemove, "d", func(m *MemFS, _ File) error { return m.RemoveAll("d/") }},
		{OpRename, "d/f", func(m *MemFS, _ File) error { return m.Rename("d/f", "d/g") }},
		{OpMkdir, "d/e", func(m *MemFS, _ File) error { return m.MkdirAll("d/e") }},
		{OpList, "d", func(m *MemFS, _ File) error { _, err := m.List("d"); return err }},
		{OpSyncDir, "d", func(m *MemFS, _ File) error { return m.SyncDir("d") }},
	}
	for _, tc := range tests {
		t.Run(tc.op.String(), func(t *testing.T) {
			m := NewMem()
			mustOK(t, "MkdirAll", m.MkdirAll("d"))
			f := mustCreate(t, m, "d/f")
			mustWrite(t, f, "abc")
			var gotOp Op
			var gotPath string
			m.SetInjector(func(op Op, p string) error {
				gotOp, gotPath = op, p
				return ErrEIO()
			})
			err := tc.run(m, f)
			m.SetInjector(nil)
			if !errors.Is(err, ErrInjected) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("err = %v, want the injected EIO", err)
			}
			if gotOp != tc.op || gotPath != tc.wantPath {
				t.Errorf("injector saw (%v, %q), want (%v, %q)", gotOp, gotPath, tc.op, tc.wantPath)
			}
			wantList(t, m, "d", "f")
			wantContents(t, m, "d/f", "abc")
			m.Crash() // the failed op made nothing durable either
			wantList(t, m, "d")
		})
	}
}

func TestSetInjectorNilRemoves(t *testing.T) {
	m := NewMem()
	m.SetInjector(func(Op, string) error { return ErrENOSPC() })
	if _, err := m.Create("f"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Create = %v, want ENOSPC", err)
	}
	m.SetInjector(nil)
	putFile(t, m, "f", "ok")
	wantContents(t, m, "f", "ok")
}

func TestFailNth(t *testing.T) {
	inj := FailNth(OpWrite, 3, ErrEIO())
	var failed []int
	for i := 1; i <= 6; i++ {
		if inj(OpSync, "x") != nil || inj(OpRead, "x") != nil {
			t.Fatalf("FailNth(OpWrite) failed another op")
		}
		if err := inj(OpWrite, "x"); err != nil {
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("err = %v", err)
			}
			failed = append(failed, i)
		}
	}
	if len(failed) != 1 || failed[0] != 3 {
		t.Fatalf("failed calls = %v, want [3]", failed)
	}
}

func TestFailNthOnMemFS(t *testing.T) {
	m := NewMem()
	f := mustCreate(t, m, "f")
	m.SetInjector(FailNth(OpWrite, 2, ErrENOSPC()))
	mustWrite(t, f, "one ")
	if _, err := f.Write([]byte("two ")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second Write = %v, want ENOSPC", err)
	}
	mustWrite(t, f, "three")
	wantContents(t, m, "f", "one three")
}

func TestInjectorMayCrash(t *testing.T) {
	m := NewMem()
	f := mustCreate(t, m, "f")
	mustWrite(t, f, "durable")
	mustOK(t, "Sync", f.Sync())
	mustOK(t, "SyncDir", m.SyncDir("."))
	mustWrite(t, f, " lost")
	m.SetInjector(func(op Op, _ string) error {
		if op == OpSync {
			m.Crash() // power cut just before the fsync
		}
		return nil
	})
	if err := f.Sync(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Sync across a crash = %v, want fs.ErrClosed", err)
	}
	m.SetInjector(nil)
	wantContents(t, m, "f", "durable")
}

func TestOpenRWPositionAndWriteAt(t *testing.T) {
	m := NewMem()
	putFile(t, m, "f", "0123456789")
	f, err := m.OpenRW("f")
	mustOK(t, "OpenRW", err)
	if _, err := f.WriteAt([]byte("ab"), 2); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "XY") // at the end, not after the WriteAt
	wantContents(t, m, "f", "01ab456789XY")
	if _, err := f.WriteAt([]byte("x"), -1); err == nil {
		t.Error("WriteAt at a negative offset succeeded")
	}
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
	if err := f.Truncate(-1); err == nil {
		t.Error("Truncate(-1) succeeded")
	}
}

func TestReadFileWriteFileFlipBit(t *testing.T) {
	m := NewMem()
	mustOK(t, "MkdirAll", m.MkdirAll("d"))
	mustOK(t, "WriteFile", m.WriteFile("d/f", []byte{0x00, 0xff}))
	mustOK(t, "FlipBit", m.FlipBit("d/f", 0, 3))
	mustOK(t, "FlipBit", m.FlipBit("d/f", 1, 7))
	m.Crash() // WriteFile is durable, and so is the corruption
	got, err := m.ReadFile("d/f")
	mustOK(t, "ReadFile", err)
	if !bytes.Equal(got, []byte{0x08, 0x7f}) {
		t.Fatalf("after flips and crash = %x, want 087f", got)
	}
	for _, tc := range []struct {
		off int64
		bit uint
	}{{2, 0}, {-1, 0}, {0, 8}} {
		if err := m.FlipBit("d/f", tc.off, tc.bit); err == nil {
			t.Errorf("FlipBit(off %d, bit %d) succeeded", tc.off, tc.bit)
		}
	}
	_, err = m.ReadFile("d/missing")
	wantNotExist(t, "ReadFile", err)
	wantNotExist(t, "WriteFile", m.WriteFile("nodir/f", nil))
}

func TestWriteFileVisibleToOpenHandles(t *testing.T) {
	m := NewMem()
	f := mustCreate(t, m, "f")
	mustWrite(t, f, "abc")
	mustOK(t, "WriteFile", m.WriteFile("f", []byte("xyz!")))
	if got := handleContents(t, f); got != "xyz!" {
		t.Fatalf("handle sees %q, want xyz!", got)
	}
}

// TestConcurrentReadWrite runs appenders, readers and namespace operations
// at once; run it with -race. Readers check that whatever they see is a
// consistent prefix of the written pattern.
func TestConcurrentReadWrite(t *testing.T) {
	m := NewMem()
	const writes, chunk = 300, 64
	pattern := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, chunk) }
	w := mustCreate(t, m, "log")
	r, err := m.Open("log")
	mustOK(t, "Open", err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range writes {
			if _, err := w.Write(pattern(i)); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				_ = w.Sync()
			}
		}
	})
	for range 2 {
		wg.Go(func() { readPattern(t, r, writes*chunk, chunk, pattern) })
	}
	wg.Go(func() {
		for i := range 100 {
			name := fmt.Sprintf("other%d", i%5)
			putFile(t, m, name, "x")
			_, _ = m.List(".")
			_, _ = m.Stat("log")
			_ = m.SyncDir(".")
			_ = m.Remove(name)
		}
	})
	wg.Wait()
	wantContents(t, m, "log", string(bytes.Join(func() [][]byte {
		var all [][]byte
		for i := range writes {
			all = append(all, pattern(i))
		}
		return all
	}(), nil)))
}

func readPattern(t *testing.T, r File, total, chunk int, pattern func(int) []byte) {
	buf := make([]byte, chunk)
	for i := 0; i < total/chunk; {
		n, err := r.ReadAt(buf, int64(i*chunk))
		if err == io.EOF && n < chunk {
			continue // not written yet
		}
		if err != nil || !bytes.Equal(buf[:n], pattern(i)) {
			t.Errorf("chunk %d = %q, %v", i, buf[:n], err)
			return
		}
		i++
	}
}

// TestConcurrentCrash crashes while writers run: writers must end with
// fs.ErrClosed, and nothing may race.
func TestConcurrentCrash(t *testing.T) {
	m := NewMem()
	var files []File
	for i := range 4 {
		name := fmt.Sprintf("f%d", i)
		files = append(files, mustCreate(t, m, name))
	}
	mustOK(t, "SyncDir", m.SyncDir("."))
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Go(func() {
			for {
				_, err := f.Write([]byte("data"))
				if err == nil {
					err = f.Sync()
				}
				if err != nil {
					if !errors.Is(err, fs.ErrClosed) {
						t.Errorf("err = %v, want fs.ErrClosed", err)
					}
					return
				}
			}
		})
	}
	putFile(t, m, "other", "x") // let the writers get going
	m.Crash()
	wg.Wait()
	for i := range 4 {
		got, err := m.ReadFile(fmt.Sprintf("f%d", i))
		mustOK(t, "ReadFile", err)
		if len(got)%4 != 0 {
			t.Errorf("f%d has %d bytes, not whole synced writes", i, len(got))
		}
	}
}
