package vfs

import (
	"path/filepath"
	"testing"
)

// TestOSConformance runs the shared FS cases against the real file system.
func TestOSConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (FS, string) {
		return OS, filepath.ToSlash(t.TempDir())
	})
}
