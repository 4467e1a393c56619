package pipeline

// The options and run functions of lint, follow, export and diff.

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/diff"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// LintOptions are the lint command's.
type LintOptions struct {
	Input
	Out io.Writer

	// The heartbeat and storm flags of conns (--heartbeat-text,
	// --heartbeat-interval, --tolerance, --storm-attempts,
	// --storm-window): its verdicts are linted (lint.Linter.Health,
	// lint.Linter.Reconnect).
	HealthFlags

	Format string
	FailOn string
	Stable bool
	Rules  bool // --rules: list the rules instead
	Filter filter.Flags
}

// RunLint checks the captures files (Lint) and writes the findings.
func RunLint(o *LintOptions, files []string) error {
	if o.Rules {
		if err := report.WriteLintRules(o.Out); err != nil {
			return &WriteError{err}
		}
		return nil
	}
	if len(files) == 0 {
		return Usagef("no input: give a capture file with -r FILE")
	}
	failOn, err := lint.ParseSeverity(o.FailOn)
	if err != nil {
		return Usagef("--fail-on: %v", err)
	}
	if o.Format != "table" && o.Format != "jsonl" && o.Format != "junit" {
		return Usagef("--format must be one of table, jsonl, junit, not %q", o.Format)
	}
	if err := o.HealthFlags.validate(); err != nil {
		return err
	}
	spec, err := spec(&o.Filter, false, false)
	if err != nil {
		return err
	}
	ho := o.health()
	run, err := Lint(LintInput{Files: files, PerFile: o.PerFile, Jobs: o.Jobs, Err: o.Err, Name: DisplayName,
		Decode: func(f string, l *lint.Linter, errw io.Writer, jobs int) (time.Time, error) {
			one := o.Input
			one.Err, one.Jobs = errw, jobs
			return one.lintInto([]string{f}, spec, ho, l) // TLS not decrypted: WS309
		},
		Unread:      unread,
		Interrupted: func(err error) bool { return err == capture.ErrInterrupted },
	})
	if err != nil {
		return err // an error of its own kept; InputsError exit 2
	}
	opts := report.LintOptions{FailOn: failOn, Stable: o.Stable, Color: report.UseColor(o.Out)}
	if err := report.WriteLint(o.Out, o.Format, run.Results, opts); err != nil {
		return &WriteError{err}
	}
	if run.Interrupted != nil {
		return run.Interrupted
	}
	if run.Unread != nil {
		return run.Unread // exit 2 wins over findings, as for one capture
	}
	if failing := run.Failing(failOn); len(failing) > 0 {
		return &FindingsError{fmt.Sprintf("lint: findings of severity %s or above in %s", failOn, strings.Join(failing, ", "))}
	}
	return nil
}

// FollowOptions are the follow command's.
type FollowOptions struct {
	Input
	Out io.Writer

	Stable   bool
	MaxBytes int
	NoPretty bool
	Color    string // --color: auto, always or never
	Filter   filter.Flags
}

// RunFollow decodes the capture into a report.Transcript.
func RunFollow(o *FollowOptions) error {
	if len(o.Reads) == 0 {
		return Usagef("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.MaxBytes < 0 {
		return Usagef("--max-bytes must not be negative")
	}
	spec, err := spec(&o.Filter, true, false)
	if err != nil {
		return err
	}
	colors := Table{Color: o.Color}
	if err := colors.Validate(); err != nil {
		return err
	}
	if o.PerFile {
		colors.fix(o.Out)
		return o.perFile(report.LabelHeader, o.Out, func(f string, out, errw io.Writer) error {
			one := *o
			one.Input, one.Out, one.Color = o.one(f, errw), out, colors.Color
			return RunFollow(&one)
		})
	}
	t := report.NewTranscript(o.Out, report.TranscriptOptions{Stable: o.Stable, MaxBytes: o.MaxBytes,
		Pretty: !o.NoPretty, Color: colors.color(o.Out)})
	// Application protocols are decoded (apps: true) so that nested ones
	// (a STOMP frame in a SockJS array) are shown unwrapped.
	_, derr := o.decodeInto(o.Reads, spec, t, t.SetOrigin, true, "are not shown")
	if err := t.Flush(); err != nil {
		return &WriteError{err}
	}
	if derr == nil && !t.Wrote() {
		o.explainEmpty(o.Reads, spec.Conns)
	}
	return derr
}

// ExportOptions are the export command's.
type ExportOptions struct {
	Input
	Output string // -o DIR
	Stable bool
	Filter filter.Flags
}

// RunExport writes the messages of the capture with a report.FileExporter.
func RunExport(o *ExportOptions) error {
	if len(o.Reads) == 0 {
		return Usagef("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Output == "" {
		return Usagef("give the output directory with -o DIR")
	}
	spec, err := spec(&o.Filter, true, false)
	if err != nil {
		return err
	}
	e, err := report.NewFileExporter(o.Output, o.Stable)
	if err != nil {
		return &WriteError{fmt.Errorf("-o: %w", err)}
	}
	_, derr := o.decodeInto(o.Reads, spec, e, e.SetOrigin, false, "are not exported")
	if err := e.Close(); err != nil {
		return &WriteError{err}
	}
	if derr == nil {
		fmt.Fprintf(o.Err, "wsdump: %s written to %s\n", text.Plural(e.Count(), "message"), o.Output)
	}
	return derr
}

// DiffOptions are the diff command's.
type DiffOptions struct {
	Input
	Out io.Writer

	IgnoreControl bool
	MaxDiffs      int
	Context       int
	Filter        filter.Flags
}

// FreeOSMemory is called between diff's two readings. A test binary that
// runs diff in-process replaces it: there it collected the tests' whole
// heap each time (2.4 s of cmd/wsdump's tests' CPU); a process of its own,
// as TestDiffMemory runs, keeps it.
var FreeOSMemory = debug.FreeOSMemory

// RunDiff compares the two captures files (diff.Run) and writes the
// differences (report.WriteDiff); a DiffError when they differ.
func RunDiff(o *DiffOptions, files []string) error {
	if len(files) != 2 {
		return Usagef("diff compares two captures: wsdump diff A B (or -r A -r B), not %d", len(files))
	}
	a, b := files[0], files[1]
	if o.MaxDiffs < 1 || o.Context < 4 {
		return Usagef("--max-diffs must be at least 1 and --context at least 4")
	}
	spec, err := spec(&o.Filter, true, false)
	if err != nil {
		return err
	}
	names := [2]string{a, b}
	res, err := diff.Run(diff.Options{IgnoreControl: o.IgnoreControl, Shown: o.MaxDiffs, CloseText: report.DiffCloseText, Twice: a != "-" && b != "-"},
		func(side int, sink wsparse.Sink, quiet bool) error {
			if side == 1 {
				// A's reading is garbage now: collected and its pages
				// returned, they do not add to B's peak (diff F F of 100 000
				// open connections: 273.6 -> 271.9 MiB with -j 1).
				FreeOSMemory()
			}
			in := o.Input
			if quiet || side == 1 && names[0] == names[1] {
				// B read as A was (diff F F): its notices are A's, said once.
				in.Err = io.Discard
			}
			_, err := in.decodeInto([]string{names[side]}, spec, record.Adapt(sink), nil, false, "are not compared")
			return err
		})
	if err != nil {
		return err
	}
	if err := report.WriteDiff(o.Out, DisplayName(a), DisplayName(b), res, o.MaxDiffs, o.Context); err != nil {
		return &WriteError{err} // not 0 or 4: the result was not written
	}
	if len(res.Diffs) == 0 {
		return nil
	}
	return &DiffError{"diff: " + text.Plural(len(res.Diffs), "difference")}
}
