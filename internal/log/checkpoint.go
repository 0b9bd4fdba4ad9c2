package log

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/samsa-io/samsa/internal/vfs"
)

// Checkpoint files use Kafka's text format (CheckpointFile.java): a version
// line ("0"), a count line, then one entry per line with space-separated
// fields. They are written crash-safely: a temporary file, fsync, rename over
// the old one, fsync of the directory.

const checkpointVersion = 0

// writeCheckpoint atomically replaces name with the given entry lines.
func writeCheckpoint(fsys vfs.FS, name string, lines []string) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%d\n%d\n", checkpointVersion, len(lines))
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	return vfs.WriteAtomic(fsys, name, buf.Bytes())
}

// readCheckpoint returns the entry lines of name, each split into exactly
// fields fields. A missing file is no entries.
func readCheckpoint(fsys vfs.FS, name string, fields int) ([][]string, error) {
	data, err := vfs.ReadAll(fsys, name)
	if vfs.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		return strings.TrimSpace(sc.Text()), true
	}
	bad := func(why string) error { return fmt.Errorf("log: checkpoint %s: %s", name, why) }
	v, ok := next()
	if !ok || v != strconv.Itoa(checkpointVersion) {
		return nil, bad(fmt.Sprintf("unsupported version %q", v))
	}
	c, ok := next()
	n, err := strconv.Atoi(c)
	if !ok || err != nil || n < 0 || n > len(data) {
		return nil, bad(fmt.Sprintf("bad entry count %q", c))
	}
	entries := make([][]string, 0, n)
	for i := 0; i < n; i++ {
		line, ok := next()
		f := strings.Fields(line)
		if !ok || len(f) != fields {
			return nil, bad(fmt.Sprintf("entry %d: %q", i, line))
		}
		entries = append(entries, f)
	}
	return entries, nil
}
