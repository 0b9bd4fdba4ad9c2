// Command schemagen writes internal/wire's table of request layouts from
// the protocol definitions franz-go ships (generate/definitions in the
// github.com/twmb/franz-go module, the same DSL kmsg is generated from).
//
// Run it through go generate in internal/wire; CI does not run it, the
// output is committed and a test checks it is current.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const module = "github.com/twmb/franz-go"

func main() {
	out := flag.String("o", "schema_gen.go", "output file")
	defs := flag.String("defs", "", "definitions directory (default: the franz-go module's, from go list)")
	flag.Parse()
	src, err := generate(*defs)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

// generate returns the formatted Go source of the table.
func generate(defs string) ([]byte, error) {
	source := "the given definitions"
	if defs == "" {
		dir, version, err := moduleDir()
		if err != nil {
			return nil, err
		}
		defs = filepath.Join(dir, "generate", "definitions")
		source = module + "@" + version + " generate/definitions"
	}
	reqs, err := parseDir(defs)
	if err != nil {
		return nil, err
	}
	return emit(reqs, source)
}

// moduleDir finds franz-go's directory in the module cache, at the
// version go.mod requires.
func moduleDir() (dir, version string, err error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", module).Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	dir, version, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || dir == "" {
		return "", "", fmt.Errorf("go list -m %s: no directory (run go mod download)", module)
	}
	return dir, version, nil
}

// parseDir parses the enums, then every numbered definition file in order.
// misc holds record and internal-topic formats, never request bodies.
func parseDir(dir string) ([]request, error) {
	p := &parser{enums: map[string]string{}, named: map[string]node{}}
	raw, err := os.ReadFile(filepath.Join(dir, "enums"))
	if err != nil {
		return nil, err
	}
	if err := p.parseEnums(string(raw)); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); n != "" && n[0] >= '0' && n[0] <= '9' {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		if err := p.parseFile(n, string(raw)); err != nil {
			return nil, err
		}
	}
	return p.requests, nil
}
