package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/wsparse"
)

// LintOptions tune the lint writers.
type LintOptions struct {
	FailOn lint.Severity // findings at or above it fail (JUnit failures)
	Stable bool          // no absolute times
	Color  bool          // table: severities in colour
}

// WriteLintTable writes wsdump lint's findings: one line per finding, then a count per capture.
func WriteLintTable(w io.Writer, results []lint.Result, o LintOptions) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for i := range results {
		r := &results[i]
		if len(r.Findings) > 0 {
			if len(results) > 1 {
				fmt.Fprintf(tw, "%s:\n", r.Capture)
			}
			fmt.Fprintln(tw, "SEVERITY\tRULE\tTIME\tWHERE\tDETAIL")
			for j := range r.Findings {
				f := &r.Findings[j]
				fmt.Fprintf(tw, "%s\t%s\t%.6f\t%s\t%s\n", f.Rule.Severity, f.Rule.Title(), r.Rel(f), f.Where(), f.Detail)
			}
		}
		n := r.Counts
		if len(r.Findings) == 0 {
			fmt.Fprintf(tw, "%s: no findings\n", r.Capture)
		} else {
			fmt.Fprintf(tw, "%s: %s, %s, %s\n", r.Capture, text.Plural(n[lint.Error], "error"), text.Plural(n[lint.Warning], "warning"), strconv.Itoa(n[lint.Info])+" info")
		}
		if i < len(results)-1 {
			fmt.Fprintln(tw)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	out := buf.Bytes()
	if o.Color {
		// Coloured after tabwriter has measured the columns.
		red := []byte(ColorAnomaly + "error" + ColorReset + " ")
		out = bytes.ReplaceAll(append([]byte("\n"), out...), []byte("\nerror "), append([]byte("\n"), red...))[1:]
	}
	_, err := w.Write(out)
	return err
}

// lintJsonFinding is one line of --format jsonl.
type lintJsonFinding struct {
	Capture  string  `json:"capture"`
	Rule     string  `json:"rule"`
	Name     string  `json:"name"`
	Severity string  `json:"severity"`
	Conn     int     `json:"conn"`
	Stream   uint32  `json:"stream,omitempty"` // HTTP/2 stream (RFC 8441)
	Encap    string  `json:"encap,omitempty"`  // what carried the connection (jsonl's encap)
	Dir      string  `json:"dir,omitempty"`
	Record   string  `json:"record"`
	Index    int     `json:"index,omitempty"`
	T        float64 `json:"t"`
	TS       string  `json:"ts,omitempty"`
	Detail   string  `json:"detail"`
	Ref      string  `json:"ref"`
	Omitted  int     `json:"omitted,omitempty"` // a line for this many findings, not listed
}

// WriteLintJSONL writes one object per lint finding: capture, rule, name, severity,
// conn, encap (when something carried the connection), dir, record, index, t (seconds after the first packet), ts (RFC
// 3339; not with Stable), detail, ref.
func WriteLintJSONL(w io.Writer, results []lint.Result, o LintOptions) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range results {
		r := &results[i]
		for j := range r.Findings {
			f := &r.Findings[j]
			conn, stream := wsparse.SplitID(f.Conn)
			jf := lintJsonFinding{Stream: stream, Capture: r.Capture, Rule: f.Rule.ID, Name: f.Rule.Name, Severity: f.Rule.Severity.String(),
				Conn: conn, Encap: f.Encap(), Dir: f.Dir, Record: f.Record, Index: f.Index, Detail: f.Detail, Ref: f.Rule.Ref, Omitted: f.Omitted}
			jf.T, _ = strconv.ParseFloat(strconv.FormatFloat(r.Rel(f), 'f', 6, 64), 64)
			if !o.Stable && !f.TS.IsZero() {
				jf.TS = f.TS.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
			}
			if err := enc.Encode(jf); err != nil {
				return err
			}
		}
	}
	return nil
}

// JUnit XML, in the shape Jenkins, GitLab, GitHub (dorny/test-reporter,
// mikepenz/action-junit-report) and Azure read.
type lintJunitSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Suites   []lintJunitSuite `xml:"testsuite"`
}

type lintJunitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Timestamp string          `xml:"timestamp,attr,omitempty"`
	Cases     []lintJunitCase `xml:"testcase"`
}

type lintJunitCase struct {
	Name      string            `xml:"name,attr"`
	Classname string            `xml:"classname,attr"`
	Failures  []lintJunitDetail `xml:"failure,omitempty"`
	SystemOut string            `xml:"system-out,omitempty"`
}

type lintJunitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteLintJUnit writes one testsuite per capture and one testcase per rule.
// A rule with findings at or above FailOn fails: one <failure> per
// finding, its message the location, its type the severity. Findings
// below FailOn are listed in the testcase's system-out, and it passes, so
// the report agrees with the exit status.
func WriteLintJUnit(w io.Writer, results []lint.Result, o LintOptions) error {
	all := lintJunitSuites{Name: "wsdump lint"}
	for i := range results {
		r := &results[i]
		s := lintJunitSuite{Name: r.Capture}
		if !o.Stable && !r.Origin.IsZero() {
			s.Timestamp = r.Origin.UTC().Format("2006-01-02T15:04:05")
		}
		for k := range lint.Rules {
			rule := &lint.Rules[k]
			c := lintJunitCase{Name: rule.Title(), Classname: "wsdump.lint." + rule.On}
			var out []string
			for j := range r.Findings {
				f := &r.Findings[j]
				if f.Rule != rule {
					continue
				}
				line := fmt.Sprintf("%s at %.6f s: %s (%s)", f.Where(), r.Rel(f), f.Detail, rule.Ref)
				if rule.Severity >= o.FailOn {
					c.Failures = append(c.Failures, lintJunitDetail{Message: rule.Title() + ": " + f.Where(), Type: rule.Severity.String(), Text: line})
				} else {
					out = append(out, rule.Severity.String()+": "+line)
				}
			}
			if len(out) > 0 {
				c.SystemOut = strings.Join(out, "\n")
			}
			if len(c.Failures) > 0 {
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
