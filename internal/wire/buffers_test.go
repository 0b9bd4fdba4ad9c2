package wire

import (
	"testing"
	"unsafe"
)

func TestGetBufferSizes(t *testing.T) {
	for _, c := range []struct{ n, cap int }{
		{0, 0},
		{1, 1},
		{32 << 10, 32 << 10}, // small: exactly what was asked
		{32<<10 + 1, 64 << 10},
		{64 << 10, 64 << 10},
		{64<<10 + 1, 128 << 10},
		{1 << 20, 1 << 20},
		{16 << 20, 16 << 20},
		{16<<20 + 1, 16<<20 + 1}, // beyond the classes: exactly what was asked
	} {
		b := GetBuffer(c.n)
		if len(b) != c.n || cap(b) != c.cap {
			t.Errorf("GetBuffer(%d): len %d cap %d, want len %d cap %d", c.n, len(b), cap(b), c.n, c.cap)
		}
	}
}

// A buffer put back is handed out again (sync.Pool may drop it under GC,
// so the test tries a few times), and one of a foreign capacity never is.
func TestPutBufferReuses(t *testing.T) {
	reused := false
	for range 10 {
		b := GetBuffer(300 << 10)
		PutBuffer(b)
		if unsafe.SliceData(GetBuffer(1<<19)) == unsafe.SliceData(b) {
			reused = true
			break
		}
	}
	if !reused {
		t.Fatal("a put 512 KiB buffer was never handed out again")
	}
	odd := make([]byte, 100<<10)
	PutBuffer(odd)
	for range 10 {
		if unsafe.SliceData(GetBuffer(100<<10)) == unsafe.SliceData(odd) {
			t.Fatal("a buffer of a capacity that is no class was pooled")
		}
	}
}
