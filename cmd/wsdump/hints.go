package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// flagHints name the form that works for flags other tools have, where
// a command lacks them.
var flagHints = map[string]string{
	"T": "-T fields -e NAME works on the main view and conns (wsdump -r F -T fields -e ts -e text); here use --format jsonl",
}

// hintFlagErrors makes the flag errors of cmd and its subcommands usage
// errors (exit status 1), with a pointer to the right form where one is
// known.
func hintFlagErrors(cmd *cobra.Command) {
	f := func(c *cobra.Command, err error) error {
		msg := err.Error()
		for flag, hint := range flagHints {
			if strings.Contains(msg, "unknown shorthand flag: '"+flag+"'") {
				return usageErr("%v; %s", err, hint)
			}
		}
		return usageErr("%v", err)
	}
	cmd.SetFlagErrorFunc(f) // the subcommands' too: theirs is their parent's
}

// isCaptureFile reports whether arg names a regular file (wsdump FILE
// reads it as -r FILE; a live capture's filter is no file name).
func isCaptureFile(arg string) bool {
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}
