package wire

import (
	"fmt"
	"io"
)

// Region is Len bytes of File from Off: record batches that a fetch
// response sends as they lie in a segment file. The connection writes it
// with sendfile(2) when File has a descriptor (it implements syscall.Conn,
// as *os.File does), so the bytes never enter user space; otherwise it
// reads them into a pooled buffer and writes that.
//
// The file must stay open and unchanged over the region until Release,
// which whoever holds the region calls exactly once: after writing it, or
// when abandoning it.
type Region struct {
	File io.ReaderAt
	Off  int64
	Len  int
	// Records is what the region holds, for metrics.
	Records int64
	release func()
}

// NewRegion returns a region whose Release calls release.
func NewRegion(f io.ReaderAt, off int64, n int, records int64, release func()) *Region {
	return &Region{File: f, Off: off, Len: n, Records: records, release: release}
}

// Release gives the file back; calls after the first do nothing.
func (r *Region) Release() {
	if f := r.release; f != nil {
		r.release = nil
		f()
	}
}

// AppendTo appends the region's bytes to dst.
func (r *Region) AppendTo(dst []byte) ([]byte, error) {
	n := len(dst)
	dst = append(dst, make([]byte, r.Len)...)
	if got, err := r.File.ReadAt(dst[n:], r.Off); got < r.Len {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dst[:n], fmt.Errorf("wire: reading a region of %d bytes at %d: %w", r.Len, r.Off, err)
	}
	return dst, nil
}

// Vec is a response (header and body, without the size prefix) made of
// bytes and file regions, in order: Bytes[:Cuts[0]], Regions[0],
// Bytes[Cuts[0]:Cuts[1]], Regions[1], ..., Bytes[Cuts[len-1]:]. A response
// without regions is its Bytes.
type Vec struct {
	Bytes   []byte
	Cuts    []int
	Regions []*Region
}

// Len is the response's size in bytes.
func (v *Vec) Len() int {
	n := len(v.Bytes)
	for _, r := range v.Regions {
		n += r.Len
	}
	return n
}

// Each calls chunk for every piece of bytes and region for every region,
// in order, stopping at the first error. Empty pieces of bytes are
// skipped.
func (v *Vec) Each(chunk func([]byte) error, region func(*Region) error) error {
	at := 0
	for i, r := range v.Regions {
		if cut := v.Cuts[i]; cut > at {
			if err := chunk(v.Bytes[at:cut]); err != nil {
				return err
			}
			at = cut
		}
		if err := region(r); err != nil {
			return err
		}
	}
	if at < len(v.Bytes) {
		return chunk(v.Bytes[at:])
	}
	return nil
}

// AppendTo appends the whole response, regions read from their files, to
// dst. It does not release the regions.
func (v *Vec) AppendTo(dst []byte) ([]byte, error) {
	err := v.Each(func(b []byte) error {
		dst = append(dst, b...)
		return nil
	}, func(r *Region) (err error) {
		dst, err = r.AppendTo(dst)
		return err
	})
	return dst, err
}

// ReleaseRegions releases every region.
func (v *Vec) ReleaseRegions() {
	for _, r := range v.Regions {
		r.Release()
	}
}
