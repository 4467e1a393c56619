package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/report"
)

const followExamples = `  # The conversation of connection 1 as a transcript
  wsdump follow -r session.pcap --conn 1

  # Only what the client sent, whole messages however long
  wsdump follow -r session.pcap --conn 1 --dir c2s --max-bytes 0

  # Messages mentioning an order id, from every connection
  wsdump follow -r session.pcap --grep 'order-4711'`

type followOptions struct {
	captureInput
	Out io.Writer

	Reads    []string
	Stable   bool
	MaxBytes int
	NoPretty bool
	Color    string // --color: auto, always or never
	Filter   filterFlags
}

func newFollowCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &followOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
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
			return runFollow(o)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
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

// runFollow decodes the capture into a report.Transcript.
func runFollow(o *followOptions) error {
	if len(o.Reads) == 0 {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.MaxBytes < 0 {
		return usageErr("--max-bytes must not be negative")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	colors := tableFlags{Color: o.Color}
	if err := colors.validate(); err != nil {
		return err
	}
	if o.PerFile {
		fixTable(&colors, o.Out)
		return runPerFile(o.Reads, o.Jobs, labelHeader, o.Out, o.Err, func(f string, out, errw io.Writer) error {
			one := *o
			one.PerFile, one.Reads, one.Out, one.Err, one.Jobs, one.Color = false, []string{f}, out, errw, 1, colors.Color
			return runFollow(&one)
		})
	}
	t := report.NewTranscript(o.Out, report.TranscriptOptions{Stable: o.Stable, MaxBytes: o.MaxBytes,
		Pretty: !o.NoPretty, Color: colors.color(o.Out)})
	// Application protocols are decoded (apps: true) so that nested ones
	// (a STOMP frame in a SockJS array) are shown unwrapped.
	_, derr := o.decodeInto(o.Reads, spec, t, t.SetOrigin, true)
	if err := t.Flush(); err != nil {
		return outputErr(err)
	}
	if derr == nil && !t.Wrote() {
		explainEmpty(o.Ctx, &o.inputFlags, o.Reads, o.In, o.Err, spec.Conns)
	}
	return derr
}
