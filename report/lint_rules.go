package report

import (
	"bufio"
	"fmt"
	"io"

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
	fmt.Fprintln(w, "ID     NAME                       SEVERITY  ON          REFERENCE              MEANING")
	for _, r := range lint.Rules {
		fmt.Fprintf(w, "%-6s %-26s %-9s %-11s %-22s %s\n", r.ID, r.Name, r.Severity, r.On, r.Ref, r.Summary)
	}
	return w.Flush()
}
