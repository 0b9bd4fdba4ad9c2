//go:build !linux

package net

import (
	"syscall"

	"github.com/samsa-io/samsa/internal/wire"
)

const sendfileWorks = false

func (c *conn) sendfile(sc, fc syscall.Conn, r *wire.Region) error { return c.copyRegion(r) }
