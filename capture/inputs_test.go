package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExpandInputs: globs and directories expand sorted by name, one
// level deep; a file named twice is read once; what names nothing is an
// error of the list, said on stderr.
func TestExpandInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.pcap", "a.pcap", "sub/c.pcap"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	var stderr bytes.Buffer
	l := ExpandInputs([]string{dir, filepath.Join(dir, "*.pcap"), b, filepath.Join(dir, "none*.pcap"), filepath.Join(dir, "missing.pcap")}, &stderr)
	if got := strings.Join(l.Files, " "); got != a+" "+b {
		t.Errorf("files %q, want %q", got, a+" "+b)
	}
	if len(l.Errs) != 2 {
		t.Errorf("errors %v, want 2 (a glob matching nothing, a missing file)", l.Errs)
	}
	for _, want := range []string{"sub: a directory, not read", "none*.pcap: no file matches", "missing.pcap"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr has no %q:\n%s", want, stderr.String())
		}
	}
	if !Single([]string{a}) || Single([]string{dir}) || Single([]string{a, b}) || !Single([]string{"-"}) {
		t.Error("Single: one plain file or standard input only")
	}
}
