package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

const diffExamples = `  # Same scripted session recorded twice: exit 0, or 4 and the first differences
  wsdump diff golden.pcap new.pcap

  # Only what the server sent, data messages only
  wsdump diff golden.pcap new.pcap --dir s2c --ignore-control

  # Show up to 50 differences
  wsdump diff a.pcap b.pcap --max-diffs 50`

const diffExitHelp = `
Exit status:
  0  no difference
  1  usage error
  2  unreadable input
  4  the captures differ
  5  the output could not be written
  130  interrupted (SIGINT, SIGTERM): the output covers what was read`

func newDiffCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &pipeline.DiffOptions{Input: pipeline.Input{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "diff A B [flags] | diff -r A -r B [flags]",
		Short: "Compare two captures message by message",
		Long: `diff decodes two captures and compares them connection by connection (the
n-th WebSocket connection of A with the n-th of B) and, in each direction,
message by message: the handshake (method, URI, status, subprotocol,
accepted extensions), each data message (opcode and bytes, after
reassembly and inflation), each control frame (ping and pong payloads,
close code and reason), and how the connection ended.

What changes from one recording of a session to the next is not compared:
addresses and ports, the Host header, times, masking keys,
Sec-WebSocket-Key/Accept, TCP segmentation, how frames are split into
fragments, whether a message was compressed. Two recordings of the same
scripted session compare equal; --stable is implied.

The first differences are printed: which connection, direction and
message, and what differs (text as escaped text around the first
differing byte, binary as a hex excerpt).` + "\n" + filterHelp,
		Example:       diffExamples,
		Args:          cobra.MaximumNArgs(2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// diff A B, diff -r A -r B and diff -r A B name the same two captures.
			o.Ctx = cmd.Context()
			return exitErr(pipeline.RunDiff(o, captureArgs(o.Reads, args)))
		},
	}
	cmd.SetUsageTemplate(cmd.UsageTemplate() + diffExitHelp + "\n")
	f := cmd.Flags()
	addInputFlags(f, &o.Input)
	f.StringArrayVarP(&o.Reads, "read", "r", nil, "capture to compare (twice: -r A -r B, as the positional A B)")
	f.BoolVar(&o.IgnoreControl, "ignore-control", false, "compare data messages only, not pings, pongs and closes")
	f.IntVar(&o.MaxDiffs, "max-diffs", 10, "print at most this many differences")
	f.IntVar(&o.Context, "context", 32, "characters (text) or bytes (binary) shown around a difference")
	addFilterFlags(f, &o.Filter, true)
	addCompletions(cmd)
	return cmd
}
