package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

const followExamples = `  # The conversation of connection 1 as a transcript
  wsdump follow -r session.pcap --conn 1

  # Only what the client sent, whole messages however long
  wsdump follow -r session.pcap --conn 1 --dir c2s --max-bytes 0

  # Messages mentioning an order id, from every connection
  wsdump follow -r session.pcap --grep 'order-4711'`

func newFollowCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &pipeline.FollowOptions{Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "follow -r FILE [--conn N] [flags]",
		Short: "Print a conversation as a transcript, message by message",
		Long: `follow prints WebSocket conversations the way tshark's "follow" prints a TCP
stream, but per message: a header line for each message (seconds after the
first packet, connection, direction, opcode and number, size, compressed
size, fragments, anomalies), then its content: text as text (JSON indented
when it parses), binary as a hex dump with an ASCII column (xxd style).
Control frames take one line. Everything from the traffic is escaped, so
a payload cannot move the cursor or change colours.

Without --conn every connection is followed, in capture order.` + "\n" + filterHelp,
		Example:       followExamples,
		Args:          readArgs(&o.Reads),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			return exitErr(pipeline.RunFollow(o))
		},
	}
	f := cmd.Flags()
	addInputFlags(f, &o.Input)
	addReadFlag(f, &o.Reads)
	addPerFileFlag(f, &o.PerFile)
	f.BoolVar(&o.Stable, "stable", false, "normalise client ports (numbered in order of appearance)")
	f.IntVar(&o.MaxBytes, "max-bytes", 4096, "show at most this many bytes of each message (0: all)")
	f.BoolVar(&o.NoPretty, "no-pretty", false, "show JSON text as sent, not indented")
	f.StringVar(&o.Color, "color", "auto", "colour the message lines by direction: auto (on a terminal, unless NO_COLOR is set), always or never")
	addFilterFlags(f, &o.Filter, true)
	addCompletions(cmd)
	return cmd
}
