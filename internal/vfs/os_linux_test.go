package vfs

import (
	"path/filepath"
	"syscall"
	"testing"
)

func allocated(t *testing.T, name string) int64 {
	var st syscall.Stat_t
	if err := syscall.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// TestOSAllocateKeepsSize: Allocate reserves blocks without changing the
// size, and Truncate to the size gives them back.
func TestOSAllocateKeepsSize(t *testing.T) {
	name := filepath.Join(t.TempDir(), "seg")
	f, err := OS.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 10000)); err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(0, 8<<20); err != nil {
		t.Fatal(err)
	}
	if size, _ := f.Size(); size != 10000 {
		t.Fatalf("size %d after Allocate, want 10000", size)
	}
	if got := allocated(t, name); got < 8<<20 {
		t.Skipf("file system did not reserve (%d bytes allocated): fallocate unsupported here", got)
	}
	if err := f.Truncate(10000); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, name); got >= 1<<20 {
		t.Fatalf("%d bytes still allocated after Truncate to the size", got)
	}
}
