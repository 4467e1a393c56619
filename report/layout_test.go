package report

import (
	"bytes"
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOutputInOnePlace (issue 21): the packages below report return data
// and render nothing: they do not import report nor write to an
// io.Writer; and no source file of them or of report reaches 700 lines.
func TestOutputInOnePlace(t *testing.T) {
	for _, dir := range []string{"../health", "../lint", "../appproto", "../internal/text"} {
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, bad := range []string{"github.com/wsdump/wsdump/report", "io", "encoding/xml", "text/tabwriter"} {
			if slices.Contains(p.Imports, bad) {
				t.Errorf("%s imports %s", dir, bad)
			}
		}
	}
	for _, dir := range []string{".", "../health", "../lint", "../appproto", "../internal/text"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(b, []byte("\n")); n >= 700 {
				t.Errorf("%s: %d lines", f, n)
			}
		}
	}
}
