package report

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/wsdump/wsdump/lint"
)

// WriteLint writes lint's results in format: jsonl, junit or the table.
func WriteLint(w io.Writer, format string, results []lint.Result, o LintOptions) error {
	switch format {
	case "jsonl":
		return WriteLintJSONL(w, results, o)
	case "junit":
		return WriteLintJUnit(w, results, o)
	default:
		return WriteLintTable(w, results, o)
	}
}

// WriteLintRules writes the table of lint's rules (wsdump lint --rules).
func WriteLintRules(out io.Writer) error {
	w := bufio.NewWriter(out)
	// Each column as wide as its longest cell: a long reference (WS601's)
	// ran into the meaning.
	width := [4]int{len("ID"), len("NAME"), len("SEVERITY"), len("REFERENCE")}
	onW := len("ON")
	for _, r := range lint.Rules {
		width[0], width[1] = max(width[0], len(r.ID)), max(width[1], len(r.Name))
		width[2], width[3] = max(width[2], len(r.Severity.String())), max(width[3], utf8.RuneCountInString(r.Ref))
		onW = max(onW, len(r.On))
	}
	row := func(id, name, sev, on, ref, meaning string) {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %-*s  %s%*s  %s\n", width[0], id, width[1], name, width[2], sev, onW, on,
			ref, width[3]-utf8.RuneCountInString(ref), "", meaning)
	}
	row("ID", "NAME", "SEVERITY", "ON", "REFERENCE", "MEANING")
	for _, r := range lint.Rules {
		row(r.ID, r.Name, r.Severity.String(), r.On, r.Ref, r.Summary)
	}
	return w.Flush()
}
