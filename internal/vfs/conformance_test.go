package vfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"testing"
)

// conformanceCase is behaviour every FS must share. root is an existing,
// empty directory.
type conformanceCase struct {
	name string
	run  func(t *testing.T, fsys FS, root string)
}

// runConformance runs every conformance case against a fresh FS from newFS.
func runConformance(t *testing.T, newFS func(t *testing.T) (FS, string)) {
	for _, c := range conformanceCases {
		t.Run(c.name, func(t *testing.T) {
			fsys, root := newFS(t)
			c.run(t, fsys, root)
		})
	}
}

var conformanceCases = []conformanceCase{
	{"WriteRead", testWriteRead},
	{"ReadAtEOF", testReadAtEOF},
	{"OpenRWAppends", testOpenRWAppends},
	{"WriteAtExtendsWithZeros", testWriteAtZeros},
	{"OpenIsReadOnly", testOpenReadOnly},
	{"Missing", testMissing},
	{"CreateTruncates", testCreateTruncates},
	{"ListSorted", testListSorted},
	{"Stat", testStat},
	{"RenameReplaces", testRenameReplaces},
	{"RenameDir", testRenameDir},
	{"RemoveOpenFile", testRemoveOpenFile},
	{"RemoveDir", testRemoveDir},
	{"RemoveAll", testRemoveAll},
	{"Truncate", testTruncate},
	{"ClosedHandle", testClosedHandle},
	{"SyncAndSyncDir", testSyncAndSyncDir},
	{"MkdirAll", testMkdirAll},
}

// --- helpers shared by all tests in the package ---

func mustCreate(t *testing.T, fsys FS, name string) File {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return f
}

func mustWrite(t *testing.T, f File, data string) {
	t.Helper()
	if n, err := f.Write([]byte(data)); err != nil || n != len(data) {
		t.Fatalf("Write(%q) = %d, %v", data, n, err)
	}
}

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// putFile creates name with data, syncs and closes it (no SyncDir).
func putFile(t *testing.T, fsys FS, name, data string) {
	t.Helper()
	f := mustCreate(t, fsys, name)
	mustWrite(t, f, data)
	mustOK(t, "Sync", f.Sync())
	mustOK(t, "Close", f.Close())
}

// contents reads name through Open, Size and ReadAt.
func contents(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer f.Close()
	return handleContents(t, f)
}

func handleContents(t *testing.T, f File) string {
	t.Helper()
	size, err := f.Size()
	mustOK(t, "Size", err)
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d, %v; want %d", n, err, len(buf))
	}
	return string(buf)
}

func wantContents(t *testing.T, fsys FS, name, want string) {
	t.Helper()
	if got := contents(t, fsys, name); got != want {
		t.Fatalf("%s = %q, want %q", name, got, want)
	}
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !IsNotExist(err) {
		t.Fatalf("%s: err = %v, want fs.ErrNotExist", what, err)
	}
}

func wantList(t *testing.T, fsys FS, dir string, want ...string) {
	t.Helper()
	got, err := fsys.List(dir)
	mustOK(t, "List "+dir, err)
	if !slices.Equal(got, want) {
		t.Fatalf("List(%q) = %q, want %q", dir, got, want)
	}
}

// --- the cases ---

func testWriteRead(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	f := mustCreate(t, fsys, name)
	defer f.Close()
	mustWrite(t, f, "hello ")
	mustWrite(t, f, "world")
	if size, err := f.Size(); err != nil || size != 11 {
		t.Fatalf("Size = %d, %v; want 11", size, err)
	}
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
		t.Fatalf("ReadAt(5, 6) = %d, %v, %q", n, err, buf)
	}
	wantContents(t, fsys, name, "hello world")
}

func testReadAtEOF(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	putFile(t, fsys, name, "abcdef")
	f, err := fsys.Open(name)
	mustOK(t, "Open", err)
	defer f.Close()
	tests := []struct {
		off   int64
		size  int
		wantN int
		want  string
		eof   bool
	}{
		{0, 6, 6, "abcdef", false},
		{3, 10, 3, "def", true},
		{6, 4, 0, "", true},
		{100, 4, 0, "", true},
		{2, 0, 0, "", false},
	}
	for _, tc := range tests {
		buf := make([]byte, tc.size)
		n, err := f.ReadAt(buf, tc.off)
		if n != tc.wantN || string(buf[:n]) != tc.want || (err == io.EOF) != tc.eof || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d bytes, off %d) = %d, %v, %q; want %d, eof=%v, %q",
				tc.size, tc.off, n, err, buf[:n], tc.wantN, tc.eof, tc.want)
		}
	}
}

func testOpenRWAppends(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	putFile(t, fsys, name, "abc")
	f, err := fsys.OpenRW(name)
	mustOK(t, "OpenRW", err)
	mustWrite(t, f, "def")
	mustWrite(t, f, "gh")
	mustOK(t, "Close", f.Close())
	wantContents(t, fsys, name, "abcdefgh")
}

func testWriteAtZeros(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	f := mustCreate(t, fsys, name)
	defer f.Close()
	if n, err := f.WriteAt([]byte("xy"), 4); n != 2 || err != nil {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	mustWrite(t, f, "ab") // the handle's position is still 0
	if _, err := f.WriteAt([]byte("Z"), 3); err != nil {
		t.Fatal(err)
	}
	wantContents(t, fsys, name, "ab\x00Zxy")
}

func testOpenReadOnly(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	putFile(t, fsys, name, "abc")
	f, err := fsys.Open(name)
	mustOK(t, "Open", err)
	defer f.Close()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write on a read-only handle succeeded")
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on a read-only handle succeeded")
	}
	if err := f.Truncate(0); err == nil {
		t.Error("Truncate on a read-only handle succeeded")
	}
	wantContents(t, fsys, name, "abc")
}

func testMissing(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "nope")
	_, err := fsys.Open(name)
	wantNotExist(t, "Open", err)
	_, err = fsys.OpenRW(name)
	wantNotExist(t, "OpenRW", err)
	_, err = fsys.Stat(name)
	wantNotExist(t, "Stat", err)
	wantNotExist(t, "Remove", fsys.Remove(name))
	wantNotExist(t, "Rename", fsys.Rename(name, path.Join(root, "other")))
	_, err = fsys.List(name)
	wantNotExist(t, "List", err)
	_, err = fsys.Create(path.Join(root, "nodir", "f"))
	wantNotExist(t, "Create in a missing directory", err)
	wantNotExist(t, "SyncDir", fsys.SyncDir(name))
}

func testCreateTruncates(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	putFile(t, fsys, name, "old contents")
	f := mustCreate(t, fsys, name)
	mustWrite(t, f, "new")
	mustOK(t, "Close", f.Close())
	wantContents(t, fsys, name, "new")
}

func testListSorted(t *testing.T, fsys FS, root string) {
	for _, n := range []string{"c", "a", "b.log"} {
		putFile(t, fsys, path.Join(root, n), n)
	}
	mustOK(t, "MkdirAll", fsys.MkdirAll(path.Join(root, "b")))
	mustOK(t, "MkdirAll", fsys.MkdirAll(path.Join(root, "b", "inner")))
	wantList(t, fsys, root, "a", "b", "b.log", "c")
	wantList(t, fsys, root+"/", "a", "b", "b.log", "c")
	wantList(t, fsys, path.Join(root, "b"), "inner")
	wantList(t, fsys, path.Join(root, "b", "inner"))
}

func testStat(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f.log")
	putFile(t, fsys, name, "12345")
	st, err := fsys.Stat(name)
	mustOK(t, "Stat", err)
	if st.Name() != "f.log" || st.Size() != 5 || st.IsDir() {
		t.Errorf("Stat(file) = %q size %d dir %v", st.Name(), st.Size(), st.IsDir())
	}
	dir := path.Join(root, "d")
	mustOK(t, "MkdirAll", fsys.MkdirAll(dir))
	st, err = fsys.Stat(dir + "/")
	mustOK(t, "Stat", err)
	if st.Name() != "d" || !st.IsDir() {
		t.Errorf("Stat(dir) = %q dir %v", st.Name(), st.IsDir())
	}
}

func testRenameReplaces(t *testing.T, fsys FS, root string) {
	a, b := path.Join(root, "a"), path.Join(root, "b")
	putFile(t, fsys, a, "new")
	putFile(t, fsys, b, "old")
	mustOK(t, "Rename", fsys.Rename(a, b))
	wantContents(t, fsys, b, "new")
	_, err := fsys.Stat(a)
	wantNotExist(t, "Stat(old name)", err)
	wantList(t, fsys, root, "b")
}

func testRenameDir(t *testing.T, fsys FS, root string) {
	from, to := path.Join(root, "p1"), path.Join(root, "p1.deleted")
	mustOK(t, "MkdirAll", fsys.MkdirAll(path.Join(from, "sub")))
	putFile(t, fsys, path.Join(from, "sub", "f"), "data")
	mustOK(t, "Rename", fsys.Rename(from, to))
	wantContents(t, fsys, path.Join(to, "sub", "f"), "data")
	wantList(t, fsys, root, "p1.deleted")
	_, err := fsys.Stat(from)
	wantNotExist(t, "Stat(old dir)", err)
}

func testRemoveOpenFile(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	f := mustCreate(t, fsys, name)
	defer f.Close()
	mustWrite(t, f, "abc")
	mustOK(t, "Remove", fsys.Remove(name))
	_, err := fsys.Stat(name)
	wantNotExist(t, "Stat after Remove", err)
	mustWrite(t, f, "def")
	if got := handleContents(t, f); got != "abcdef" {
		t.Fatalf("unlinked file = %q, want abcdef", got)
	}
	wantList(t, fsys, root)
}

func testRemoveDir(t *testing.T, fsys FS, root string) {
	dir := path.Join(root, "d")
	mustOK(t, "MkdirAll", fsys.MkdirAll(dir))
	putFile(t, fsys, path.Join(dir, "f"), "x")
	if err := fsys.Remove(dir); err == nil {
		t.Fatal("Remove of a non-empty directory succeeded")
	}
	mustOK(t, "Remove file", fsys.Remove(path.Join(dir, "f")))
	mustOK(t, "Remove dir", fsys.Remove(dir))
	wantList(t, fsys, root)
}

func testRemoveAll(t *testing.T, fsys FS, root string) {
	dir := path.Join(root, "d")
	mustOK(t, "MkdirAll", fsys.MkdirAll(path.Join(dir, "x", "y")))
	putFile(t, fsys, path.Join(dir, "x", "y", "f"), "1")
	putFile(t, fsys, path.Join(dir, "g"), "2")
	mustOK(t, "RemoveAll", fsys.RemoveAll(dir))
	_, err := fsys.Stat(path.Join(dir, "x"))
	wantNotExist(t, "Stat after RemoveAll", err)
	mustOK(t, "RemoveAll of a missing path", fsys.RemoveAll(dir))
	wantList(t, fsys, root)
}

func testTruncate(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	f := mustCreate(t, fsys, name)
	defer f.Close()
	mustWrite(t, f, "hello")
	mustOK(t, "Truncate", f.Truncate(2))
	wantContents(t, fsys, name, "he")
	mustOK(t, "Truncate", f.Truncate(4))
	wantContents(t, fsys, name, "he\x00\x00")
}

func testClosedHandle(t *testing.T, fsys FS, root string) {
	f := mustCreate(t, fsys, path.Join(root, "f"))
	mustOK(t, "Close", f.Close())
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Write after Close: %v, want fs.ErrClosed", err)
	}
	if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want fs.ErrClosed", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v, want fs.ErrClosed", err)
	}
}

func testSyncAndSyncDir(t *testing.T, fsys FS, root string) {
	name := path.Join(root, "f")
	f := mustCreate(t, fsys, name)
	mustWrite(t, f, "data")
	mustOK(t, "Sync", f.Sync())
	mustOK(t, "Close", f.Close())
	mustOK(t, "SyncDir", fsys.SyncDir(root))
	mustOK(t, "SyncDir with slash", fsys.SyncDir(root+"/"))
	r, err := fsys.Open(name)
	mustOK(t, "Open", err)
	defer r.Close()
	mustOK(t, "Sync via a read-only handle", r.Sync())
}

func testMkdirAll(t *testing.T, fsys FS, root string) {
	dir := path.Join(root, "a", "b", "c")
	mustOK(t, "MkdirAll", fsys.MkdirAll(dir))
	mustOK(t, "MkdirAll again", fsys.MkdirAll(dir+"/"))
	putFile(t, fsys, path.Join(root, "file"), "x")
	if err := fsys.MkdirAll(path.Join(root, "file", "sub")); err == nil {
		t.Error("MkdirAll under a file succeeded")
	}
	wantContents(t, fsys, path.Join(root, "file"), "x")
}
