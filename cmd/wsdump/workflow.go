package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/filter"
)

// filterHelp documents the filters in every command's --help.
const filterHelp = `
Filters (any combination; a repeated flag matches any of its values):
  --conn N          connection number (as in the CONN column)
  --dir c2s|s2c     direction of frames and messages
  --opcode OP       frame or message opcode: cont, text, binary, close, ping,
                    pong or 0-15; a continuation frame matches its message's
  --host PATTERN    the handshake's Host header, or either endpoint's IP
  --path PATTERN    the request URI
                    (PATTERN with * ? [ is a glob on the whole value, else a
                    substring; hosts compare without case)
  --since/--until T seconds after the first packet (1.5) or RFC 3339 time
  --grep REGEX      text messages whose text matches (after inflation), and
                    the frames of those messages
  -Y EXPR           frames and messages for which EXPR is true (conns:
                    connections), e.g. 'opcode == 2 && len > 65536',
                    'close_code != 1000', 'anomalies != []',
                    'app.type == "ERROR"', 'text contains "error"'; fields
                    by their jsonl names (README, "Display filters")
  -c N              stop after N frames (messages with --messages)
--conn, --host and --path pick connections: their handshake and summary
stay. --dir, --opcode and --grep pick frames and messages. Filters select
records, never change them: messages are inflated and decoded from the
whole capture, and -c reads on until the connections shown have ended.`

// addFilterFlags registers the record filters every view takes
// (filter.Flags); host and count are left out where
// the command already has --host and -c (the root's live flags).
func addFilterFlags(f *pflag.FlagSet, fl *filter.Flags, hostAndCount bool) {
	addConnSelectors(f, fl, hostAndCount)
	f.StringArrayVar(&fl.Dirs, "dir", nil, "only frames and messages in direction c2s or s2c")
	f.StringArrayVar(&fl.Opcodes, "opcode", nil, "only frames and messages with opcode `OP` (name or number; repeatable)")
	f.StringVar(&fl.Since, "since", "", "only records at or after `T` (seconds after the first packet, or RFC 3339)")
	f.StringVar(&fl.Until, "until", "", "only records at or before `T` (seconds after the first packet, or RFC 3339)")
	f.StringVar(&fl.Grep, "grep", "", "only text messages matching `REGEX`, and their frames")
	if hostAndCount {
		f.IntVarP(&fl.Count, "count", "c", 0, "stop after `N` frames (messages with --messages)")
	}
}

// addConnSelectors registers the filters that pick whole connections
// (--conn, --path, and --host unless the command has its own): all the
// filters of a view made of connections (conns), and part of the others'.
func addConnSelectors(f *pflag.FlagSet, fl *filter.Flags, host bool) {
	f.IntSliceVar(&fl.Conns, "conn", nil, "only connection `N` (repeatable)")
	f.StringVarP(&fl.Expr, "filter", "Y", "", "only records for which `EXPR` is true (display filter over the jsonl field names: 'close_code != 1000')")
	f.StringArrayVar(&fl.Paths, "path", nil, "only connections whose request URI matches `PATTERN` (glob or substring; repeatable)")
	if host {
		f.StringArrayVar(&fl.Hosts, "host", nil, "only connections whose Host header matches `PATTERN` (glob or substring) or with an endpoint at that IP; with a port, that port exactly (repeatable)")
	}
}

// completeFormats offers format names to shell completion.
func completeValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// addCompletions registers value completion for the flags a command has.
func addCompletions(cmd *cobra.Command) {
	reg := func(name string, values ...string) {
		if cmd.Flags().Lookup(name) != nil {
			cmd.RegisterFlagCompletionFunc(name, completeValues(values...))
		}
	}
	reg("dir", "c2s", "s2c")
	reg("opcode", "cont", "text", "binary", "close", "ping", "pong")
	reg("time", "rel", "abs")
	reg("fail-on", "error", "warning", "info", "none")
	if cmd.Flags().Lookup("read") != nil {
		cmd.MarkFlagFilename("read", "pcap", "pcapng", "gz", "cap")
	}
	if cmd.Flags().Lookup("keylog") != nil {
		cmd.MarkFlagFilename("keylog")
	}
}

// addConnFilterFlags registers the filters that pick whole connections,
// for views made of connections (conns).
func addConnFilterFlags(cmd *cobra.Command, fl *filter.Flags) {
	addConnSelectors(cmd.Flags(), fl, true)
}
