package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
)

const lintExamples = `  # Check a capture; exit status 3 when a finding of severity error exists
  wsdump lint -r session.pcap

  # Several captures, JUnit XML for the CI's test report, fail on warnings too
  wsdump lint --format junit --fail-on warning testdata/*.pcap > lint.xml

  # Only the connections to /api, as JSON lines
  wsdump lint -r session.pcap --path '/api/*' --format jsonl

  # Every rule, its severity and reference
  wsdump lint --rules`

const lintExitHelp = `
Exit status:
  0  no finding at or above --fail-on
  1  usage error
  2  unreadable input
  3  findings at or above --fail-on (error by default)
  5  the output could not be written
  130  interrupted (SIGINT, SIGTERM): the output covers what was read`

type lintOptions struct {
	captureInput
	Out io.Writer

	Reads  []string
	Format string
	FailOn string
	Stable bool
	Rules  bool
	Filter filterFlags
}

func newLintCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &lintOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "lint -r FILE [flags] [FILE...]",
		Short: "Check captures against RFC 6455, RFC 7692 and the handshake rules",
		Long: `lint decodes each capture and reports every broken rule as a finding: a
stable rule ID (WS005 client-frame-unmasked), a severity, and where it was
seen (connection, direction, frame or message number, seconds after the
first packet). Every anomaly the decoder knows has a rule; connections that
end without a closing handshake are warnings.

Severities: error for a MUST of the RFCs that an endpoint broke; warning for
legal but suspect traffic and limits a hostile peer may aim at; info for what
the capture lost or wsdump cut, which says nothing about the endpoints.
See --rules for the list.` + "\n" + filterHelp,
		Example:       lintExamples,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Rules {
				return writeRules(o.Out)
			}
			o.Ctx = cmd.Context()
			return runLint(o, captureArgs(o.Reads, args))
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	cmd.SetUsageTemplate(cmd.UsageTemplate() + lintExitHelp + "\n")
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
	f.StringArrayVarP(&o.Reads, "read", "r", nil, "capture `FILE` to check (repeatable; files may also follow the flags): each argument is one capture, a quoted glob or a directory its files merged by time (see --per-file)")
	f.BoolVar(&o.PerFile, "per-file", false, "each file of the arguments (globs and directories expanded) a capture of its own, decoded in parallel (one file per -j worker)")
	f.StringVar(&o.Format, "format", "table", "output format: table, jsonl or junit")
	f.StringVar(&o.FailOn, "fail-on", "error", "exit 3 when a finding of this `SEVERITY` or above exists: error, warning, info, none")
	f.BoolVar(&o.Stable, "stable", false, "no absolute times in the output (jsonl ts, junit timestamp)")
	f.BoolVar(&o.Rules, "rules", false, "list the rules and exit")
	addFilterFlags(f, &o.Filter, true)
	cmd.RegisterFlagCompletionFunc("format", completeValues("table", "jsonl", "junit"))
	addCompletions(cmd)
	return cmd
}

func writeRules(out io.Writer) error {
	if err := report.WriteLintRules(out); err != nil {
		return outputErr(err)
	}
	return nil
}

// runLint checks the captures (pipeline.Lint) and writes the findings.
func runLint(o *lintOptions, files []string) error {
	if len(files) == 0 {
		return usageErr("no input: give a capture file with -r FILE")
	}
	failOn, err := lint.ParseSeverity(o.FailOn)
	if err != nil {
		return usageErr("--fail-on: %v", err)
	}
	if o.Format != "table" && o.Format != "jsonl" && o.Format != "junit" {
		return usageErr("--format must be one of table, jsonl, junit, not %q", o.Format)
	}
	spec, err := o.Filter.spec(false)
	if err != nil {
		return err
	}
	run, err := pipeline.Lint(pipeline.LintInput{Files: files, PerFile: o.PerFile, Jobs: o.Jobs, Err: o.Err, Name: displayName,
		Decode: func(f string, l *lint.Linter, errw io.Writer, jobs int) (time.Time, error) {
			one := *o
			one.Err, one.Jobs = errw, jobs
			return one.decodeInto([]string{f}, spec, l, nil, false)
		},
		Unread: func(err error) bool {
			var ee *exitError
			return errors.As(err, &ee) && ee.code == exitInput
		},
		Interrupted: func(err error) bool { return errors.Is(err, errInterrupted) },
	})
	if err != nil {
		return inputErr(err) // an error of its own kept; pipeline.InputsError exit 2
	}
	opts := report.LintOptions{FailOn: failOn, Stable: o.Stable, Color: useColor(o.Out)}
	if err := report.WriteLint(o.Out, o.Format, run.Results, opts); err != nil {
		return outputErr(err)
	}
	if run.Interrupted != nil {
		return run.Interrupted
	}
	if run.Unread != nil {
		return inputErr(run.Unread) // exit 2 wins over findings, as for one capture
	}
	if failing := run.Failing(failOn); len(failing) > 0 {
		return &exitError{exitFindings, fmt.Errorf("lint: findings of severity %s or above in %s", failOn, strings.Join(failing, ", "))}
	}
	return nil
}
