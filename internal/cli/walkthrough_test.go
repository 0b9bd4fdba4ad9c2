package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readmeCommands returns the commands of the README's "Command line"
// example: each line as its samsa arguments and the stdin a `printf ... |`
// before it feeds.
func readmeCommands(t *testing.T) (cmds [][]string, stdins []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Command line\n")
	if !ok {
		t.Fatal(`README.md has no "## Command line" section`)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal(`README.md's "Command line" section has no sh block`)
	}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		stdin := ""
		if left, right, piped := strings.Cut(line, " | "); piped {
			words := shellWords(t, left)
			if len(words) != 2 || words[0] != "printf" {
				t.Fatalf("README line %q: only printf '...' | samsa is understood here", line)
			}
			stdin = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(words[1])
			line = right
		}
		words := shellWords(t, line)
		if len(words) == 0 || words[0] != "samsa" {
			t.Fatalf("README line %q does not run samsa", line)
		}
		cmds, stdins = append(cmds, words[1:]), append(stdins, stdin)
	}
	return cmds, stdins
}

// shellWords splits a line as sh does for the README's needs: blanks
// separate words, single quotes keep everything verbatim.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// step is one README command and what it printed.
type step struct {
	args []string
	result
}

// steps are the README's commands in order; nth finds the n-th (from 1)
// that starts with the given words.
type steps []step

func (ss steps) nth(t *testing.T, n int, words ...string) result {
	t.Helper()
	seen := 0
	for _, s := range ss {
		if len(s.args) >= len(words) && slices.Equal(s.args[:len(words)], words) {
			if seen++; seen == n {
				return s.result
			}
		}
	}
	t.Fatalf("the README no longer shows `samsa %s` %d time(s)", strings.Join(words, " "), n)
	return result{}
}

// TestNewUserWalkthrough runs the README's command-line example on a fresh
// node, as a new user would, and checks each step did what the README
// says.
func TestNewUserWalkthrough(t *testing.T) {
	node, c := start(t)
	cmds, stdins := readmeCommands(t)
	var ss steps
	for i, args := range cmds {
		r := c.exec(stdins[i], args...)
		if r.err != nil {
			t.Fatalf("samsa %s: %v\n%s%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
		}
		ss = append(ss, step{args: args, result: r})
	}

	d := c.describe("greetings")
	if len(d.Partitions) != 3 {
		t.Errorf("greetings has %d partitions, the README creates 3", len(d.Partitions))
	}
	if r := ss.nth(t, 1, "produce", "greetings"); !strings.Contains(r.stderr, "produced 2 records to greetings, 0 failed") {
		t.Errorf("produce said %q", r.stderr)
	}
	if r := ss.nth(t, 2, "produce", "greetings"); !strings.Contains(r.stderr, "produced 1 record to greetings, 0 failed") {
		t.Errorf("the second produce said %q", r.stderr)
	}
	// Two lines, one per record of the first produce, in partition order
	// that depends on hashing: compare as a set, with the partition and
	// offset the broker holds.
	lines := strings.Split(strings.TrimSuffix(ss.nth(t, 1, "consume", "greetings", "-g").stdout, "\n"), "\n")
	var recs []consumedRecord
	for _, r := range c.consumeJSON("greetings", "-e") {
		if k := str(r.Key); k == "k1" || k == "k2" {
			recs = append(recs, r)
		}
	}
	if len(lines) != 2 || len(recs) != 2 {
		t.Fatalf("consume printed %q; the topic holds %d records of the first produce", lines, len(recs))
	}
	for _, r := range recs {
		want := str(r.Key) + " " + str(r.Value) + " (partition " + strconv.Itoa(int(r.Partition)) + ", offset " + strconv.FormatInt(r.Offset, 10) + ")"
		if want != lines[0] && want != lines[1] {
			t.Errorf("consume output %q lacks %q", lines, want)
		}
	}

	// The group read everything (lag 0 on every partition, the empty one
	// included), then fell one record behind.
	totalLag := regexp.MustCompile(`(?m)^TOTAL-LAG\s+(\d+)$`)
	for n, want := range []string{"0", "1"} {
		out := ss.nth(t, n+1, "group", "describe", "readers").stdout
		if m := totalLag.FindStringSubmatch(out); m == nil || m[1] != want || !strings.Contains(out, "Empty") {
			t.Errorf("group describe %d: want total lag %s, printed:\n%s", n+1, want, out)
		}
		if rows := regexp.MustCompile(`(?m)^greetings\s+\d+\s+\d+\s+\d+\s+\d+\s`).FindAllString(out, -1); len(rows) != 3 {
			t.Errorf("group describe %d: want a committed offset and a lag for all 3 partitions, printed:\n%s", n+1, out)
		}
	}
	dry := ss.nth(t, 1, "group", "reset-offsets", "readers")
	if n := strings.Count(dry.stdout, "dry run: not committed"); n != 3 {
		t.Errorf("reset-offsets --dry-run planned %d partitions, want 3:\n%s", n, dry.stdout)
	}
	if n := strings.Count(ss.nth(t, 2, "group", "reset-offsets", "readers").stdout, " OK\n"); n != 3 {
		t.Errorf("reset-offsets reset %d partitions, want 3", n)
	}
	if g := c.describeGroup("readers"); g.TotalLag != 3 {
		t.Errorf("after the reset to the earliest, the group lags %d, want the 3 records", g.TotalLag)
	}
	if out := ss.nth(t, 1, "group", "list").stdout; !regexp.MustCompile(`(?m)^readers\s+Empty\s+consumer\s`).MatchString(out) {
		t.Errorf("group list printed:\n%s", out)
	}

	if desc := ss.nth(t, 1, "topic", "describe").stdout; !strings.Contains(desc, "greetings") || !strings.Contains(desc, "HIGH-WATERMARK") {
		t.Errorf("topic describe printed:\n%s", desc)
	}
	if info := ss.nth(t, 1, "cluster", "info").stdout; !strings.Contains(info, node.ClusterID()) || !strings.Contains(info, "1 (and 1 internal)") {
		t.Errorf("cluster info printed (one topic, and __consumer_offsets for the group):\n%s", info)
	}
}
