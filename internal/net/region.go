package net

import (
	"fmt"
	"io"
	"syscall"

	"github.com/samsa-io/samsa/internal/wire"
)

// copyChunk bounds the buffer a region without a file descriptor is read
// into.
const copyChunk = 1 << 20

// writeVec writes a response's bytes and regions in order and releases
// the regions, written or not.
func (c *conn) writeVec(v *wire.Vec) error {
	defer v.ReleaseRegions()
	return v.Each(func(b []byte) error {
		_, err := c.bw.Write(b)
		return err
	}, c.writeRegion)
}

// writeRegion writes a file region: with sendfile when both the socket
// and the file have descriptors, after flushing what is buffered before
// it; otherwise by reading it into a pooled buffer (an in-memory file, a
// TLS connection).
func (c *conn) writeRegion(r *wire.Region) error {
	if r.Len == 0 {
		return nil
	}
	if sc, ok := c.nc.(syscall.Conn); ok {
		if fc, ok := r.File.(syscall.Conn); ok && sendfileWorks {
			if err := c.bw.Flush(); err != nil {
				return err
			}
			return c.sendfile(sc, fc, r)
		}
	}
	return c.copyRegion(r)
}

// copyRegion reads a region into a pooled buffer, a chunk at a time, and
// writes it.
func (c *conn) copyRegion(r *wire.Region) error {
	buf := wire.GetBuffer(min(r.Len, copyChunk))
	defer wire.PutBuffer(buf)
	for off := 0; off < r.Len; {
		n := min(len(buf), r.Len-off)
		got, err := r.File.ReadAt(buf[:n], r.Off+int64(off))
		if got < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("net: reading %d bytes of a file at %d: %w", n, r.Off+int64(off), err)
		}
		if _, err := c.bw.Write(buf[:n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}
