package vfs

import (
	"bytes"
	"testing"
)

// WriteAtomic leaves the old content or the new one, whatever fails and
// whenever the power goes.
func TestWriteAtomic(t *testing.T) {
	for _, failAt := range []Op{0, OpCreate, OpWrite, OpSync, OpRename, OpSyncDir} {
		m := NewMem()
		if err := m.MkdirAll("d"); err != nil {
			t.Fatal(err)
		}
		if err := WriteAtomic(m, "d/f", []byte("old")); err != nil {
			t.Fatal(err)
		}
		m.SetInjector(func(op Op, _ string) error {
			if op == failAt {
				return ErrEIO()
			}
			return nil
		})
		err := WriteAtomic(m, "d/f", []byte("new"))
		m.SetInjector(nil)
		if (err != nil) != (failAt != 0) {
			t.Fatalf("fail at %v: err %v", failAt, err)
		}
		m.Crash()
		got, err := ReadAll(m, "d/f")
		if err != nil || !(bytes.Equal(got, []byte("old")) || bytes.Equal(got, []byte("new"))) {
			t.Fatalf("fail at %v: after a crash %q %v", failAt, got, err)
		}
		if failAt == 0 && string(got) != "new" {
			t.Fatalf("a completed write was lost: %q", got)
		}
	}
}
