package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLintRulesAligned: every column of lint --rules starts where its
// header does, whatever a rule's cell (WS601's 48-character reference ran
// into the meaning).
func TestLintRulesAligned(t *testing.T) {
	var b strings.Builder
	if err := WriteLintRules(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	head := lines[0]
	for _, col := range []string{"NAME", "SEVERITY", "ON", "REFERENCE", "MEANING"} {
		at := utf8.RuneCountInString(head[:strings.Index(head, col)])
		for _, l := range lines[1:] {
			r := []rune(l)
			if len(r) <= at || r[at-1] != ' ' || r[at] == ' ' {
				t.Errorf("column %s (at %d) not aligned in %q", col, at, l)
			}
		}
	}
}
