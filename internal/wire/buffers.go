package wire

import (
	"math/bits"
	"sync"
)

// Buffers for large responses and the record data they carry, reused
// instead of allocated: a fresh megabyte costs the allocator a zeroing
// pass and page faults, and the garbage collector a cycle sooner, which
// together cost about as much as the copy into the socket (see the issue
// notes in docs/BENCHMARKS.md). Sizes are powers of two from 64 KiB to
// 16 MiB; requests up to 32 KiB and above 16 MiB are plain allocations.
const (
	minBufferShift = 16
	maxBufferShift = 24
)

var bufferPools [maxBufferShift - minBufferShift + 1]sync.Pool

// GetBuffer returns a buffer of length n whose contents are undefined.
// Give it back with PutBuffer once nothing refers to it any more.
func GetBuffer(n int) []byte {
	shift := max(bits.Len(uint(max(n, 1)-1)), minBufferShift)
	if n <= 1<<(minBufferShift-1) || shift > maxBufferShift {
		return make([]byte, max(n, 0))
	}
	if b, ok := bufferPools[shift-minBufferShift].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<shift)
}

// PutBuffer makes b's memory available to GetBuffer. The caller must hold
// the only reference to it. Buffers of other capacities are left to the
// garbage collector, so putting one that GetBuffer did not return is safe.
func PutBuffer(b []byte) {
	c := cap(b)
	shift := bits.Len(uint(c)) - 1
	if c == 0 || c != 1<<shift || shift < minBufferShift || shift > maxBufferShift {
		return
	}
	b = b[:0]
	bufferPools[shift-minBufferShift].Put(&b)
}
