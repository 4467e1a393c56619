package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/pipeline"
)

const exportExamples = `  # Every message to its own file, and an index
  wsdump export -r session.pcap -o out/

  # Only the text the server sent on connection 2
  wsdump export -r session.pcap -o out/ --conn 2 --dir s2c --opcode text

  # Check the files against the index
  cd out && jq -r '"\(.sha256)  \(.file)"' index.jsonl | sha256sum -c`

func newExportCmd(stdin io.Reader, _, stderr io.Writer) *cobra.Command {
	o := &pipeline.ExportOptions{Input: pipeline.Input{In: stdin, Err: stderr}}
	cmd := &cobra.Command{
		Use:   "export -r FILE -o DIR [flags]",
		Short: "Write each message to its own file, with an index",
		Long: `export writes every data message (fragments joined, compressed messages
inflated) to DIR/conn-NNNN/NNNNNN-DIR.txt (text) or .bin (binary), numbered
per connection and direction as in the other views, and DIR/index.jsonl
with one line per file: conn, dir, index, ts, opcode, opcode_name, len
(message bytes), kept (bytes in the file, when fewer), compressed, file
(relative to DIR), sha256 (of the file), anomalies. Files are written as
sent: nothing is escaped. Existing files of the same names are replaced.

The output directory is -o (--dir is the direction filter, as everywhere).` + "\n" + filterHelp,
		Example:       exportExamples,
		Args:          readArgs(&o.Reads),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			return exitErr(pipeline.RunExport(o))
		},
	}
	f := cmd.Flags()
	addInputFlags(f, &o.Input)
	addReadFlag(f, &o.Reads)
	f.StringVarP(&o.Output, "output", "o", "", "directory to write to (created if missing)")
	f.BoolVar(&o.Stable, "stable", false, "index times relative to the first packet (from the Unix epoch)")
	addFilterFlags(f, &o.Filter, true)
	cmd.MarkFlagDirname("output")
	addCompletions(cmd)
	return cmd
}
