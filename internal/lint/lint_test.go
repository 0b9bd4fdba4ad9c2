// Package lint holds tests that enforce the package rules of
// shared/ARCHITECTURE.md ("Packages and layers").
package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/samsa-io/samsa/"

// allowed lists, for each package of the architecture table, the internal
// packages its non-test code may import. A package missing here fails the
// test: add its row to ARCHITECTURE.md and here together.
var allowed = map[string][]string{
	"internal/vfs":         {},
	"internal/record":      {},
	"internal/config":      {},
	"internal/metadata":    {"internal/config"},
	"internal/wire":        {},
	"internal/log":         {"internal/vfs", "internal/record"},
	"internal/auth":        {"internal/metadata"},
	"internal/raft":        {"internal/vfs"},
	"internal/partition":   {"internal/log", "internal/record", "internal/metadata", "internal/wire"},
	"internal/controller":  {"internal/metadata", "internal/raft", "internal/config"},
	"internal/coordinator": {"internal/metadata", "internal/record"},
	"internal/api":         {"internal/auth", "internal/metadata", "internal/config", "internal/wire"},
	"internal/net":         {"internal/wire", "internal/api", "internal/auth"},
	"internal/registry":    {"internal/config"},
	"internal/metrics":     {},
	"internal/lint":        {},
	// Loopback ports for servers tests start as processes; tests only.
	"internal/testport": {},
	// The commit make bench's and make chaos's reports name.
	"internal/gitrev": {},
	// The script-test runner, imported by tests only.
	"internal/scripttest": {},
	// The command line: Kafka clients only. Its packages share one row, so a
	// noun may use the shared kit (internal/cli/kit) and nothing else of ours.
	"internal/cli": {},
	// The embeddable broker for tests (ARCHITECTURE: "Public Go packages").
	"samsatest": {"internal/broker", "internal/testport"},
	// make bench's harness and its kfake server: Kafka clients, like the
	// command line whose perf functions they drive (samsa itself runs as a
	// separate process).
	"bench": {"internal/cli", "internal/testport", "internal/gitrev"},
	// make chaos's fault suite: runs `samsa server` processes and talks to
	// them as a Kafka client (and through its own TCP proxies).
	"chaos": {"internal/testport", "internal/gitrev"},
}

// anything marks packages that may import every internal package.
var anything = map[string]bool{"internal/broker": true, "cmd/samsa": true}

// rowOf maps a package directory to its row: subpackages (coordinator/group)
// share their parent's row.
func rowOf(pkg string) string {
	for row := range allowed {
		if pkg == row || strings.HasPrefix(pkg, row+"/") {
			return row
		}
	}
	for row := range anything {
		if pkg == row || strings.HasPrefix(pkg, row+"/") {
			return row
		}
	}
	if strings.HasPrefix(pkg, "internal/cli") || strings.HasPrefix(pkg, "streams") {
		return "client-only"
	}
	return ""
}

func TestImportsFollowTheArchitecture(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, im := range f.Imports {
			if path := strings.Trim(im.Path.Value, `"`); strings.HasPrefix(path, module) {
				imports[pkg][strings.TrimPrefix(path, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 3 {
		t.Fatalf("found only %d packages: is the walk rooted right?", len(imports))
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		checkPackage(t, pkg, imports[pkg])
	}
}

func checkPackage(t *testing.T, pkg string, imps map[string]bool) {
	row := rowOf(pkg)
	switch {
	case row == "":
		t.Errorf("%s is not in the architecture table (shared/ARCHITECTURE.md and allowed here)", pkg)
		return
	case anything[row]:
		return
	}
	ok := map[string]bool{"internal/metrics": true}
	for _, a := range allowed[row] {
		ok[a] = true
	}
	for imp := range imps {
		if imp == pkg || strings.HasPrefix(imp, row+"/") || ok[rowOf(imp)] && rowOf(imp) != "" {
			continue
		}
		t.Errorf("%s imports %s, which its row does not allow", pkg, imp)
	}
}

func TestLintSeesThisRepository(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "go.mod")); err != nil {
		t.Fatalf("lint test must run from internal/lint: %v", err)
	}
}
