package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/report"
)

const reportExamples = `  # A picture of a capture, to open in a browser or attach to a bug report
  wsdump report -r session.pcap -o report.html

  # wss, with the browser's key log
  wsdump report -r session.pcapng --keylog keys.log -o report.html`

// reportOptions holds the flags and the IO of the report command: the
// conns command's, and the file written.
type reportOptions struct {
	connsOptions
	Output string
}

func newReportCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &reportOptions{connsOptions: connsOptions{In: stdin, Out: stdout, Err: stderr, Format: "table", Time: "rel"}}
	cmd := &cobra.Command{
		Use:   "report -r FILE -o report.html [flags]",
		Short: "One HTML file picturing a capture: timeline, heartbeats, traffic, conns",
		Long: `report writes one self-contained HTML file (no script, nothing fetched when it
is viewed: the pictures are SVG drawn by wsdump) with
  - a timeline of the connections: each one a bar from its upgrade request to
    its end, coloured by how it ended, on the lane of its reconnect group,
    with the refused connects (×), the HTTP requests before an upgrade
    (SockJS /info, ◆) and the outages (shaded);
  - each connection's heartbeat series (direction, kind, key, interval): its
    beats, coloured by the timer that sent them, and its late gaps with the
    missed beats crossed;
  - the message rate and size over time per direction, and the round trip of
    each WebSocket ping answered by a pong;
  - the tables of wsdump conns.
Heartbeats and reconnect groups are judged as by wsdump conns, with the same
flags. What is drawn is bounded (40 groups, 1000 connections, 1000 refused
connects and requests, 60 heartbeat series, 5000 beats, 300 time bins, 2000
round trips, 500 connection and 100 group rows); the file says what it left
out: at most about 2 MB.`,
		Example:       reportExamples,
		Args:          readArgs(&opts.Reads),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			opts.Ctx = cmd.Context()
			return runReport(opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &opts.inputFlags)
	addDecodeFlag(f, &opts.Decode)
	addReadFlag(f, &opts.Reads)
	f.StringVarP(&opts.Output, "output", "o", "", "HTML file to write (- for standard output)")
	addHealthFlags(f, &opts.connsOptions)
	addConnFilterFlags(cmd, &opts.Filter)
	return cmd
}

func (o *reportOptions) validate() error {
	if len(o.Reads) > 0 {
		o.ReadFile = inputsName(o.Reads)
	}
	if o.ReadFile == "" {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Output == "" {
		return usageErr("no output: give the HTML file to write with -o FILE (or -o - for standard output)")
	}
	return o.connsOptions.validate()
}

// runReport reads the capture through the health tracker and the activity
// collector, then writes the HTML file.
func runReport(o *reportOptions) error {
	act := report.NewActivity()
	rd, err := o.read(act) // as conns reads it
	if err != nil {
		return err
	}
	title := o.ReadFile
	if title != "-" && len(o.Reads) == 1 {
		title = filepath.Base(title)
	}
	in := report.HTMLInput{Title: title, Report: rd.Report, Beats: rd.Tracker.BeatTimes, Activity: act, Origin: rd.Origin, Version: version}
	n, err := report.WriteHTMLFile(o.Output, o.Out, in)
	if err != nil {
		return outputErr(err)
	}
	if o.Output != "-" {
		fmt.Fprintf(o.Err, "wsdump: wrote %s (%d bytes)\n", o.Output, n)
	}
	return readError(rd.ReadErr)
}
