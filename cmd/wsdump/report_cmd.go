package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

const reportExamples = `  # A picture of a capture, to open in a browser or attach to a bug report
  wsdump report -r session.pcap -o report.html

  # wss, with the browser's key log
  wsdump report -r session.pcapng --keylog keys.log -o report.html`

func newReportCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	opts := &pipeline.ReportOptions{Version: version, ConnsOptions: pipeline.ConnsOptions{
		Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout, Format: "table", Time: "rel"}}
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
			opts.Ctx = cmd.Context()
			return exitErr(pipeline.RunReport(opts))
		},
	}
	f := cmd.Flags()
	addInputFlags(f, &opts.Input)
	addDecodeFlag(f, &opts.Decode)
	addReadFlag(f, &opts.Reads)
	f.StringVarP(&opts.Output, "output", "o", "", "HTML file to write (- for standard output)")
	addHealthFlags(f, &opts.HealthFlags)
	addConnFilterFlags(cmd, &opts.Filter)
	return cmd
}
