// Package layout holds the repository's shape checks (issue 21): file
// sizes, the command's size, the README's package map, and no type
// assertion that selects an ability of a stage. It has no code of its own.
package layout

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	maxFileLines = 700  // any non-test Go file
	maxCmdLines  = 1200 // cmd/wsdump, non-test files together
)

// root is the module's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s", dir)
	}
	return dir
}

// sources returns the module's non-test Go files by package directory
// (testdata and node_modules left out); with tests, the test files too.
func sources(t *testing.T, tests bool) map[string][]string {
	t.Helper()
	top := root(t)
	pkgs := map[string][]string{}
	err := filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && (tests || !strings.HasSuffix(p, "_test.go")) {
			rel, _ := filepath.Rel(top, filepath.Dir(p))
			pkgs[filepath.ToSlash(rel)] = append(pkgs[filepath.ToSlash(rel)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func lines(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestFileSizes(t *testing.T) {
	top := root(t)
	cmd := 0
	for dir, files := range sources(t, false) {
		for _, f := range files {
			n := lines(t, f)
			if n >= maxFileLines {
				rel, _ := filepath.Rel(top, f)
				t.Errorf("%s: %d lines, the most is %d: split it by job", rel, n, maxFileLines-1)
			}
			if dir == "cmd/wsdump" {
				cmd += n
			}
		}
	}
	if cmd >= maxCmdLines {
		t.Errorf("cmd/wsdump: %d lines without tests, the most is %d: flags and wiring only", cmd, maxCmdLines-1)
	}
	t.Logf("cmd/wsdump: %d lines", cmd)
}

// TestReadmeLayout: every package (test-only ones too) is a row of the
// README's Layout table, and every row is a package.
func TestReadmeLayout(t *testing.T) {
	top := root(t)
	f, err := os.Open(filepath.Join(top, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]bool{}
	row := regexp.MustCompile("^\\| `([a-z0-9/]+)` \\|")
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "## ") {
			in = l == "## Layout"
			continue
		}
		if m := row.FindStringSubmatch(l); in && m != nil {
			rows[m[1]] = true
		}
	}
	var missing []string
	for dir := range sources(t, true) {
		if !rows[dir] {
			missing = append(missing, dir)
		}
		delete(rows, dir)
	}
	sort.Strings(missing)
	for _, d := range missing {
		t.Errorf("package %s has no row in the README's Layout table", d)
	}
	for d := range rows {
		t.Errorf("the README's Layout table has a row for %s, which is not a package", d)
	}
}

// stdIdioms are the interface literals of the standard library's idioms,
// not abilities of ours: Unwrap (a wrapped io.Writer), SetIV
// (crypto/cipher's CBC decrypters).
var stdIdioms = map[string]bool{"Unwrap": true, "SetIV": true}

// TestNoAbilityAssertions: no stage's or source's abilities are found by
// a type assertion to one of the module's interfaces (or an interface
// literal, or a stage's concrete type): what a stage can take is declared (record.Sink, one method),
// what it needs to know is passed as options.
func TestNoAbilityAssertions(t *testing.T) {
	fset := token.NewFileSet()
	type file struct {
		pkg string
		f   *ast.File
	}
	var files []file
	ifaces := map[string]bool{} // "pkg.Name" of every interface type the module declares
	stages := map[string]bool{} // "pkg.Name" of every type with a Put or Handshake method: a stage
	for dir, paths := range sources(t, false) {
		for _, p := range paths {
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, file{dir, f})
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && (fd.Name.Name == "Put" || fd.Name.Name == "Handshake") {
					rt := fd.Recv.List[0].Type
					if st, ok := rt.(*ast.StarExpr); ok {
						rt = st.X
					}
					if id, ok := rt.(*ast.Ident); ok {
						stages[f.Name.Name+"."+id.Name] = true
					}
				}
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if _, ok := ts.Type.(*ast.InterfaceType); ok {
						ifaces[f.Name.Name+"."+ts.Name.Name] = true
					}
				}
			}
		}
	}
	for _, fl := range files {
		ast.Inspect(fl.f, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil {
				return true // a type switch's x.(type)
			}
			name := ""
			switch ty := ta.Type.(type) {
			case *ast.InterfaceType:
				if len(ty.Methods.List) != 1 || len(ty.Methods.List[0].Names) != 1 || !stdIdioms[ty.Methods.List[0].Names[0].Name] {
					name = "an interface literal"
				}
			case *ast.Ident:
				if ifaces[fl.f.Name.Name+"."+ty.Name] {
					name = ty.Name
				}
			case *ast.StarExpr: // a concrete stage: *health.Tracker, *filter.Filter
				switch x := ty.X.(type) {
				case *ast.Ident:
					if stages[fl.f.Name.Name+"."+x.Name] {
						name = "*" + x.Name
					}
				case *ast.SelectorExpr:
					if p, ok := x.X.(*ast.Ident); ok && stages[p.Name+"."+x.Sel.Name] {
						name = "*" + p.Name + "." + x.Sel.Name
					}
				}
			case *ast.SelectorExpr:
				if x, ok := ty.X.(*ast.Ident); ok && ifaces[x.Name+"."+ty.Sel.Name] {
					name = x.Name + "." + ty.Sel.Name
				}
			}
			if name != "" {
				t.Errorf("%s: a type assertion to %s selects an ability: declare it or pass it as an option", fset.Position(ta.Pos()), name)
			}
			return true
		})
	}
}
