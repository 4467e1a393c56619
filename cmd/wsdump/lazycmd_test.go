package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// newRootCmd returns the whole command tree, every subcommand in it.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := newRootOnly(stdin, stdout, stderr)
	addSubcommands(cmd, stdin, stdout, stderr, "*")
	return cmd
}

// TestSubcommandNames: addSubcommands adds, for each name of
// subcommands, the subcommand of that name alone, and they are the
// whole tree's subcommands.
func TestSubcommandNames(t *testing.T) {
	var got, want []string
	for _, c := range newRootCmd(nil, &bytes.Buffer{}, &bytes.Buffer{}).Commands() {
		got = append(got, c.Name())
		if len(c.Aliases) > 0 {
			t.Errorf("%s has aliases %q, which subcommandFor does not know", c.Name(), c.Aliases)
		}
	}
	for name := range subcommands {
		want = append(want, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("subcommands %q, the tree has %q", want, got)
	}
	for name := range subcommands {
		root := newRootOnly(nil, &bytes.Buffer{}, &bytes.Buffer{})
		addSubcommands(root, nil, &bytes.Buffer{}, &bytes.Buffer{}, name)
		if cs := root.Commands(); len(cs) != 1 || cs[0].Name() != name {
			t.Errorf("addSubcommands(%q) added %d commands", name, len(cs))
		}
	}
}

// TestSubcommandFor: a run builds the subcommand its arguments name, none
// for the root's own run (a flag's value is no subcommand), and all of
// them for help and completion.
func TestSubcommandFor(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-r", "x.pcap", "--format", "jsonl"}, ""},
		{[]string{"-r", "conns"}, ""},
		{[]string{"--read", "lint", "tcp port 80"}, ""},
		{[]string{"x.pcap"}, ""},
		{[]string{"conns", "-r", "x.pcap"}, "conns"},
		{[]string{"-r", "x.pcap", "conns"}, "conns"},
		{[]string{"--format", "jsonl", "lint", "x.pcap"}, "lint"},
		{[]string{"version"}, "version"},
		{[]string{"diff", "a", "b"}, "diff"},
		{[]string{"--help"}, "*"},
		{[]string{"-h"}, "*"},
		{[]string{"-Eh"}, "*"},
		{[]string{"conns", "--help"}, "*"},
		{[]string{"help", "conns"}, "*"},
		{[]string{"completion", "bash"}, "*"},
		{[]string{"__complete", "co"}, "*"},
	} {
		root := newRootOnly(nil, &bytes.Buffer{}, &bytes.Buffer{})
		if got := subcommandFor(root, c.args); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
		if n := len(root.Commands()); n != 0 {
			t.Errorf("%q: %d commands left on the root", c.args, n)
		}
	}
}

// TestLazySubcommandsSameRun: what Main prints and its exit status, for
// runs of the root, of subcommands, with bad flags and arguments, help and
// completion, are those of the whole command tree's.
func TestLazySubcommandsSameRun(t *testing.T) {
	const pcap = "../../testdata/pcaps/gen__ws-node-basic.pcap"
	for _, args := range [][]string{
		{},
		{"-r", pcap, "--format", "jsonl", "--stable"},
		{"-r", pcap, "--bogus"},
		{"-x"},
		{"bogus"},
		{"-r", "/nonexistent.pcap"},
		{"conns", "-r", pcap, "--stable"},
		{"-r", pcap, "conns", "--stable"},
		{"conns", "--bogus"},
		{"lint", pcap},
		{"diff"},
		{"follow"},
		{"export"},
		{"report"},
		{"version"},
		{"--version"},
		{"--help"},
		{"conns", "-h"},
		{"help", "lint"},
		{"completion", "bash"},
		{"__complete", "co"},
		{"__complete", "--format", ""},
		{"__complete", "conns", "--"},
		{"-r", "conns"},
		{"-r", pcap, "-Y", "lint"},
		{"-r", pcap, "--keylog", "report"},
		{"--keylog", "report", "-r", pcap},
		{"-r", pcap, "--", "conns"},
		{"--", "conns"},
		{"conn"},
		{"cons", "-r", pcap},
		{pcap},
		{pcap, "conns"},
		{"-j", "1", "conns", "-r", pcap, "--stable"},
		{"-j", "2", "-r", pcap, "conns", "--stable"},
		{"--stable", "conns", "-r", pcap},
		{"help", "conns"},
		{"conns", "help"},
		{"-Eh"},
		{"--version", "conns"},
		{"-v", "conns"},
		{"version", "--version"},
		{"version", "extra"},
		{"__completeNoDesc", "conns", "--"},
		{"__complete", ""},
		{"-i", "lo0-nonexistent", "conns"},
		{"-i", "lo0-nonexistent", "tcp", "port", "80"},
		{"-D"},
		{"--fail-on", "warning", "lint", pcap},
		{"lint", "--fail-on", "warning", pcap},
		{"diff", pcap, pcap},
		{"conns", "-T", "fields", "-e", "file", "-r", pcap},
		{"follow", "-T", "x"},
		{"export", "-T", "x"},
		{"-r", pcap, "--format=conns"},
		{"--format", "lint", "-r", pcap},
		{"-c", "3", "-r", pcap, "--stable"},
	} {
		var out, errb bytes.Buffer
		code := Main(args, nil, &out, &errb)
		var wantOut, wantErr bytes.Buffer
		root := newRootCmd(nil, &wantOut, &wantErr)
		root.SetArgs(args)
		wantCode := exitCode(root.ExecuteContext(context.Background()), &wantErr)
		if code != wantCode || out.String() != wantOut.String() || errb.String() != wantErr.String() {
			t.Errorf("%q: exit %d, stdout %d bytes, stderr %q; the whole tree: exit %d, stdout %d bytes, stderr %q",
				args, code, out.Len(), errb.String(), wantCode, wantOut.Len(), wantErr.String())
		}
	}
}
