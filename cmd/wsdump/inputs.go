package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Many inputs: -r is repeatable and takes files, globs and directories.
// They are read as one capture, merged in timestamp order
// (capture.OpenMerged), or each on its own with --per-file
// (pipeline/perfile.go).
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
