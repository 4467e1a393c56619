package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"

	"github.com/wsdump/wsdump/health"
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

// TestFileLabelCSVEscaped: --per-file's csv names each file as the conns
// csv of several files read merged does (its file column): escaped, a
// name a spreadsheet would take as a formula quoted with ', no terminal
// escape or line break of the name's bytes, invalid UTF-8 as \xff. Before,
// --per-file wrote the name as it was: "=cmd.pcap" a formula, an ESC
// raw.
func TestFileLabelCSVEscaped(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"caps/host-a_1.pcap", "caps/host-a_1.pcap"},
		{"=cmd.pcap", "'=cmd.pcap"},
		{"@sum.pcap", "'@sum.pcap"},
		{"a,b\"c.pcap", "a,b\"c.pcap"},
		{"x\x1b[31mRED\nnl.pcap", `x\x1b[31mRED\nnl.pcap`},
		{"bad\xff.pcap", `bad\xff.pcap`},
	} {
		var out bytes.Buffer
		written := false
		w, finish := NewFileLabeller(&out, tc.file, LabelCSV, true, &written)
		io.WriteString(w, "conn,start\n1,0.5\n")
		if err := finish(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("%q: %q %v", tc.file, out.String(), err)
		}
		if rows[1][0] != tc.want {
			t.Errorf("%q: --per-file's file column %q, want %q", tc.file, rows[1][0], tc.want)
		}
		// The merged conns csv of this file and another: the same cell.
		var merged bytes.Buffer
		rep := &health.Report{Conns: []*health.Conn{{ID: 1}}, Files: []string{tc.file, "other.pcap"}}
		if err := WriteConnsCSV(&merged, rep, ConnsTableOptions{}); err != nil {
			t.Fatal(err)
		}
		mrows, err := csv.NewReader(&merged).ReadAll()
		if err != nil || len(mrows) != 2 || mrows[0][0] != "file" {
			t.Fatalf("merged csv %q %v", merged.String(), err)
		}
		if mrows[1][0] != rows[1][0] {
			t.Errorf("%q: --per-file's file column %q, the merged csv's %q", tc.file, rows[1][0], mrows[1][0])
		}
	}
}
