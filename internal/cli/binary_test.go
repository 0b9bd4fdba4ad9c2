package cli_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBinaryThroughPipes builds the real samsa binary and runs it as a
// shell would: lines piped into produce, consume piped into produce, and
// exit statuses.
func TestBinaryThroughPipes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "samsa")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/samsa").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	node := samsatestStart(t)
	env := []string{"SAMSA_BROKERS=" + node.Addr()}
	samsa := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cmd.Environ(), env...)
		return cmd
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := samsa(args...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("samsa %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	run("", "topic", "create", "src", "-p", "2")
	run("", "topic", "create", "dst", "-p", "3")
	run("a:1\nb:2\nc:3\nd:4\n", "produce", "src", "-K:", "-H", "via=pipe")

	// samsa consume src -e -f '%k:%v\n' | samsa produce dst -K:
	consume := samsa("consume", "src", "-e", "-f", `%k:%v\n`)
	produce := samsa("produce", "dst", "-K:")
	pipe, err := consume.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	produce.Stdin = pipe
	var produced bytes.Buffer
	produce.Stderr = &produced
	if err := consume.Start(); err != nil {
		t.Fatal(err)
	}
	if err := produce.Start(); err != nil {
		t.Fatal(err)
	}
	if err := consume.Wait(); err != nil {
		t.Fatalf("consume: %v", err)
	}
	if err := produce.Wait(); err != nil {
		t.Fatalf("produce: %v\n%s", err, produced.String())
	}
	if !strings.Contains(produced.String(), "produced 4 records to dst, 0 failed") {
		t.Errorf("produce's summary: %q", produced.String())
	}

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(run("", "consume", "dst", "-e", "--format", "json")), "\n") {
		var r consumedRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, str(r.Key)+"="+str(r.Value))
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "a=1 b=2 c=3 d=4" {
		t.Errorf("dst holds %v, want the four records of src", got)
	}

	// Failures exit non-zero and say why on stderr.
	cmd := samsa("consume", "missing", "-n", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
		!strings.Contains(stderr.String(), `samsa: topic "missing" does not exist`) {
		t.Errorf("consume of a missing topic: %v, stderr %q", err, stderr.String())
	}
}
