package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Main runs wsdump with the given arguments and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return mainContext(context.Background(), args, stdin, stdout, stderr)
}

// mainContext is Main for a run that ctx can interrupt (main cancels it on
// SIGINT and SIGTERM): reading stops, what was read is written with its
// summaries, and the exit status is 130. A failed write of the output, by
// any command (help and completion scripts included), is exit status 5
// whatever else happened; it also stops the reading.
func mainContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &outWriter{w: stdout, failed: cancel}
	cmd := newRootOnly(stdin, out, stderr)
	addSubcommands(cmd, stdin, out, stderr, subcommandFor(cmd, args))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if se := wsparse.SpillError(); se != nil {
		// Bytes written to the spill file could not be read back: their
		// record was marked cut, and the run fails (or says so besides
		// its own failure).
		if err == nil {
			err = &exitError{exitInput, se}
		} else {
			printErr(se, stderr)
		}
	}
	var ee *exitError
	if out.err != nil && !(errors.As(err, &ee) && ee.code == exitOutput) {
		if err != nil && err != errInterrupted && !errors.Is(err, out.err) {
			printErr(err, stderr) // what else happened, then the failed write
		}
		err = outputErr(out.err)
	}
	return exitCode(err, stderr)
}

// outWriter is standard output as the commands see it: it keeps the first
// write error, which every later write returns, and calls failed then.
type outWriter struct {
	w      io.Writer
	err    error
	failed func()
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		o.err = err
		o.failed()
	}
	return n, err
}

// Unwrap gives the writer underneath (isTerminal looks at it).
func (o *outWriter) Unwrap() io.Writer { return o.w }

const rootExamples = `  # Every frame of a capture, as a table
  wsdump -r session.pcap

  # One JSON object per handshake, frame, message and connection
  wsdump -r session.pcapng --format jsonl

  # Messages rather than frames, with wall-clock times
  wsdump -r session.pcap --messages --time abs

  # Read a gzip-compressed capture from standard input
  zcat big.pcap.gz | wsdump -r -

  # Rotated files (tcpdump -G/-C) as one capture, merged by time
  wsdump conns -r 'caps/ws-*.pcap.gz'

  # Each file of a directory on its own, in parallel, named on each record
  wsdump -r caps/ --per-file --format jsonl`

const exitHelp = `
Exit status:
  0  success (anomalies in the traffic included)
  1  usage error
  2  unreadable input: not a capture, unsupported link type, truncated file
     (with several inputs: any of them, the others read first)
  3  wsdump lint: findings at or above --fail-on
  4  wsdump diff: the captures differ
  5  the output could not be written (disk full, closed, ...), whatever else happened
  130  interrupted (SIGINT, SIGTERM) while reading a file: the output covers what was read`

// subcommands are the root's, by name (addSubcommands makes them).
var subcommands = map[string]func(io.Reader, io.Writer, io.Writer) *cobra.Command{"interfaces": newInterfacesCmd, "conns": newConnsCmd,
	"lint": newLintCmd, "diff": newDiffCmd, "follow": newFollowCmd, "export": newExportCmd, "version": newVersionCmd, "report": newReportCmd}

// addSubcommands adds the subcommand named which ("*": all) to the root cmd:
// building them all was a fifth of the CPU of a short run, needing one at most.
func addSubcommands(cmd *cobra.Command, stdin io.Reader, stdout, stderr io.Writer, which string) {
	for name, mk := range subcommands {
		if which == "*" || which == name {
			cmd.AddCommand(mk(stdin, stdout, stderr)) // cobra sorts them
		}
	}
}

// subcommandFor returns the subcommand cobra finds in args, "" for the root's
// own run, "*" for help and completion, which list them all.
func subcommandFor(root *cobra.Command, args []string) string {
	for name := range subcommands {
		root.AddCommand(&cobra.Command{Use: name})
	}
	found, _, err := root.Find(args)
	root.ResetCommands()
	if err != nil || slices.ContainsFunc(args, func(a string) bool { // help (-h, -Eh, --help, help) or completion
		return a == "help" || a == "completion" || strings.HasPrefix(a, "__complete") || strings.HasPrefix(a, "--help") ||
			strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "h")
	}) {
		return "*"
	} else if found == root {
		return ""
	}
	return found.Name()
}

// newRootOnly returns the root command, without its subcommands (see
// subcommandFor).
func newRootOnly(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &pipeline.ViewOptions{Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout}
	live := &pipeline.LiveOptions{}
	cmd := &cobra.Command{
		Use:           "wsdump -r FILE [flags] | wsdump -i IFACE [flags] [FILTER...]",
		Short:         "Decode WebSocket conversations from packet captures",
		Long:          "wsdump reassembles the TCP streams of a pcap or pcapng capture (or a live\ninterface), finds HTTP/1.1 WebSocket upgrades and decodes every frame and\nmessage (RFC 6455), inflating permessage-deflate (RFC 7692) and decrypting\nwss with a TLS key log.",
		Example:       rootExamples + "\n\n" + liveExamples,
		Version:       versionString(),
		Args:          cobra.ArbitraryArgs, // a live capture's filter
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if live.List {
				return exitErr(pipeline.RunInterfaces(stdout))
			}
			if len(args) > 0 && len(opts.Reads) == 0 && live.Interface == "" && isCaptureFile(args[0]) {
				// wsdump FILE: the file is read as with -r FILE.
				opts.Reads, args = args[:1], args[1:]
			}
			args = takeFiles(&opts.Reads, args)
			opts.PreviewSet = cmd.Flags().Changed("preview")
			return exitErr(pipeline.RunMain(cmd.Context(), opts, live, args))
		},
	}
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	// The exit-status table is the root's: subcommands point to it (diff
	// and lint have their own).
	cmd.SetUsageTemplate(cmd.UsageTemplate() + `{{if not .HasParent}}` + exitHelp + "\n" + `{{else}}
Exit status: see wsdump --help.
{{end}}`)
	hintFlagErrors(cmd)
	f := cmd.Flags()
	addLiveFlags(f, live)
	addReadFlag(f, &opts.Reads)
	addPerFileFlag(f, &opts.PerFile)
	f.StringVar(&opts.Format, "format", "table", "output format: "+strings.Join(report.Formats, ", ")+", parquet (-o DIR: one dataset per record kind)")
	f.StringVar(&opts.Time, "time", "rel", "table times: rel (seconds since the first packet) or abs (RFC 3339)")
	f.IntVar(&opts.Preview, "preview", 64, "table: payload preview width in characters")
	f.BoolVar(&opts.Messages, "messages", false, "table: one row per message instead of per frame")
	addTableFlags(f, &opts.Table)
	addInputFlags(f, &opts.Input)
	addDecodeFlag(f, &opts.Decode)
	addFilterFlags(f, &opts.Filter, false)
	addFieldsFlags(f, &opts.Fields)
	f.BoolVar(&opts.Stable, "stable", false, "normalise volatile values (client ports, times, masking keys, Sec-WebSocket-Key/Accept) for golden files")
	cmd.RegisterFlagCompletionFunc("format", completeValues(append(report.Formats, "parquet")...))
	addCompletions(cmd)
	return cmd
}

// portList is a repeatable TCP port flag.
type portList struct{ ports *[]uint16 }

func (p *portList) String() string {
	if p.ports == nil {
		return ""
	}
	var s []string
	for _, v := range *p.ports {
		s = append(s, strconv.Itoa(int(v)))
	}
	return strings.Join(s, ",")
}

func (p *portList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q is not a TCP port", part)
		}
		*p.ports = append(*p.ports, uint16(n))
	}
	return nil
}

func (p *portList) Type() string { return "PORT" }
