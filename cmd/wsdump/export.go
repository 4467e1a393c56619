package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/report"
)

const exportExamples = `  # Every message to its own file, and an index
  wsdump export -r session.pcap -o out/

  # Only the text the server sent on connection 2
  wsdump export -r session.pcap -o out/ --conn 2 --dir s2c --opcode text

  # Check the files against the index
  cd out && jq -r '"\(.sha256)  \(.file)"' index.jsonl | sha256sum -c`

type exportOptions struct {
	captureInput
	Out io.Writer

	Reads  []string
	Output string
	Stable bool
	Filter filterFlags
}

func newExportCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &exportOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
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
			return runExport(o)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
	addReadFlag(f, &o.Reads)
	f.StringVarP(&o.Output, "output", "o", "", "directory to write to (created if missing)")
	f.BoolVar(&o.Stable, "stable", false, "index times relative to the first packet (from the Unix epoch)")
	addFilterFlags(f, &o.Filter, true)
	cmd.MarkFlagDirname("output")
	addCompletions(cmd)
	return cmd
}

// runExport writes the messages of the capture with a report.FileExporter.
func runExport(o *exportOptions) error {
	if len(o.Reads) == 0 {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Output == "" {
		return usageErr("give the output directory with -o DIR")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	e, err := report.NewFileExporter(o.Output, o.Stable)
	if err != nil {
		return outputErr(fmt.Errorf("-o: %w", err))
	}
	_, derr := o.decodeInto(o.Reads, spec, e, e.SetOrigin, false)
	if err := e.Close(); err != nil {
		return outputErr(err)
	}
	if derr == nil {
		fmt.Fprintf(o.Err, "wsdump: %d messages written to %s\n", e.Count(), o.Output)
	}
	return derr
}
