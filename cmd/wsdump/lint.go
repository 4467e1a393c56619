package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
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
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "ID     NAME                       SEVERITY  ON          REFERENCE              MEANING")
	for _, r := range lint.Rules {
		fmt.Fprintf(w, "%-6s %-26s %-9s %-11s %-22s %s\n", r.ID, r.Name, r.Severity, r.On, r.Ref, r.Summary)
	}
	if err := w.Flush(); err != nil {
		return outputErr(err)
	}
	return nil
}

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
	var results []lint.Result
	var interrupted, unread error
	decode := func(name string) (lint.Result, error) {
		l := lint.New()
		origin, err := o.decodeInto([]string{name}, spec, l, nil, false)
		return lint.Result{Capture: displayName(name), Origin: origin, Findings: l.Findings(), Counts: l.Counts()}, err
	}
	if o.PerFile {
		// Each file a capture of its own, decoded on the -j workers.
		l := capture.ExpandInputs(files, o.Err)
		if len(l.Files) == 0 {
			return inputErr(fmt.Errorf("no input could be read (%d, see above)", len(l.Errs)))
		}
		if len(l.Errs) > 0 {
			unread = inputErr(fmt.Errorf("%d inputs could not be read (see above)", len(l.Errs)))
		}
		files = l.Files
		rs, errs := lintPerFile(o, files, spec)
		decode = func(name string) (lint.Result, error) {
			i := slices.Index(files, name)
			return rs[i], errs[i]
		}
	}
	for _, name := range files {
		r, err := decode(name)
		var ee *exitError
		if o.PerFile && errors.As(err, &ee) && ee.code == exitInput {
			// The file's findings up to the error are kept; the others are read.
			fmt.Fprintf(o.Err, "wsdump: %v\n", err)
			unread, err = err, nil
		}
		if errors.Is(err, errInterrupted) {
			// The findings in what was read are written, then exit 130.
			interrupted = err
		} else if err != nil {
			return err
		}
		results = append(results, r)
		if interrupted != nil {
			break
		}
	}
	opts := report.LintOptions{FailOn: failOn, Stable: o.Stable, Color: useColor(o.Out)}
	switch o.Format {
	case "jsonl":
		err = report.WriteLintJSONL(o.Out, results, opts)
	case "junit":
		err = report.WriteLintJUnit(o.Out, results, opts)
	default:
		err = report.WriteLintTable(o.Out, results, opts)
	}
	if err != nil {
		return outputErr(err)
	}
	if interrupted != nil {
		return interrupted
	}
	var failing []string
	for _, r := range results {
		if lint.Worst(r.Counts) >= failOn {
			failing = append(failing, r.Capture)
		}
	}
	if unread != nil {
		return unread // exit 2 wins over findings, as for one capture
	}
	if len(failing) > 0 {
		return &exitError{exitFindings, fmt.Errorf("lint: findings of severity %s or above in %s", failOn, strings.Join(failing, ", "))}
	}
	return nil
}

// lintPerFile decodes the files on the -j workers, one file each, their
// notices to stderr in file order (pipeline.EachFile).
func lintPerFile(o *lintOptions, files []string, spec filter.Spec) ([]lint.Result, []error) {
	rs, errs := make([]lint.Result, len(files)), make([]error, len(files))
	pipeline.EachFile(files, o.Jobs, o.Err, func(i int, f string, errw io.Writer) {
		one := *o
		one.Err, one.Jobs = errw, 1
		l := lint.New()
		origin, err := one.decodeInto([]string{f}, spec, l, nil, false)
		rs[i], errs[i] = lint.Result{Capture: f, Origin: origin, Findings: l.Findings(), Counts: l.Counts()}, err
	})
	return rs, errs
}
