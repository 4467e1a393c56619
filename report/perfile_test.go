package report

import (
	"bytes"
	"io"
	"testing"
)

// TestFileLabelMatched: with LabelMatched a file whose part is empty has
// no header, and the blank line between parts comes only between parts
// written; LabelHeader heads every file, empty or not.
func TestFileLabelMatched(t *testing.T) {
	parts := []struct{ file, out string }{{"a", ""}, {"b", "1\n"}, {"c", ""}, {"d", "2\n3\n"}, {"e", ""}}
	for _, tc := range []struct {
		label FileLabel
		want  string
	}{
		{LabelMatched, "==> b <==\n1\n\n==> d <==\n2\n3\n"},
		{LabelHeader, "==> a <==\n\n==> b <==\n1\n\n==> c <==\n\n==> d <==\n2\n3\n\n==> e <==\n"},
	} {
		var out bytes.Buffer
		written := false
		for i, p := range parts {
			w, finish := NewFileLabeller(&out, p.file, tc.label, i == 0, &written)
			io.WriteString(w, p.out)
			if err := finish(); err != nil {
				t.Fatal(err)
			}
		}
		if out.String() != tc.want {
			t.Errorf("label %d: %q, want %q", tc.label, out.String(), tc.want)
		}
	}
}
