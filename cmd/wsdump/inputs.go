package main

import (
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
)

// Many inputs: -r is repeatable and takes files, globs and directories.
// They are read as one capture, merged in timestamp order
// (capture.OpenMerged), or each on its own with --per-file (perfile.go).
// Expanding and merging them is capture's job (capture/inputs.go).

// readHelp is the -r help of the commands that read one capture.
const readHelp = "capture to read: a file (pcap or pcapng, gzip allowed; - for standard input), a quoted glob ('caps/*.pcap') or a directory (its files, one level deep); repeatable: all are read as one capture, merged by time (see --per-file)"

// addReadFlag registers -r for the commands that read one capture.
func addReadFlag(f *pflag.FlagSet, reads *[]string) {
	f.StringArrayVarP(reads, "read", "r", nil, readHelp)
}

// addPerFileFlag registers --per-file.
func addPerFileFlag(f *pflag.FlagSet, perFile *bool) {
	f.BoolVar(perFile, "per-file", false, "read each input file as a capture of its own (connections do not join across files), files decoded in parallel (one per -j worker), the output in file order with the file named on each record")
}

// takeFiles moves the files at the head of args (before a capture
// filter) to reads when reads is not empty: -r caps/*.pcap unquoted gives
// the shell's other files as arguments.
func takeFiles(reads *[]string, args []string) []string {
	for len(*reads) > 0 && len(args) > 0 && isCaptureFile(args[0]) {
		*reads, args = append(*reads, args[0]), args[1:]
	}
	return args
}

// readArgs is cobra.NoArgs for the commands that read one capture and
// take no other argument, after takeFiles.
func readArgs(reads *[]string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return cobra.NoArgs(cmd, takeFiles(reads, args))
	}
}

// inputsName names the inputs in messages: the one name, or the count.
func inputsName(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strconv.Itoa(len(names)) + " inputs"
}

// openInputs opens the inputs -r names (files, globs, directories) as one
// capture. One file opens as before; several are merged in timestamp
// order (capture.OpenMerged). A file that cannot be read (missing, not a
// capture, an unsupported link type, truncated) is reported on stderr with
// its name and the others are read; the source then ends with an error
// naming them all (exit status 2) after the last packet of the others.
func (in *inputFlags) openInputs(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) (capture.Source, error) {
	o := capture.OpenOptions{MaxInflateRatio: in.Limits.InflateRatio}
	if report.IsTerminal(stderr) {
		o.Progress = stderr // a progress line for a file
	}
	src, err := pipeline.Open(ctx, args, stdin, stderr, o)
	var ue *pipeline.UsageError
	if errors.As(err, &ue) {
		return nil, usageErr("%v", ue)
	}
	return src, err
}
