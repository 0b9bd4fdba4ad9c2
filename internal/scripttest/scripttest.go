// Package scripttest runs the state machines' script-driven tests (the
// coordinators', the controller's, partition replication's), as etcd
// raft's interaction tests do: testdata/*.txt files of
// cases, each a command line, a "----" line, the expected output and a
// blank line. Lines starting with # between cases are comments.
package scripttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Command executes one command line of a script and returns its output;
// where is the script's file:line, for failures.
type Command func(t *testing.T, where, line string) string

// Run runs every testdata/*.txt as a subtest, each against the Command
// that start returns for it. With rewrite it writes the outputs it got as
// the expected ones instead of checking them (then read the diff).
func Run(t *testing.T, rewrite bool, start func() Command) {
	for _, f := range Files(t) {
		t.Run(Name(f), func(t *testing.T) { RunFile(t, f, rewrite, start()) })
	}
}

// Files lists testdata/*.txt, failing t when there is none.
func Files(t *testing.T) []string {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	return files
}

// Name is a script's subtest name: its file name without .txt.
func Name(path string) string { return strings.TrimSuffix(filepath.Base(path), ".txt") }

// RunFile runs one script against run (see Run).
func RunFile(t *testing.T, path string, rewrite bool, run Command) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: command without ----", path, i+1)
		}
		var want []string
		j := i + 2
		for ; j < len(lines) && lines[j] != ""; j++ {
			want = append(want, lines[j])
		}
		got := run(t, fmt.Sprintf("%s:%d", path, i+1), line)
		if !rewrite && got != strings.Join(want, "\n") {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, i+1, line, got, strings.Join(want, "\n"))
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n", line, got)
		i = j - 1
	}
	if rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Args are a command line's key=value arguments (KV) and the others, in
// order (Pos).
type Args struct {
	KV  map[string]string
	Pos []string
}

// ParseArgs splits a command line's fields after the command name.
func ParseArgs(fields []string) Args {
	a := Args{KV: map[string]string{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.KV[k] = v
		} else {
			a.Pos = append(a.Pos, f)
		}
	}
	return a
}

// Has reports whether key k was given.
func (a Args) Has(k string) bool { _, ok := a.KV[k]; return ok }

// Int is key k as an integer, def when absent; a malformed one panics
// (a broken script).
func (a Args) Int(k string, def int64) int64 {
	v, ok := a.KV[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("scripttest: %s=%q is not an integer", k, v))
	}
	return n
}

// Duration is key k as a time.Duration, def when absent.
func (a Args) Duration(k string, def time.Duration) time.Duration {
	v, ok := a.KV[k]
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("scripttest: %s=%q is not a duration", k, v))
	}
	return d
}
