// Package gitrev names the commit a report (make bench, make chaos) was
// made at.
package gitrev

import (
	"os/exec"
	"strings"
)

// Dirty is appended to the commit when the tree has uncommitted changes
// to tracked files.
const Dirty = " (with uncommitted changes)"

// Describe is the checked-out commit's short hash, with Dirty when the
// tree differs from it; "unknown" outside a git checkout.
func Describe() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += Dirty
	}
	return c
}
