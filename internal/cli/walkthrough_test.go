package cli_test

import (
	"os"
	"path/filepath"
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

// TestNewUserWalkthrough runs the README's command-line example on a fresh
// node, as a new user would, and checks each step did what the README
// says.
func TestNewUserWalkthrough(t *testing.T) {
	node, c := start(t)
	cmds, stdins := readmeCommands(t)
	outs := map[string]result{}
	for i, args := range cmds {
		r := c.exec(stdins[i], args...)
		if r.err != nil {
			t.Fatalf("samsa %s: %v\n%s%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
		}
		outs[args[0]+" "+args[1]] = r
	}
	for _, step := range []string{"topic create", "produce greetings", "consume greetings", "topic describe", "cluster info"} {
		if _, ok := outs[step]; !ok {
			t.Fatalf("the README no longer shows `samsa %s`", step)
		}
	}

	d := c.describe("greetings")
	if len(d.Partitions) != 3 {
		t.Errorf("greetings has %d partitions, the README creates 3", len(d.Partitions))
	}
	if r := outs["produce greetings"]; !strings.Contains(r.stderr, "produced 2 records to greetings, 0 failed") {
		t.Errorf("produce said %q", r.stderr)
	}
	// Two lines, one per record, in partition order that depends on hashing:
	// compare as a set, with the partition and offset the broker holds.
	lines := strings.Split(strings.TrimSuffix(outs["consume greetings"].stdout, "\n"), "\n")
	recs := c.consumeJSON("greetings", "-e")
	if len(lines) != 2 || len(recs) != 2 {
		t.Fatalf("consume printed %q; the topic holds %d records", lines, len(recs))
	}
	for _, r := range recs {
		want := str(r.Key) + " " + str(r.Value) + " (partition " + strconv.Itoa(int(r.Partition)) + ", offset " + strconv.FormatInt(r.Offset, 10) + ")"
		if want != lines[0] && want != lines[1] {
			t.Errorf("consume output %q lacks %q", lines, want)
		}
	}
	if desc := outs["topic describe"].stdout; !strings.Contains(desc, "greetings") || !strings.Contains(desc, "HIGH-WATERMARK") {
		t.Errorf("topic describe printed:\n%s", desc)
	}
	if info := outs["cluster info"].stdout; !strings.Contains(info, node.ClusterID()) || !strings.Contains(info, "1 (and 0 internal)") {
		t.Errorf("cluster info printed:\n%s", info)
	}
}
