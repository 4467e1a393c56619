package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
)

// --per-file: each input file is a capture of its own (pipeline.RunPerFile
// runs them; report marks each file's part of the output).

// labelHeader is the "==> FILE <==" label (follow's).
const labelHeader = report.LabelHeader

// runPerFile runs run for each file named by args (expanded as -r does),
// on jobs workers (0: one per core), and writes the outputs to out and the
// notices to errw in file order. A file that fails to read does not stop
// the others: the error is 2 (unreadable input) once all are written,
// unless a write failed (5, which stops) or the run was interrupted (130).
func runPerFile(args []string, jobs int, label report.FileLabel, out, errw io.Writer, run pipeline.PerFileRun) error {
	for _, a := range args {
		if a == "-" {
			return usageErr("--per-file reads files, not standard input")
		}
	}
	l := capture.ExpandInputs(args, errw)
	if len(l.Files) == 0 {
		return inputErr(fmt.Errorf("no input could be read (%d, see above)", len(l.Errs)))
	}
	err := pipeline.RunPerFile(l, pipeline.PerFile{Jobs: jobs, Label: label, Out: out, Err: errw, Run: run,
		Unread: func(err error) bool {
			var ee *exitError
			return errors.As(err, &ee) && ee.code == exitInput
		}})
	var we *pipeline.WriteError
	var ue *pipeline.UnreadError
	switch {
	case errors.As(err, &we):
		return outputErr(we.Err)
	case errors.As(err, &ue):
		return inputErr(ue)
	}
	return err
}

// perFileLabel is the label of a view's output format.
func perFileLabel(format string, fields bool) report.FileLabel {
	switch {
	case fields:
		return report.LabelHeader
	case format == "jsonl":
		return report.LabelJSON
	case format == "csv":
		return report.LabelCSV
	case format == "parquet":
		return report.LabelNone
	}
	return report.LabelHeader
}

// fixTable resolves the table width and colour for out, the real output,
// before each file's part is written to a temporary file.
func fixTable(t *tableFlags, out io.Writer) {
	if t.Output != "wide" && t.Width == 0 {
		t.Width = report.TerminalWidth(out)
	}
	if t.color(out) {
		t.Color = "always"
	} else {
		t.Color = "never"
	}
}
