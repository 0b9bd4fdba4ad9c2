package gitrev

import (
	"os/exec"
	"strings"
	"testing"
)

// Describe names git's HEAD (perhaps marked dirty), and "unknown" where
// there is no checkout.
func TestDescribeNamesTheCheckout(t *testing.T) {
	got := Describe()
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		if got != "unknown" {
			t.Fatalf("outside a checkout Describe() = %q, want unknown", got)
		}
		return
	}
	if head := strings.TrimSpace(string(out)); strings.TrimSuffix(got, Dirty) != head {
		t.Fatalf("Describe() = %q, want %s with or without %q", got, head, Dirty)
	}
}
