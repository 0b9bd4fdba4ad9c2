package net

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

const sendfileWorks = true

// maxSendfile bounds one sendfile call (Linux sends at most 0x7ffff000).
const maxSendfile = 1 << 30

// sendfile sends a region from its file to the socket with sendfile(2), at
// the region's offset (never the file's position: reads are concurrent).
// A full socket buffer (EAGAIN) waits on the netpoller; each call that
// makes progress renews the write deadline, as connWriter does per chunk.
func (c *conn) sendfile(sc, fc syscall.Conn, r *wire.Region) error {
	dst, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	src, err := fc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := src.Control(func(fd uintptr) { serr = c.sendfileFrom(dst, int(fd), r.Off, r.Len) }); err != nil {
		return err
	}
	return serr
}

func (c *conn) sendfileFrom(dst syscall.RawConn, src int, off int64, n int) error {
	timeout := c.srv.cfg.IdleTimeout
	for n > 0 {
		if timeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(timeout))
		}
		var serr error
		err := dst.Write(func(fd uintptr) bool {
			for {
				m, err := syscall.Sendfile(int(fd), src, &off, min(n, maxSendfile))
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					return false // wait until the socket takes more
				case err != nil:
					serr = err
				case m == 0:
					serr = fmt.Errorf("net: sendfile: %w (the file is shorter than the region)", io.ErrUnexpectedEOF)
				default:
					n -= m
				}
				return true
			}
		})
		if err == nil {
			err = serr
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w (%v)", errStalled, timeout)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
